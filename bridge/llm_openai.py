"""``--llm openai``: a language model plans through the tool catalogue (official ``openai`` client).

The model gets the :class:`~twinsim.bridge.tools.Catalogue` as chat-completions ``tools`` and
calls them in a loop; each call is validated and run by the catalogue (the same code the MCP
server runs), and its JSON result — or its error message, so the model can correct itself —
goes back as a ``tool`` message. Any OpenAI-compatible server works (``base_url``: a local
vLLM, llama.cpp or Ollama server, ...).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twinsim.bridge.tools import Catalogue, ToolError

__all__ = ["SYSTEM_PROMPT", "ToolLoopResult", "ask_openai", "run_tool_loop"]

SYSTEM_PROMPT = (
    "You plan physics simulations with the twinsim tools. The physics engine (simulate, ask) "
    "is exact and labelled; the neural model (predict) is a learned guess; compare checks the "
    "guess against the engine. Build or pick a scene, render it, and answer the user with "
    "numbers taken from the tool results only (times in s, heights in m). Paths are relative "
    "to the workspace. The ask tool accepts simple English requests such as 'drop a red ball "
    "from 2 m onto a blue box'."
)
_MAX_RESULT_CHARS = 12_000


@dataclass
class ToolLoopResult:
    """The model's final reply and every tool call it made (name, arguments, result or error)."""

    text: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    turns: int = 0


def _client(base_url: str | None, api_key: str | None):
    from openai import OpenAI

    base_url = base_url or os.environ.get("OPENAI_BASE_URL")
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if key is None:
        if base_url is None:
            raise ValueError(
                "--llm openai needs OPENAI_API_KEY, or --base-url of an OpenAI-compatible "
                "server (a local server needs no key)"
            )
        key = "not-needed"  # local servers ignore it; the client insists on one
    return OpenAI(api_key=key, base_url=base_url, max_retries=0, timeout=120.0)


def run_tool_loop(
    text: str,
    catalogue: Catalogue,
    *,
    client: Any,
    model: str,
    max_turns: int = 8,
    system: str = SYSTEM_PROMPT,
) -> ToolLoopResult:
    """Let ``model`` answer ``text`` by calling ``catalogue``'s tools, for at most ``max_turns``
    model replies.

    Raises:
        RuntimeError: the model still asks for tools after ``max_turns`` replies.
    """
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        {"role": "user", "content": text},
    ]
    tools = catalogue.openai_tools()
    result = ToolLoopResult("")
    for turn in range(1, max_turns + 1):
        reply = client.chat.completions.create(model=model, messages=messages, tools=tools)
        msg = reply.choices[0].message
        result.turns = turn
        if not msg.tool_calls:
            result.text = msg.content or ""
            return result
        messages.append(
            {
                "role": "assistant",
                "content": msg.content,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.function.name, "arguments": c.function.arguments},
                    }
                    for c in msg.tool_calls
                ],
            }
        )
        for call in msg.tool_calls:
            record: dict[str, Any] = {
                "name": call.function.name,
                "arguments": call.function.arguments,
            }
            try:
                out = catalogue.call(call.function.name, call.function.arguments)
                record["result"] = out
                content = json.dumps(out)
            except ToolError as exc:
                record["error"] = str(exc)
                content = json.dumps({"error": str(exc)})
            if len(content) > _MAX_RESULT_CHARS:
                content = content[:_MAX_RESULT_CHARS] + '..." (truncated)'
            result.calls.append(record)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
    raise RuntimeError(f"the model still called tools after {max_turns} turns; giving up")


def _files_of(calls: list[dict[str, Any]], catalogue: Catalogue) -> dict[str, Path]:
    """Every file path the tool results name, keyed ``tool.key`` (the latest wins)."""
    files: dict[str, Path] = {}
    for call in calls:
        res = call.get("result") or {}
        items = dict(res.get("files") or {})
        items.update(
            {k: v for k, v in res.items() if k in ("video", "labels", "arrays", "spec_path")}
        )
        for key, rel in items.items():
            if isinstance(rel, str):
                try:
                    path = catalogue.workspace.resolve(rel, must_exist=True)
                except ValueError:
                    continue
                files["spec" if key == "spec_path" else key] = path
    return files


def ask_openai(
    text: str,
    *,
    out: str | Path | None = None,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    size: int = 128,
    max_turns: int = 8,
    client: Any = None,
):
    """:func:`twinsim.bridge.ask` with a language model as the planner.

    The output folder is the tools' workspace. ``Answer.text`` is the model's reply;
    ``Answer.tool_calls`` lists what it called; ``Answer.spec`` is the last scene rendered.
    """
    import tempfile

    from twinsim.bridge.ask_api import Answer, _write_json
    from twinsim.bridge.tools import Limits
    from twinsim.sim import SceneSpec

    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="twinsim-llm-"))
    catalogue = Catalogue(folder, Limits(max_size=max(size, 16)))
    model = model or os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
    client = client or _client(base_url, api_key)
    t0 = time.perf_counter()
    loop = run_tool_loop(text, catalogue, client=client, model=model, max_turns=max_turns)
    files = _files_of(loop.calls, catalogue)
    spec = None
    if "spec" in files:
        spec = SceneSpec.from_json(files["spec"].read_text(encoding="utf-8"))
    engine = any(c["name"] in ("simulate", "ask", "compare") and "result" in c for c in loop.calls)
    answer = Answer(
        text=loop.text,
        spec=spec,
        files=files,
        evidence={"turns": loop.turns},
        backend="engine" if engine else "none",
        reason=f"chosen by the language model {model} through the tool catalogue",
        planner=f"openai:{model}",
        request=text,
        seconds=time.perf_counter() - t0,
        tool_calls=loop.calls,
    )
    files["answer"] = _write_json(catalogue.workspace.root / "answer.json", answer.to_dict())
    return answer
