"""Benchmark `twinsim generate` against the raw PyBullet loop of the same scenes.

Measures frames/s of generate_dataset (64x64, TinyRenderer, rgb + depth + segmentation) with 1
and 2 local workers, and of the raw single-process loop (stepSimulation + one getCameraImage
per frame, same scenes, same camera and light, kinematic bodies moved along their paths) as the baseline; plus bytes per frame on disk.
Targets: 1 worker >= 80% of raw; 2 workers >= 1.7x 1 worker.
Prints a table and appends it to benchmarks/RESULTS.md.

Usage: python benchmarks/bench_generate.py [--scenes 24] [--frames 32] [--families a,b]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pybullet as p
from twinsim.sim import DatasetConfig, generate_dataset
from twinsim.sim.bodies import path_state
from twinsim.sim.camera import camera_pose_at
from twinsim.sim.dataset_scene import plan_scenes, scene_seed
from twinsim.sim.families import families, sample_scene
from twinsim.sim.render_tiny import gl_matrices
from twinsim.sim.world import World

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

LABELS = ("rgb", "depth", "segmentation")


def raw_loop(config: DatasetConfig) -> tuple[int, float]:
    """Frames and seconds of the bare PyBullet loop over the dataset's scenes (first attempts)."""
    from twinsim.sim.dataset_scene import clip_spec

    frames, t0 = 0, time.perf_counter()
    for task in plan_scenes(config):
        seed = scene_seed(config.seed, task.index, 0)
        spec = clip_spec(sample_scene(task.family, seed), config.frames, config.size)
        cam, light = spec.cameras[0], spec.light
        view, proj = gl_matrices(camera_pose_at(cam, 0.0))
        with World(spec) as world:
            c, dt, step = world.client, spec.world.timestep, 0
            # Kinematic bodies (the sliding occluder) move in the baseline too: same scenes.
            paths = [(world.body_id(o.name), o.path) for o in spec.objects if o.kinematic]
            for t in range(spec.world.num_frames):
                if t > 0:
                    for _ in range(spec.world.steps_per_frame):
                        p.stepSimulation(physicsClientId=c)
                        step += 1
                        for uid, path in paths:
                            pos, orn, _, _ = path_state(path, step * dt)
                            p.resetBasePositionAndOrientation(uid, pos, orn, physicsClientId=c)
                p.getCameraImage(
                    cam.width,
                    cam.height,
                    viewMatrix=view,
                    projectionMatrix=proj,
                    shadow=int(light.shadows),
                    lightDirection=list(light.direction),
                    lightColor=list(light.color),
                    lightAmbientCoeff=light.ambient,
                    lightDiffuseCoeff=light.diffuse,
                    lightSpecularCoeff=light.specular,
                    renderer=p.ER_TINY_RENDERER,
                    physicsClientId=c,
                )
                frames += 1
    return frames, time.perf_counter() - t0


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
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--families", default=None, help="default: first two families")
    ap.add_argument("--repeats", type=int, default=2, help="best of N runs")
    args = ap.parse_args()
    fams = tuple(args.families.split(",")) if args.families else tuple(families()[:2])
    base = {
        "families": fams,
        "scenes": args.scenes,
        "frames": args.frames,
        "size": 64,
        "labels": LABELS,
        "renderer": "tiny",
        "shard_size": 8,
    }
    load = os.getloadavg()
    raw = min(
        (raw_loop(DatasetConfig(**base, workers=1)) for _ in range(args.repeats)),
        key=lambda r: r[1],
    )
    rows = [("raw stepSimulation + getCameraImage (1 process)", raw[0], raw[1], None)]
    for w in (1, 2):
        best = min(
            (run_generate(DatasetConfig(**base, workers=w)) for _ in range(args.repeats)),
            key=lambda r: r[1],
        )
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
        f"{'+'.join(LABELS)}; best of {args.repeats}; load average before the run "
        f"{load[0]:.2f} (the 2 cores were shared with other jobs: timings are noisy).\n"
        f"Targets: 1 worker >= 0.80 x raw: {'met' if ok1 else 'NOT met'}; "
        f"2 workers >= 1.7 x 1 worker: {'met' if ok2 else 'NOT met'}.\n"
    )
    print(table + "\n" + notes)
    _common.append_results(
        "bench_generate: twinsim generate vs raw PyBullet loop",
        table + "\n" + notes,
        [" ".join(["python", *sys.argv])],
    )


if __name__ == "__main__":
    main()
