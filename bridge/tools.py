"""One catalogue of tools for language planners, shared by every front end (MCP, OpenAI, Python).

Each tool is a typed Python function; its JSON Schema is generated from the signature with
pydantic, and the same model validates every call. Per-call :class:`Limits` cap frames,
resolution, horizon, object count and wall time. Results are small JSON dicts; files go into a
:class:`~twinsim.bridge.tools_workspace.Workspace` folder and are returned as paths relative to
it. No tool evaluates code, and no path may leave the workspace.

    cat = Catalogue("ws")
    cat.call("simulate", {"family": "drop", "seed": 1, "frames": 24})
    cat.schemas()          # [{"name", "description", "input_schema"}, ...]
"""

from __future__ import annotations

import inspect
import json
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from twinsim.bridge.tools_methods import ToolMethods
from twinsim.bridge.tools_types import (
    Cap,
    Label,  # noqa: F401 (re-exported)
    Limits,
    ObjectArg,  # noqa: F401 (re-exported)
    Tool,
    ToolError,
)
from twinsim.bridge.tools_workspace import Workspace, WorkspaceError

__all__ = ["Cap", "Catalogue", "Limits", "Tool", "ToolError"]


def _description(fn: Callable) -> str:
    doc = inspect.getdoc(fn) or fn.__name__
    return doc.split("\n\n", 1)[0].replace("\n", " ")


def _capped(annotation: Any, limits: Limits) -> Any:
    """Replace :class:`Cap` markers by pydantic bounds read from ``limits``."""
    if get_origin(annotation) is not Annotated:
        return annotation
    base, *meta = get_args(annotation)
    out = []
    for m in meta:
        if isinstance(m, Cap):
            value = getattr(limits, m.limit)
            out.append(Field(le=value) if m.how == "le" else Field(max_length=value))
        else:
            out.append(m)
    return Annotated[(base, *out)]  # type: ignore[return-value]


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()

    def strip(node: Any) -> None:  # titles repeat the names; drop them to keep schemas small
        if isinstance(node, dict):
            node.pop("title", None)
            for k, v in node.items():
                if k != "properties":
                    strip(v)
                else:
                    for prop in v.values():
                        strip(prop)
        elif isinstance(node, list):
            for v in node:
                strip(v)

    strip(schema)
    return schema


def _run_with_deadline(fn: Callable[[], Any], seconds: float) -> Any:
    """Run ``fn`` in a daemon thread and give up waiting after ``seconds``."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, daemon=True, name="twinsim-tool").start()
    if not done.wait(seconds):
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box["value"]


class Catalogue(ToolMethods):
    """The tool catalogue over one workspace folder, with per-call limits.

    Args:
        workspace: folder (created if missing) the tools read from and write into.
        limits: per-call limits.
        model: the neural model name for predict/compare (a bundled name, default "cpu").
    """

    def __init__(
        self, workspace: str | Workspace, limits: Limits | None = None, model: str = "cpu"
    ) -> None:
        self.workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        self.limits = limits or Limits()
        self.model_name = model
        self._model = None
        self.tools: dict[str, Tool] = {}
        for name in (
            "list_families",
            "sample_scene",
            "build_scene",
            "simulate",
            "predict",
            "compare",
            "ask",
            "describe_rollout",
            "list_outputs",
        ):
            self._register(getattr(self, f"tool_{name}"), name)

    # -- registry ----------------------------------------------------------------------------

    def _register(self, fn: Callable[..., dict[str, Any]], name: str) -> None:
        fields: dict[str, Any] = {}
        caps: dict[str, str] = {}
        hints = get_type_hints(fn, include_extras=True)
        for p in inspect.signature(fn).parameters.values():
            default = ... if p.default is inspect.Parameter.empty else p.default
            hint = hints[p.name]
            for m in get_args(hint)[1:] if get_origin(hint) is Annotated else ():
                if isinstance(m, Cap):
                    caps[p.name] = m.limit
            fields[p.name] = (_capped(hint, self.limits), default)
        model = create_model(  # type: ignore[call-overload]
            f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields
        )
        self.tools[name] = Tool(name, _description(fn), fn, model, _schema(model), caps)

    def schemas(self) -> list[dict[str, Any]]:
        """``[{"name", "description", "input_schema"}]`` for every tool (MCP's shape)."""
        return [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema}
            for t in self.tools.values()
        ]

    def openai_tools(self) -> list[dict[str, Any]]:
        """The catalogue in the OpenAI chat-completions ``tools`` format."""
        return [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.input_schema,
                },
            }
            for t in self.tools.values()
        ]

    def call(self, name: str, arguments: dict[str, Any] | str | None = None) -> dict[str, Any]:
        """Validate ``arguments`` and run the tool ``name`` within the wall-time limit.

        Returns:
            The tool's small JSON result plus ``elapsed_ms`` (the tool's own compute time).

        Raises:
            ToolError: unknown tool, invalid arguments (each bad field named with the rule it
                breaks), a hostile path, a request over a limit, a timeout, or a failure the
                caller can fix (unknown family, missing file...).
        """
        tool = self.tools.get(name)
        if tool is None:
            raise ToolError(f"unknown tool {name!r}; valid tools: {', '.join(self.tools)}")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
            except json.JSONDecodeError as exc:
                raise ToolError(f"{name}: arguments are not valid JSON ({exc})") from None
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise ToolError(f"{name}: arguments must be a JSON object")
        try:
            args = tool.model.model_validate(arguments)
        except ValidationError as exc:
            problems = []
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"]) or "arguments"
                text = f"{where}: {e['msg']}"
                if e["type"] != "missing":
                    text += f" (got {json.dumps(e.get('input'), default=str)[:60]})"
                cap = tool.caps.get(str(e["loc"][0])) if e["loc"] else None
                if cap and e["type"] in ("less_than_equal", "too_long"):
                    text += f"; the per-call limit {cap} is {getattr(self.limits, cap)}"
                problems.append(text)
            raise ToolError(f"{name}: invalid arguments: {'; '.join(problems)}") from None
        kwargs = {k: getattr(args, k) for k in tool.model.model_fields}
        t0 = time.perf_counter()
        try:
            result = _run_with_deadline(lambda: tool.fn(**kwargs), self.limits.max_seconds)
        except TimeoutError:
            raise ToolError(
                f"{name}: timed out after {self.limits.max_seconds:g} s (the per-call limit "
                "max_seconds); ask for fewer frames, a smaller size or a shorter horizon"
            ) from None
        except (ToolError, WorkspaceError) as exc:
            raise ToolError(f"{name}: {exc}") from None
        except (ValueError, KeyError, FileNotFoundError, NotADirectoryError) as exc:
            msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            raise ToolError(f"{name}: {msg}") from None
        result["elapsed_ms"] = round((time.perf_counter() - t0) * 1000, 3)
        return result
