"""`--llm openai`: the real openai client's tool-calling loop against a scripted fake
chat-completions server on loopback (a real HTTP round trip)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from twinsim.bridge import ask


class FakeChatServer:
    """Speaks POST /v1/chat/completions on 127.0.0.1 and replies from a script."""

    def __init__(self, script: list[dict]) -> None:
        self.script = list(script)
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), **body}
                )
                if self.path != "/v1/chat/completions" or not outer.script:
                    self.send_response(404)
                    self.end_headers()
                    return
                message = outer.script.pop(0)
                reply = {
                    "id": f"chatcmpl-{len(outer.requests)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", **message},
                            "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _call(i: int, name: str, args: dict) -> dict:
    return {
        "id": f"call_{i}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }


def test_openai_tool_loop_round_trip(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    script = [
        {
            "content": None,
            "tool_calls": [_call(1, "simulate", {"family": "drop", "frames": 10**6})],
        },
        {
            "content": None,
            "tool_calls": [
                _call(2, "ask", {"text": "drop a red ball from 2 m onto a blue box", "size": 32}),
                _call(3, "list_families", {}),
            ],
        },
        {"content": "The red ball first touches the blue box at 0.62 s."},
    ]
    with FakeChatServer(script) as server:
        a = ask(
            "drop a red ball from 2 m onto a blue box",
            out=tmp_path,
            llm="openai",
            model="fake-model",
            base_url=server.url,
        )
    assert a.text == "The red ball first touches the blue box at 0.62 s."
    assert a.planner == "openai:fake-model" and a.backend == "engine"
    first, second, third = server.requests
    assert first["path"] == "/v1/chat/completions" and first["model"] == "fake-model"
    names = {t["function"]["name"] for t in first["tools"]}
    assert {"simulate", "ask", "compare", "predict", "build_scene"} <= names
    assert first["messages"][-1] == {
        "role": "user",
        "content": "drop a red ball from 2 m onto a blue box",
    }
    # the bad call's error went back to the model as a tool message, so it could correct itself
    tool_msg = second["messages"][-1]
    assert tool_msg["role"] == "tool" and tool_msg["tool_call_id"] == "call_1"
    assert "max_frames" in json.loads(tool_msg["content"])["error"]
    results = {
        m["tool_call_id"]: json.loads(m["content"])
        for m in third["messages"]
        if m["role"] == "tool"
    }
    assert "first touches the blue box" in results["call_2"]["text"]
    assert any(f["name"] == "drop" for f in results["call_3"]["families"])
    assert [c["name"] for c in a.tool_calls] == ["simulate", "ask", "list_families"]
    assert "error" in a.tool_calls[0] and "result" in a.tool_calls[1]
    assert a.files["video"].is_file() and a.spec is not None
    assert a.spec.object("red_ball").shape == "sphere"


def test_openai_loop_gives_up_after_max_turns(tmp_path):
    script = [{"content": None, "tool_calls": [_call(i, "list_families", {})]} for i in range(3)]
    with FakeChatServer(script) as server:
        from twinsim.bridge.llm_openai import ask_openai

        with pytest.raises(RuntimeError, match="after 2 turns"):
            ask_openai("hi", out=tmp_path, model="m", base_url=server.url, max_turns=2)


def test_openai_needs_a_key_or_a_server(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        ask("drop a ball from 1 m", out=tmp_path, llm="openai")
