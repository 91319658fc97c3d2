"""Bridge commands: ``twinsim demo`` (the main job) and ``twinsim compare``."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register"]


def _positive_int(value: str) -> int:
    try:
        v = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {value!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return v


def _threads(n: int) -> None:
    import torch

    # torch's default thread count oversubscribes small shared machines (a 16-frame prediction
    # took 10+ s with 2 threads under load, 0.6 s with 1)
    torch.set_num_threads(n or 1)


def _cmd_demo(args: argparse.Namespace) -> int:
    from twinsim.bridge.report_demo import run_demo

    _threads(args.threads)
    res = run_demo(args.out, requests=args.request or None, horizon=args.horizon, model=args.model)
    n = sum(len(s.findings) for s in res.sections)
    print(f"\nreport: {res.report.resolve()}")
    print(f"{len(res.sections)} sections, {n} physics findings, {res.seconds:.0f} s")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from twinsim.bridge.compare_api import compare
    from twinsim.sim import sample_scene

    _threads(args.threads)
    scene = args.scene
    if not scene.endswith(".json"):  # a family name
        scene = sample_scene(scene, args.seed, impossible=args.impossible)
    rep = compare(
        scene, args.horizon, args.context, start=args.start, model=args.model, out=args.out
    )
    if args.json:
        json.dump(rep.to_json(), sys.stdout, indent=2)
        print()
    else:
        print(rep.summary())
        if args.out:
            for name, path in rep.files.items():
                print(f"{name:12s} {path}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's sub-commands to the twinsim parser."""
    p = sub.add_parser(
        "demo",
        help="the main job: worded requests -> engine -> neural -> checked, one HTML report",
        description="Answer a few worded requests with the offline planner, render them with "
        "the engine, predict them with the bundled neural model, check the predictions against "
        "the engine's labels, and write one HTML report. Offline; about a minute on 2 cores.",
    )
    p.add_argument("--out", default="demo", help="output folder (default: demo)")
    p.add_argument(
        "--request",
        action="append",
        metavar="TEXT",
        help="a worded request (repeatable; default: four built-in ones)",
    )
    p.add_argument("--horizon", type=_positive_int, default=16, help="frames predicted (16)")
    p.add_argument("--model", default="cpu", help="bundled model: cpu, cpu-occlusion, cpu-keep")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "compare",
        help="engine vs neural on one scene: per-step error, physics findings, side-by-side video",
        description="Render SCENE with the engine, let the neural model predict it from the "
        "first CONTEXT frames, and check the prediction against the engine's labels.",
    )
    p.add_argument("scene", help="a scene spec .json or a family name (see `twinsim families`)")
    p.add_argument("--seed", type=int, default=0, help="seed when SCENE is a family")
    p.add_argument("--impossible", help="a family's violation kind (its impossible twin)")
    p.add_argument("--horizon", type=_positive_int, default=16, help="frames predicted (16)")
    p.add_argument("--context", type=_positive_int, help="engine frames given to the model")
    p.add_argument(
        "--start",
        type=int,
        default=0,
        help="scene frame of the first context frame (default 0; from a still context every "
        "predictor returns the still frame)",
    )
    p.add_argument("--model", default="cpu", help="bundled model: cpu, cpu-occlusion, cpu-keep")
    p.add_argument("--out", help="folder for compare.json, side_by_side.mp4/.webm, error.png")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.set_defaults(func=_cmd_compare)
