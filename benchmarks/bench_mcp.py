"""MCP round-trip overhead: a tool call through ``twinsim mcp`` over stdio minus the tool's own
compute time, p50 and p95 over N calls (target: p50 under 20 ms).

The server is started by the official SDK client as a subprocess, exactly as an MCP host would.
Each result carries ``elapsed_ms`` (the tool function's own time, measured in the server); the
overhead is the client's wall time for the call minus that. The baseline, measured in the same
run, is the same call made in-process through ``Catalogue.call`` (validation + compute, no
protocol), so the table also shows what MCP adds on top of calling Python directly.

    python benchmarks/bench_mcp.py [--calls 200]

Prints a markdown table and appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

# (tool, arguments): a no-compute listing and a seeded scene sample (a few ms of numpy)
CALLS = (
    ("list_families", {}),
    ("sample_scene", {"family": "drop", "seed": 1}),
)


def _pcts(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values)
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


async def _mcp(workspace: str, calls: int) -> dict[str, dict[str, list[float]]]:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "twinsim.cli", "mcp", "--workspace", workspace],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    out: dict[str, dict[str, list[float]]] = {}
    async with Client(params, read_timeout_seconds=120) as client:
        for name, args in CALLS:
            await client.call_tool(name, args)  # warm-up: imports, first-call caches
            wall, compute = [], []
            for _ in range(calls):
                t0 = time.perf_counter()
                res = await client.call_tool(name, args)
                wall.append((time.perf_counter() - t0) * 1000)
                if res.is_error:
                    raise RuntimeError(f"{name} failed: {res.content}")
                compute.append(float(res.structured_content["elapsed_ms"]))
            out[name] = {"wall": wall, "compute": compute}
    return out


def _direct(workspace: str, calls: int) -> dict[str, list[float]]:
    from twinsim.bridge.tools import Catalogue

    cat = Catalogue(workspace)
    out = {}
    for name, args in CALLS:
        cat.call(name, args)
        wall = []
        for _ in range(calls):
            t0 = time.perf_counter()
            cat.call(name, args)
            wall.append((time.perf_counter() - t0) * 1000)
        out[name] = wall
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=200, help="calls per tool (default 200)")
    ap.add_argument("--no-append", action="store_true", help="print only, do not touch RESULTS.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mcp-") as tmp:
        mcp = anyio.run(_mcp, str(Path(tmp) / "mcp"), args.calls)
        direct = _direct(str(Path(tmp) / "direct"), args.calls)
    rows = []
    for name, _ in CALLS:
        wall, compute = mcp[name]["wall"], mcp[name]["compute"]
        overhead = [w - c for w, c in zip(wall, compute, strict=True)]
        o50, o95 = _pcts(overhead)
        w50, _ = _pcts(wall)
        c50, _ = _pcts(compute)
        d50, _ = _pcts(direct[name])
        rows.append(
            (
                name,
                args.calls,
                round(c50, 3),
                round(d50, 3),
                round(w50, 2),
                round(o50, 2),
                round(o95, 2),
                "yes" if o50 < 20 else "no",
            )
        )
    table = _common.markdown_table(
        [
            "tool",
            "calls",
            "compute p50 (ms)",
            "in-process call p50 (ms, baseline)",
            "MCP call p50 (ms)",
            "MCP overhead p50 (ms)",
            "MCP overhead p95 (ms)",
            "p50 < 20 ms",
        ],
        rows,
    )
    print(table)
    if not args.no_append:
        path = _common.append_results(
            "MCP round-trip overhead (twinsim mcp over stdio, official SDK client)",
            table + "\n\nOverhead = client wall time per call minus the tool's own compute time "
            "(``elapsed_ms``, measured in the server). Shared 2-core machine (other jobs running).",
            [f"python benchmarks/bench_mcp.py --calls {args.calls}"],
        )
        print(f"appended to {path}")


if __name__ == "__main__":
    main()
