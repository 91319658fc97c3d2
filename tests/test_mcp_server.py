"""`twinsim mcp` end to end over stdio with the official MCP SDK client."""

from __future__ import annotations

import base64
import json
import os
import sys

import anyio
import pytest
from mcp import Client, MCPError, StdioServerParameters

pytestmark = pytest.mark.timeout(300)


def _params(workspace) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "twinsim.cli", "mcp", "--workspace", str(workspace), "--max-frames", "48",
              "--max-size", "64"],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip


def _text(result) -> str:
    return "".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def test_mcp_stdio_end_to_end(tmp_path):
    ws = tmp_path / "ws"
    out: dict = {}

    async def session() -> None:
        async with Client(_params(ws), read_timeout_seconds=240) as client:
            tools = (await client.list_tools()).tools
            out["tools"] = {t.name: t for t in tools}

            sim = await client.call_tool(
                "simulate", {"family": "drop", "seed": 1, "frames": 12, "size": 32}
            )
            out["simulate"] = sim

            out["ask"] = await client.call_tool(
                "ask", {"text": "drop a red ball from 2 m onto a blue box", "size": 32}
            )
            out["compare"] = await client.call_tool(
                "compare", {"family": "occlusion", "seed": 3, "horizon": 4}
            )
            out["bad_frames"] = await client.call_tool(
                "simulate", {"family": "drop", "frames": 10**6}
            )
            out["bad_path"] = await client.call_tool("simulate", {"spec_path": "../../etc/passwd"})
            out["bad_type"] = await client.call_tool("sample_scene", {"family": 3})
            out["unknown"] = await client.call_tool("no_such_tool", {})

            resources = (await client.list_resources()).resources
            out["resources"] = {r.name: r for r in resources}
            video = sim.structured_content["video"]
            out["video"] = await client.read_resource(f"twinsim://workspace/{video}")
            labels = sim.structured_content["labels"]
            out["labels"] = await client.read_resource(f"twinsim://workspace/{labels}")
            try:
                await client.read_resource("twinsim://workspace/../../etc/passwd")
            except MCPError as exc:
                out["escape"] = str(exc)

    anyio.run(session)

    tools = out["tools"]
    assert {"list_families", "simulate", "predict", "compare", "ask", "describe_rollout"} <= set(
        tools
    )
    assert tools["simulate"].input_schema["properties"]["frames"]["anyOf"][0]["maximum"] == 48

    sim = out["simulate"]
    assert not sim.is_error
    assert sim.structured_content["frames"] == 12
    assert json.loads(_text(sim))["folder"] == sim.structured_content["folder"]
    assert (ws / sim.structured_content["video"]).is_file()

    ask = out["ask"]
    assert not ask.is_error, _text(ask)
    assert "first touches the blue box" in ask.structured_content["text"]

    cmp = out["compare"].structured_content
    assert not out["compare"].is_error, _text(out["compare"])
    assert len(cmp["per_step"]) == 4 and "findings_total" in cmp
    assert (ws / cmp["files"]["video_mp4"]).is_file()

    assert out["bad_frames"].is_error and "max_frames is 48" in _text(out["bad_frames"])
    assert out["bad_path"].is_error and "'..'" in _text(out["bad_path"])
    assert out["bad_type"].is_error and "family" in _text(out["bad_type"])
    assert out["unknown"].is_error and "valid tools" in _text(out["unknown"])

    assert sim.structured_content["video"] in out["resources"]
    assert out["resources"][sim.structured_content["video"]].mime_type == "video/mp4"
    blob = out["video"].contents[0]
    data = base64.b64decode(blob.blob)
    assert (
        data[4:8] == b"ftyp" and len(data) == (ws / sim.structured_content["video"]).stat().st_size
    )
    labels = json.loads(out["labels"].contents[0].text)
    assert labels["spec"]["family"] == "drop"
    assert "'..'" in out["escape"]
