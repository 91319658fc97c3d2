"""Ablation of the world model's engine-label losses: train with and without each, evaluate alike.

Each variant is the ``cpu`` preset with one auxiliary loss switched off (``--set
train.X_weight=0``), plus one with every auxiliary loss off (pixels only) and the full recipe.
All variants train the same number of steps on the same data seed and are evaluated on the same
held-out scenes with ``twinsim eval`` (copy-last measured in the same run). Runs ``--jobs``
variants at a time, each on one thread.

    python benchmarks/bench_ablation.py [--steps 250] [--jobs 2] [--out runs/ablation]

Prints a markdown table and appends it to benchmarks/RESULTS.md. Short budgets rank the losses;
they do not reproduce the bundled model's figures (docs/neural.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

AUX = ("flow", "write", "recall", "keep")
VARIANTS: dict[str, tuple[str, ...]] = {
    "full (cpu preset)": (),
    **{f"no {a}": (a,) for a in AUX},
    "pixels only (no aux)": AUX,
}


def _slug(name: str) -> str:
    return name.split(" (")[0].replace(" ", "-")


def _run(cmd: list[str], log: Path) -> None:
    with log.open("w") as fh:
        rc = subprocess.call(cmd, stdout=fh, stderr=subprocess.STDOUT)
    if rc != 0:
        raise SystemExit(f"failed ({rc}): {' '.join(cmd)}; see {log}")


def variant(name: str, off: tuple[str, ...], args: argparse.Namespace) -> dict:
    run = Path(args.out) / _slug(name)
    run.mkdir(parents=True, exist_ok=True)
    sets = [x for a in off for x in ("--set", f"train.{a}_weight=0")]
    train = [
        sys.executable, "-m", "twinsim", "train", "--preset", "cpu", "--out", str(run / "run"),
        "--overwrite", "--steps", str(args.steps), "--scenes", str(args.scenes),
        "--minutes", str(args.minutes), "--threads", "1", *sets,
    ]  # fmt: skip
    t0 = time.perf_counter()
    _run(train, run / "train.log")
    ev = [
        sys.executable, "-m", "twinsim", "eval", "--ckpt", str(run / "run"), "--threads", "1",
        "--test-scenes", str(args.test_scenes), "--permanence-scenes", str(args.test_scenes),
        "--voe-items", str(args.voe_items), "--json", str(run / "eval.json"),
    ]  # fmt: skip
    _run(ev, run / "eval.log")
    out = json.loads((run / "eval.json").read_text())
    out["_minutes"] = (time.perf_counter() - t0) / 60
    return out


def row(name: str, ev: dict) -> list:
    mv = ev["prediction"]["moving"]
    model, copy = mv["model"], mv["copy_last"]
    mean_m = sum(model["psnr"]) / len(model["psnr"])
    mean_c = sum(copy["psnr"]) / len(copy["psnr"])
    ahead = sum(m > c for m, c in zip(model["psnr"], copy["psnr"], strict=True))
    voe = ev["voe"]["model"]
    return [
        name,
        f"{mean_m:.2f}",
        f"{mean_m - mean_c:+.2f}",
        f"{model['psnr_pooled_all'] - copy['psnr_pooled_all']:+.2f}",
        f"{ahead}/12",
        f"{ev['permanence']['model_gated']:.3f}",
        f"{voe['overall']:.3f}",
        " / ".join(f"{voe[k]:.2f}" for k in ev["voe"]["kinds"]),
        f"{ev['_minutes']:.1f}",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--steps", type=int, default=250, help="optimiser steps per variant")
    ap.add_argument("--scenes", type=int, default=160, help="training scenes per variant")
    ap.add_argument("--minutes", type=float, default=14.0, help="training budget per variant")
    ap.add_argument("--test-scenes", type=int, default=12, help="test and permanence scenes")
    ap.add_argument("--voe-items", type=int, default=24, help="balanced VoE items per kind")
    ap.add_argument("--jobs", type=int, default=2, help="variants trained at once")
    ap.add_argument("--only", default="", help="CSV of variant slugs (default: all)")
    ap.add_argument("--out", default="runs/ablation", help="folder for the runs")
    ap.add_argument("--no-append", action="store_true", help="print only, do not touch RESULTS.md")
    args = ap.parse_args()
    todo = dict(VARIANTS)
    if args.only:
        wanted = args.only.split(",")
        slugs = {_slug(n): n for n in VARIANTS}
        unknown = sorted(set(wanted) - set(slugs))
        if unknown:
            ap.error(f"unknown variants {unknown}; choose from {sorted(slugs)}")
        todo = {slugs[w]: VARIANTS[slugs[w]] for w in wanted}
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {n: pool.submit(variant, n, off, args) for n, off in todo.items()}
        results = {n: f.result() for n, f in futures.items()}
    rows = [row(n, ev) for n, ev in results.items()]
    table = _common.markdown_table(
        [
            "variant",
            "moving mean PSNR 1..12 (dB)",
            "vs copy-last",
            "pooled vs copy-last",
            "steps ahead",
            "permanence (gated)",
            "balanced VoE",
            "VoE per kind (" + ", ".join(next(iter(results.values()))["voe"]["kinds"]) + ")",
            "minutes",
        ],
        rows,
    )
    wall = time.perf_counter() - t0
    print(table)
    print(f"\n{wall / 60:.1f} min")
    if not args.no_append:
        cmd = "python benchmarks/bench_ablation.py " + " ".join(sys.argv[1:])
        note = (
            f"\n\n{args.steps} steps per variant on {args.scenes} scenes (data seed 0), "
            f"{args.jobs} at a time on one thread each; eval: {args.test_scenes} test and "
            f"permanence scenes, {args.voe_items} VoE items per kind (held-out seeds); "
            f"wall time {wall / 60:.1f} min\n"
        )
        _common.append_results(
            "World-model ablation of the engine-label losses (bench_ablation)", table + note, [cmd]
        )


if __name__ == "__main__":
    main()
