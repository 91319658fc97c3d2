"""Labelled frames per second of ``simulate`` per renderer and size, against a raw PyBullet loop.

The baseline, measured in the same run on the same scene, is the bare loop a user would write:
build the world, then per frame ``stepSimulation`` x steps_per_frame + one ``getCameraImage``
(TinyRenderer, same camera and light). Rows: each renderer with the default labels (rgb, depth,
segmentation, objects, camera), then the default labels plus flow, and plus visibility, each added
alone so their extra cost shows separately. Best of ``--repeats`` runs.

    python benchmarks/bench_render.py [--sizes 64,128,256] [--frames 48] [--repeats 3]

Prints a markdown table and appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from twinsim.sim import (
    DEFAULT_LABELS,
    ObjectSpec,
    SceneSpec,
    simulate,
)
from twinsim.sim.render.base import Renderer
from twinsim.sim.render.registry import get_renderer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

RENDERERS = ("tiny", "pyrender")
EXTRAS = ((), ("flow",), ("visibility",))


def _hand_scene() -> SceneSpec:
    """Fallback when no scene families are installed: two boxes collide, a ball drops."""
    objs = (
        ObjectSpec(
            "a", "box", (0.15, 0.15, 0.15), position=(-0.8, 0, 0.15), linear_velocity=(3, 0, 0)
        ),
        ObjectSpec(
            "b", "box", (0.15, 0.15, 0.15), position=(0.4, 0, 0.15), color=(0.2, 0.4, 0.9, 1)
        ),
        ObjectSpec("ball", "sphere", (0.12,), position=(0.0, 0.3, 1.0), color=(0.2, 0.8, 0.3, 1)),
    )
    return SceneSpec(objects=objs)


def base_scene(family: str, seed: int) -> tuple[SceneSpec, str]:
    """The benchmark scene and a short description of where it came from."""
    try:
        from twinsim.sim import family_names, sample_scene
    except ImportError:
        return _hand_scene(), "hand-built 3-body collision (no families installed)"
    if family not in family_names():
        return _hand_scene(), f"hand-built 3-body collision ({family!r} not a family)"
    return sample_scene(family, seed), f"family {family!r} seed {seed}"


def sized(spec: SceneSpec, px: int, frames: int) -> SceneSpec:
    """``spec`` rendered at px x px for exactly ``frames`` frames."""
    cam = dataclasses.replace(spec.cameras[0], width=px, height=px, path=())
    world = dataclasses.replace(spec.world, duration=(frames - 1) / spec.world.fps)
    return dataclasses.replace(spec, cameras=(cam,), world=world, violation=None)


def timed_simulate(spec: SceneSpec, renderer: Renderer, labels: tuple[str, ...]) -> float:
    """Seconds of one ``simulate`` call (world build included, as in ``_common.raw_loop``)."""
    t0 = time.perf_counter()
    simulate(spec, renderer=renderer, labels=labels)
    return time.perf_counter() - t0


def best(fn, repeats: int) -> float:
    return min(fn() for _ in range(repeats))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="64,128,256", help="square image sizes, CSV (px)")
    ap.add_argument("--frames", type=int, default=48, help="frames per run (default 48)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per cell; best is kept")
    ap.add_argument("--renderers", default=",".join(RENDERERS), help="CSV of renderer names")
    ap.add_argument("--family", default="collide", help="scene family (fallback: hand-built)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-append", action="store_true", help="print only, do not touch RESULTS.md")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    renderers = [r.strip() for r in args.renderers.split(",") if r.strip()]
    if args.frames < 2 or args.repeats < 1 or not sizes or min(sizes) < 1:
        ap.error("need --frames >= 2, --repeats >= 1 and positive --sizes")
    scene, origin = base_scene(args.family, args.seed)

    # One instance per backend, reused (as a dataset generator would): GL context creation and
    # shader compilation are paid once, in the untimed warm-up, not per run.
    instances = {n: get_renderer(n) for n in renderers}
    rows = []
    try:
        for px in sizes:
            spec = sized(scene, px, args.frames)
            warm = sized(scene, px, 2)
            _common.raw_loop(warm)
            for inst in instances.values():
                simulate(warm, renderer=inst, labels="all")
            raw = best(lambda spec=spec: _common.raw_loop(spec)[1], args.repeats)
            raw_fps = args.frames / raw
            rows.append(
                (
                    "raw loop (baseline)",
                    px,
                    "(rgb, depth, seg buffers)",
                    raw_fps,
                    1.0,
                    1e3 / raw_fps,
                    "",
                )
            )
            for name, inst in instances.items():
                base_ms = None
                for extra in EXTRAS:
                    labels = DEFAULT_LABELS + extra
                    sec = best(
                        lambda s=spec, r=inst, lb=labels: timed_simulate(s, r, lb), args.repeats
                    )
                    fps, ms = args.frames / sec, 1e3 * sec / args.frames
                    base_ms = base_ms or ms
                    desc = "default" if not extra else f"default + {extra[0]}"
                    added = f"{ms - base_ms:+.2f}" if extra else ""
                    rows.append((name, px, desc, fps, fps / raw_fps, ms, added))
                    print(
                        f"{name:9s} {px:4d}px {desc:24s} {fps:8.1f} fps {fps / raw_fps:6.3f}x raw"
                    )
    finally:
        for inst in instances.values():
            inst.close()

    headers = ["renderer", "px", "labels", "frames/s", "ratio vs raw", "ms/frame", "extra ms/frame"]
    table = _common.markdown_table(headers, rows)
    note = (
        f"Scene: {origin}, {len(scene.objects)} bodies, {args.frames} frames, "
        f"{scene.world.steps_per_frame} physics steps/frame; best of {args.repeats}. "
        "Default labels = "
        + "+".join(DEFAULT_LABELS)
        + "; flow and visibility are each added alone "
        "(extra ms/frame vs default); visibility renders each body alone. Renderer instances are "
        "reused across runs; world build is timed in both simulate and the raw loop."
    )
    print()
    print(note)
    print(table)
    if not args.no_append:
        cmd = "python benchmarks/bench_render.py " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        _common.append_results(
            "bench_render: labelled frames/s vs raw PyBullet loop",
            note + "\n\n" + table,
            [cmd.strip()],
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
