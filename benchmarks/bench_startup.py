"""CLI start-up: wall and CPU seconds of ``twinsim --help`` and ``twinsim families``.

The baseline, measured in the same run, is a bare ``python -c pass`` (interpreter start-up) and
``python -c "import numpy"``. On a busy machine wall time swells with the load; CPU time
(user + sys) is what a quiet machine would see as wall time. Best of ``--repeats`` runs.

    python benchmarks/bench_startup.py [--repeats 7]

Prints a markdown table and appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence

import _common

CASES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import numpy' (baseline)": [sys.executable, "-c", "import numpy"],
    "twinsim --help": [sys.executable, "-m", "twinsim.cli", "--help"],
    "twinsim families": [sys.executable, "-m", "twinsim.cli", "families"],
}


def _run(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + sys of the child) seconds of one run."""
    before = os.times()
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7, help="runs per command (best is kept)")
    ap.add_argument("--no-append", action="store_true", help="do not write RESULTS.md")
    args = ap.parse_args(argv)
    rows = []
    base_wall = base_cpu = None
    for name, cmd in CASES.items():
        runs = [_run(cmd) for _ in range(args.repeats)]
        wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        if base_wall is None:
            base_wall, base_cpu = wall, cpu
        rows.append((name, wall, cpu, wall / base_wall, cpu / max(base_cpu, 1e-3)))
    headers = ["command", "wall s", "cpu s", "wall / bare python", "cpu / bare python"]
    table = _common.markdown_table(headers, rows)
    note = f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    print(note)
    print(table)
    if not args.no_append:
        cmd = "python benchmarks/bench_startup.py " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        _common.append_results(
            "bench_startup: CLI start-up vs bare python", note + "\n\n" + table, [cmd.strip()]
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
