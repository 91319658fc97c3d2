"""Benchmark of the neural world model against its baselines, measured in one run.

Reports: the full ``twinsim eval`` tables (moving / still windows per step, permanence, balanced
VoE, shifted cameras, held-out real footage, each beside copy-last and linear from the same run)
and prediction throughput at 64x64 (batch 1 and 32) beside the engine's labelled frames/s.

    python benchmarks/bench_neural.py [--ckpt cpu] [--footage ../shared/footage]
    python benchmarks/bench_neural.py --throughput-only --threads 2

Prints a table and appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from twinsim.neural.clips import render_spec
from twinsim.neural.evaluate import EVAL_SEED, EvalConfig, evaluate, format_table
from twinsim.neural.predict import BUNDLED, WorldModel

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _common  # noqa: E402  (benchmarks/ helper: machine info, commit, RESULTS.md)


def throughput(
    models: dict[str, WorldModel],
    families: tuple[str, ...],
    scenes: int,
    rounds: int = 3,
    context: int = 4,
) -> dict[str, list[float]]:
    """Frames/s per round: the engine simulating and rendering *labelled* frames (rgb, depth,
    segmentation, as a dataset stores them), and each of ``models`` predicting from the same
    scenes (``{name}_fps_b1``, ``{name}_fps_b32``).

    The engine and the models take turns for ``rounds`` rounds: on a shared VM one timing of
    each varies by about 15 % from run to run, so a single pair could decide the comparison
    either way; report medians and ranges.
    """
    from twinsim.sim.families import sample_scene

    resolution = next(iter(models.values())).resolution
    specs = [sample_scene(families[i % len(families)], EVAL_SEED + i) for i in range(scenes)]
    labels = ("rgb", "depth", "segmentation")
    out: dict[str, list[float]] = {"engine_fps": []}
    ctx = None
    for _ in range(rounds):
        t0, frames, clips = time.perf_counter(), 0, []
        for spec in specs:
            rgb = render_spec(spec, resolution, frames=20, labels=labels).rgb
            frames += len(rgb)
            clips.append(rgb)
        out["engine_fps"].append(frames / (time.perf_counter() - t0))
        ctx = np.stack([c[:context] for c in clips]) if ctx is None else ctx
        for name, model in models.items():
            for bs in (1, 32):
                batch = np.concatenate([ctx] * (bs // len(ctx) + 1))[:bs]
                model.predict_batch(batch, 16)  # warm-up (and, compiled, the compiling)
                t0, n = time.perf_counter(), 0
                while time.perf_counter() - t0 < 3.0:
                    model.predict_batch(batch, 16)
                    n += bs * 16
                out.setdefault(f"{name}_fps_b{bs}", []).append(n / (time.perf_counter() - t0))
    return out


def _ratio(tp: dict[str, list[float]], key: str, base: str = "engine_fps") -> str:
    """Median of the per-round ratios ``key`` / ``base`` (each round timed both)."""
    return f"{np.median(np.divide(tp[key], tp[base])):.2f}"


def _train_minutes(ckpt: Path) -> str:
    info = ckpt / "train_info.json"
    if info.is_file():
        d = json.loads(info.read_text())
        cmd = d.get("command") or "; ".join(d.get("commands", []))
        return f"{d['minutes']:.1f} min, {d['steps']} steps ({cmd})"
    return "unknown (no train_info.json beside the checkpoint)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", default="cpu", help="checkpoint folder or bundled model name")
    ap.add_argument("--footage", default=str(HERE.parent.parent / "shared" / "footage"))
    ap.add_argument("--test-scenes", type=int, default=48)
    ap.add_argument("--permanence-scenes", type=int, default=40)
    ap.add_argument("--voe-items", type=int, default=48)
    ap.add_argument("--camera-shift", type=float, default=0.3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--throughput-only", action="store_true", help="skip the evaluation")
    ap.add_argument(
        "--compile",
        action="store_true",
        help="also time the model with inference.compile (torch.compile) in the same rounds",
    )
    ap.add_argument(
        "--carry-off",
        action="store_true",
        help="also time the model with inference.carry off in the same rounds",
    )
    ap.add_argument(
        "--context",
        type=int,
        default=4,
        help="frames the throughput's predictions start from (the carry rule needs 5+ to act)",
    )
    ap.add_argument(
        "--eval-json",
        help="reuse the JSON of a `twinsim eval` run of this checkpoint (baselines are in it, "
        "measured in that same run) instead of evaluating again",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = _common.load_world_model(args.ckpt)
    folder = BUNDLED[args.ckpt].folder if args.ckpt in BUNDLED else Path(args.ckpt)
    footage = args.footage if Path(args.footage).is_dir() else None
    cfg = EvalConfig(
        test_scenes=args.test_scenes,
        permanence_scenes=args.permanence_scenes,
        voe_items=args.voe_items,
        camera_shift=args.camera_shift,
    )
    t0 = time.perf_counter()
    res: dict = {}
    if args.eval_json:
        res = json.loads(Path(args.eval_json).read_text())
    elif not args.throughput_only:
        res = evaluate(model, None, footage, cfg)
    eval_s = time.perf_counter() - t0
    models = {"model": model}
    if args.compile:
        models["compiled"] = _common.load_world_model(args.ckpt, compile=True)
    if args.carry_off:
        models["no_carry"] = _common.load_world_model(args.ckpt, carry=False)
    tp = throughput(models, cfg.families, 8, context=args.context)
    cmd = " ".join(sys.argv[1:])
    lines = [
        f"\n## bench_neural — {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"machine: {_common.machine_line()}; commit {_common.git_commit()}; torch threads "
        f"{args.threads}; load average before the run {os.getloadavg()[0]:.2f}",
        f"command: python benchmarks/bench_neural.py {cmd}",
        f"checkpoint training: {_train_minutes(folder)}; inference settings {model.inference}",
        "",
        f"throughput at {model.resolution}x{model.resolution}, 16 frames from {args.context}, "
        "median (min-max) of "
        f"{len(tp['engine_fps'])} interleaved rounds: engine + TinyRenderer, labelled (rgb, "
        f"depth, segmentation) {_common.spread(tp['engine_fps'])} frames/s; model batch 1 "
        f"{_common.spread(tp['model_fps_b1'])} frames/s ({_ratio(tp, 'model_fps_b1')}x engine), "
        f"batch 32 {_common.spread(tp['model_fps_b32'])} frames/s ({_ratio(tp, 'model_fps_b32')}x "
        "engine)",
    ]
    if "compiled_fps_b1" in tp:
        lines.append(
            f"with inference.compile (torch.compile, same rounds): batch 1 "
            f"{_common.spread(tp['compiled_fps_b1'])} frames/s "
            f"({_ratio(tp, 'compiled_fps_b1', 'model_fps_b1')}x uncompiled, "
            f"{_ratio(tp, 'compiled_fps_b1')}x engine), batch 32 "
            f"{_common.spread(tp['compiled_fps_b32'])} frames/s "
            f"({_ratio(tp, 'compiled_fps_b32', 'model_fps_b32')}x uncompiled, "
            f"{_ratio(tp, 'compiled_fps_b32')}x engine)"
        )
    if "no_carry_fps_b1" in tp:
        lines.append(
            f"with inference.carry off (same rounds): batch 1 "
            f"{_common.spread(tp['no_carry_fps_b1'])} frames/s "
            f"(on / off {_ratio(tp, 'model_fps_b1', 'no_carry_fps_b1')}), batch 32 "
            f"{_common.spread(tp['no_carry_fps_b32'])} frames/s "
            f"(on / off {_ratio(tp, 'model_fps_b32', 'no_carry_fps_b32')})"
        )
    if res:
        lines += [
            f"evaluation: {'reused ' + args.eval_json if args.eval_json else f'{eval_s / 60:.1f} min'}",
            "",
            "```",
            format_table(res),
            "```",
        ]
    text = "\n".join(lines)
    print(text)
    _common.append_results(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
