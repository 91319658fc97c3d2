"""``twinsim mcp``: the tool catalogue as an MCP server over stdio (official ``mcp`` SDK).

Tools are the :class:`~twinsim.bridge.tools.Catalogue`'s, with the same JSON Schemas and
validation. Files the tools write (videos, labels, reports) are resources with URIs
``twinsim://workspace/<relative path>``. A bad call returns an error result (``isError``) whose
text names the problem; the server keeps running.

Configure a client (e.g. Claude Desktop's ``mcpServers``)::

    {"twinsim": {"command": "twinsim", "args": ["mcp", "--workspace", "/path/to/ws"]}}
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
from importlib import metadata
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from twinsim.bridge.tools import Catalogue, ToolError
from twinsim.bridge.tools_workspace import WorkspaceError

__all__ = ["RESOURCE_PREFIX", "build_server", "run_stdio"]

RESOURCE_PREFIX = "twinsim://workspace/"
_TEXT_TYPES = ("application/json", "text/html", "text/markdown", "text/plain", "text/csv")
_MAX_RESOURCE_BYTES = 50_000_000
log = logging.getLogger(__name__)

_INSTRUCTIONS = (
    "twinsim: a physics engine (exact, labelled) and a neural video world model (a learned "
    "guess). Start with list_families or ask('drop a red ball from 2 m onto a blue box'); "
    "simulate renders a scene with labels; predict runs the neural model; compare checks the "
    "model against the engine. Paths are relative to the workspace; produced files are "
    "resources (twinsim://workspace/PATH)."
)


def _version() -> str:
    try:
        return metadata.version("twinsim")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def _mime(name: str) -> str:
    if name.endswith(".npz"):
        return "application/octet-stream"
    if name.endswith(".md"):
        return "text/markdown"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def build_server(catalogue: Catalogue) -> Server:
    """An MCP :class:`~mcp.server.Server` exposing ``catalogue``'s tools and workspace files."""
    ws = catalogue.workspace

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=s["name"], description=s["description"], input_schema=s["input_schema"]
                )
                for s in catalogue.schemas()
            ]
        )

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            result = await anyio.to_thread.run_sync(
                catalogue.call, params.name, dict(params.arguments or {})
            )
        except ToolError as exc:
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=str(exc))], is_error=True
            )
        except Exception as exc:  # a bug, not the caller's fault: say so, keep serving
            log.exception("tool %s failed", params.name)
            return types.CallToolResult(
                content=[
                    types.TextContent(type="text", text=f"{params.name}: internal error: {exc!r}")
                ],
                is_error=True,
            )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(result))],
            structured_content=result,
        )

    async def list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
        resources = []
        for path in ws.files():
            rel = ws.relative(path)
            resources.append(
                types.Resource(
                    uri=RESOURCE_PREFIX + rel,
                    name=rel,
                    mime_type=_mime(rel),
                    size=path.stat().st_size,
                )
            )
        return types.ListResourcesResult(resources=resources)

    async def read_resource(
        ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        if not uri.startswith(RESOURCE_PREFIX):
            raise MCPError(
                code=types.INVALID_PARAMS,
                message=f"unknown resource {uri!r}; URIs start with {RESOURCE_PREFIX}",
            )
        rel = unquote(uri[len(RESOURCE_PREFIX) :])
        try:
            path = ws.resolve(rel, must_exist=True)
        except WorkspaceError as exc:
            raise MCPError(code=types.INVALID_PARAMS, message=str(exc)) from None
        if not path.is_file():
            raise MCPError(code=types.INVALID_PARAMS, message=f"{rel!r} is not a file")
        if path.stat().st_size > _MAX_RESOURCE_BYTES:
            raise MCPError(code=types.INVALID_PARAMS, message=f"{rel!r} is larger than 50 MB")
        mime = _mime(rel)
        data = path.read_bytes()
        if mime in _TEXT_TYPES:
            content: Any = types.TextResourceContents(
                uri=uri, text=data.decode("utf-8"), mime_type=mime
            )
        else:
            content = types.BlobResourceContents(
                uri=uri, blob=base64.b64encode(data).decode("ascii"), mime_type=mime
            )
        return types.ReadResourceResult(contents=[content])

    return Server(
        "twinsim",
        version=_version(),
        instructions=_INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )


def run_stdio(catalogue: Catalogue) -> None:
    """Serve ``catalogue`` over stdin/stdout until the client closes the connection."""
    server = build_server(catalogue)

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(main)
