"""Benchmark `twinsim generate` against the raw PyBullet loop of the same scenes.

Measures frames/s of generate_dataset (64x64, TinyRenderer, rgb + depth + segmentation) with 1
and 2 local workers, and of the raw single-process loop (stepSimulation + one getCameraImage
per frame, same scenes, same camera and light, kinematic bodies moved along their paths) as the baseline; plus bytes per frame on disk.
Targets: 1 worker >= 80% of raw; 2 workers >= 1.7x 1 worker.
Prints a table and appends it to benchmarks/RESULTS.md.

Usage: python benchmarks/bench_generate.py [--scenes 24] [--frames 48] [--families a,b] [--no-append]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from twinsim.sim import DatasetConfig, generate_dataset
from twinsim.sim.datasets.scene import plan_scenes, scene_seed
from twinsim.sim.families import family_names, sample_scene

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

LABELS = ("rgb", "depth", "segmentation")


def raw_loop(config: DatasetConfig) -> tuple[int, float]:
    """Frames and seconds of the bare PyBullet loop over the dataset's scenes (first attempts)."""
    from twinsim.sim.datasets.scene import clip_spec

    frames, secs = 0, 0.0
    for task in plan_scenes(config):
        seed = scene_seed(config.seed, task.index, 0)
        n, s = _common.raw_loop(
            clip_spec(sample_scene(task.family, seed), config.frames, config.size)
        )
        frames, secs = frames + n, secs + s
    return frames, secs


def run_generate(config: DatasetConfig) -> tuple[int, float, float]:
    """Frames, seconds and bytes/frame of one generate_dataset run into a temp dir."""
    tmp = Path(tempfile.mkdtemp(prefix="bench_generate_"))
    try:
        t0 = time.perf_counter()
        s = generate_dataset(config, tmp / "d", progress=False)
        return s.frames, time.perf_counter() - t0, s.bytes_per_frame
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=24)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--families", default=None, help="default: first two families")
    ap.add_argument("--repeats", type=int, default=2, help="best of N runs")
    ap.add_argument(
        "--shard-size",
        type=int,
        default=4,
        help="scenes per shard; with several workers a shard is the unit of work",
    )
    ap.add_argument("--no-append", action="store_true", help="print only, do not touch RESULTS.md")
    args = ap.parse_args()
    fams = tuple(args.families.split(",")) if args.families else tuple(family_names()[:2])
    base = {
        "families": fams,
        "scenes": args.scenes,
        "frames": args.frames,
        "size": 64,
        "labels": LABELS,
        "renderer": "tiny",
        "shard_size": args.shard_size,
    }
    load = os.getloadavg()
    # Rounds interleave the three runs so that a slow spell of a shared host hits all of them.
    runs: dict[str, list] = {"raw": [], "w1": [], "w2": []}
    for _ in range(args.repeats):
        runs["raw"].append(raw_loop(DatasetConfig(**base, workers=1)))
        for w in (1, 2):
            runs[f"w{w}"].append(run_generate(DatasetConfig(**base, workers=w)))
    raw = min(runs["raw"], key=lambda r: r[1])
    rows = [("raw stepSimulation + getCameraImage (1 process)", raw[0], raw[1], None)]
    for w in (1, 2):
        best = min(runs[f"w{w}"], key=lambda r: r[1])
        rows.append((f"twinsim generate --workers {w}", *best))
    raw_fps = raw[0] / raw[1]
    fps1 = rows[1][1] / rows[1][2]
    table = _common.markdown_table(
        ["run", "frames", "s", "frames/s", "vs raw", "vs 1 worker", "bytes/frame"],
        [
            (
                name,
                frames,
                secs,
                frames / secs,
                frames / secs / raw_fps,
                frames / secs / fps1,
                "" if bpf is None else f"{bpf:.0f}",
            )
            for name, frames, secs, bpf in rows
        ],
    )
    ok1 = fps1 / raw_fps >= 0.8
    ok2 = (rows[2][1] / rows[2][2]) / fps1 >= 1.7
    notes = (
        f"\n{args.scenes} scenes x {args.frames} frames of {','.join(fams)}, 64x64, tiny, "
        f"{'+'.join(LABELS)}, {args.shard_size} scenes per shard; best of {args.repeats} interleaved rounds; load average before the run "
        f"{load[0]:.2f} (timings on a shared machine are noisy).\n"
        f"Targets: 1 worker >= 0.80 x raw: {'met' if ok1 else 'NOT met'}; "
        f"2 workers >= 1.7 x 1 worker: {'met' if ok2 else 'NOT met'}.\n"
    )
    print(table + "\n" + notes)
    if args.no_append:
        return
    _common.append_results(
        "bench_generate: twinsim generate vs raw PyBullet loop",
        table + "\n" + notes,
        [" ".join(["python", *sys.argv])],
    )


if __name__ == "__main__":
    main()
