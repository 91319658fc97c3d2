"""Planner front ends: ``twinsim ask "..."`` and ``twinsim mcp`` (MCP server over stdio)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["register"]


def _set_threads(n: int) -> None:
    """Torch's default thread count oversubscribes small machines (a 4-frame prediction took
    36 s with 2 threads on a loaded 2-core box, 0.5 s with 1): set it before torch loads."""
    if n < 1:
        raise ValueError(f"--threads must be >= 1, got {n}")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    else:
        os.environ["OMP_NUM_THREADS"] = str(n)


def _cmd_ask(args: argparse.Namespace) -> int:
    from twinsim.bridge.ask_api import ask
    from twinsim.bridge.grammar import PlannerError

    _set_threads(args.threads)
    text = " ".join(args.text)
    out = args.out
    if out is None:
        from twinsim.bridge.ask_api import _slug

        out = Path("asks") / _slug(text)
    try:
        answer = ask(
            text,
            out=out,
            backend=args.backend,
            size=args.size,
            llm=args.llm,
            model=args.model,
            base_url=args.base_url,
        )
    except PlannerError as exc:  # not an error of the program: say what is understood
        print(str(exc), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2))
        return 0
    print(answer.text)
    print(f"[{answer.planner}; backend {answer.backend}: {answer.reason}]")
    for name, path in answer.files.items():
        print(f"{name:>8}: {path}")
    return 0


def _cmd_mcp(args: argparse.Namespace) -> int:
    from twinsim.bridge.mcp_server import run_stdio
    from twinsim.bridge.tools import Catalogue, Limits

    _set_threads(args.threads)
    limits = Limits(
        max_frames=args.max_frames,
        max_size=args.max_size,
        max_horizon=args.max_horizon,
        max_objects=args.max_objects,
        max_seconds=args.max_seconds,
    )
    catalogue = Catalogue(args.workspace, limits, model=args.model)
    print(f"twinsim mcp: serving on stdio, workspace {catalogue.workspace.root}", file=sys.stderr)
    run_stdio(catalogue)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``ask`` and ``mcp`` to the twinsim parser."""
    p = sub.add_parser(
        "ask",
        help="ask in words: a scene rendered by the engine, answered in numbers from its labels",
        description="Parse a worded request with the offline grammar planner (or a language "
        "model with --llm openai), render it and answer from the engine's labels. Examples: "
        "'drop a red ball from 2 m onto a blue box', 'will this tower of 5 boxes fall?', "
        "'what happens next in clip.mp4, 16 frames'. See docs/bridge-planner.md.",
    )
    p.add_argument("text", nargs="+", help="the request (quote it)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default asks/<text>)")
    p.add_argument(
        "--backend", choices=("auto", "engine", "neural"), default="auto", help="default auto"
    )
    p.add_argument("--size", type=int, default=128, help="frame side in pixels (default 128)")
    p.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument(
        "--llm",
        choices=("openai",),
        default=None,
        help="plan with a language model through an OpenAI-compatible server (default: the "
        "offline grammar planner, no network)",
    )
    p.add_argument("--model", default=None, help="--llm model name (default $OPENAI_MODEL)")
    p.add_argument(
        "--base-url", default=None, help="--llm server URL (default $OPENAI_BASE_URL or OpenAI)"
    )
    p.set_defaults(func=_cmd_ask)

    p = sub.add_parser(
        "mcp",
        help="serve the tool catalogue to language planners over MCP (stdio)",
        description="Run an MCP server over stdin/stdout (official mcp SDK). Tools: "
        "list_families, sample_scene, build_scene, simulate, predict, compare, ask, "
        "describe_rollout, list_outputs; produced files are resources.",
    )
    p.add_argument(
        "--workspace",
        type=Path,
        default=Path("mcp-workspace"),
        help="folder the tools read and write (default ./mcp-workspace)",
    )
    p.add_argument("--model", default="cpu", help="bundled neural model (default cpu)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--max-frames", type=int, default=240, help="per-call frame limit")
    p.add_argument("--max-size", type=int, default=256, help="per-call frame side limit (px)")
    p.add_argument("--max-horizon", type=int, default=64, help="per-call prediction horizon")
    p.add_argument("--max-objects", type=int, default=16, help="per-call body count limit")
    p.add_argument("--max-seconds", type=float, default=120.0, help="per-call wall-time limit")
    p.set_defaults(func=_cmd_mcp)
