"""Neural world-model commands: ``twinsim train``, ``twinsim eval``, ``twinsim predict``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["register"]

DEFAULT_THREADS = max(1, (os.cpu_count() or 2) // 2)


class _HelpLater(str):
    """Help text argparse formats only when shown, so building the parser imports no torch."""

    def __new__(cls, make: Callable[[], str]) -> _HelpLater:
        text = super().__new__(cls, "...")
        text._make = make
        return text

    def __mod__(self, params: object) -> str:
        return self._make() % params


def _preset_help() -> str:
    from twinsim.neural.presets import PRESETS

    return "config preset: " + ", ".join(PRESETS) + " (default %(default)s)"


def _positive(value: str) -> float:
    try:
        v = float(value)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {value!r}")
    return v


def _int_in(lo: int, hi: int):
    """argparse type: an integer in [lo, hi] (the error names the range)."""

    def parse(value: str) -> int:
        try:
            v = int(value)
        except ValueError:
            v = None
        if v is None or not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer in [{lo}, {hi}], got {value!r}")
        return v

    parse.__name__ = "integer"
    return parse


MAX_SEED = 2**62  # seed + scene index stays a valid 63-bit spec seed


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from twinsim.neural.presets import preset
    from twinsim.neural.train import train

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = preset(args.preset)
    data, tr = cfg.data, cfg.train
    if args.families:
        data = dataclasses.replace(data, families=tuple(args.families.split(",")))
    if args.scenes is not None:
        data = dataclasses.replace(data, scenes=args.scenes)
    if args.seed is not None:
        data = dataclasses.replace(data, seed=args.seed)
        tr = dataclasses.replace(tr, seed=args.seed)
    if args.steps is not None:
        tr = dataclasses.replace(tr, steps=args.steps)
    if args.footage is None:
        data = dataclasses.replace(data, real_fraction=0.0)
    elif args.real_fraction is not None:
        data = dataclasses.replace(data, real_fraction=args.real_fraction)
    cfg = cfg.replace(data=data, train=tr).override(args.set)
    res = train(cfg, args.out, args.data, args.footage, args.resume, args.device, args.minutes,
                overwrite=args.overwrite)  # fmt: skip
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 reports
        return 0
    print(
        f"trained {res.steps} steps in {res.seconds / 60:.1f} min: loss {res.first_loss:.5f} -> "
        f"{res.last_loss:.5f}; val PSNR {res.val_psnr:.2f} dB (copy-last {res.val_copy_last_psnr:.2f})"
    )
    print(f"checkpoint: {res.run_dir}/last.json")
    return 0


def _load_model(args: argparse.Namespace):
    """The checkpoint of ``--ckpt`` (or a bundled model's name) with ``--set inference.*``."""
    from twinsim.neural.config import InferenceConfig
    from twinsim.neural.predict import BUNDLED, WorldModel, load_pretrained

    if args.ckpt in BUNDLED and not Path(args.ckpt).exists():
        base = BUNDLED[args.ckpt].inference
        settings = base.override(args.set).__dict__
        return load_pretrained(args.ckpt, args.device, **settings)
    settings = InferenceConfig().override(args.set).__dict__
    return WorldModel.load(args.ckpt, args.device, **settings)


def _cmd_eval(args: argparse.Namespace) -> int:
    import torch

    from twinsim.neural.evaluate import EvalConfig, evaluate, format_table
    from twinsim.sim.fileio import write_text

    if args.threads:
        torch.set_num_threads(args.threads)
    model = _load_model(args)
    cfg = EvalConfig(
        test_scenes=args.test_scenes,
        permanence_scenes=args.permanence_scenes,
        voe_items=args.voe_items,
        seed=args.seed,
        camera_shift=args.camera_shift,
        minutes=args.minutes,
    )
    results = evaluate(model, args.data, args.footage, cfg, split=args.split)
    print(format_table(results))
    if args.json:
        write_text(args.json, json.dumps(results, indent=2, default=str) + "\n")
        print(f"wrote {args.json}")
    return 0


def _side_by_side(truth, pred, context: int, scale: int = 4):
    """Frames truth | prediction | error (x4 amplified); context frames show truth twice."""
    import numpy as np

    rows = []
    for t in range(len(truth)):
        gt = truth[t]
        if t < context:
            pr, err = gt, np.zeros_like(gt)
        else:
            pr = pred[t - context]
            err = np.clip(np.abs(gt.astype(int) - pr.astype(int)) * 4, 0, 255).astype(np.uint8)
        rows.append(np.concatenate([gt, pr, err], axis=1))
    out = np.stack(rows)
    return out.repeat(scale, axis=1).repeat(scale, axis=2)


def _cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from twinsim.sim.budget import check_memory
    from twinsim.sim.fileio import write_mp4

    if args.context < 1 or args.horizon < 1:
        raise ValueError("--context and --horizon must be >= 1")
    if args.samples != 1 and args.backend != "hybrid":
        raise ValueError("--samples is for --backend hybrid (the pixel model is deterministic)")
    model = _load_model(args) if args.backend != "hybrid" else None
    if args.backend == "auto":
        args.backend = _auto_backend(args, model)
    if args.backend == "hybrid":
        return _cmd_predict_hybrid(args)
    need = args.start + args.context + args.horizon
    side = model.resolution * 4  # the video's frames: 3 panels, each upscaled x4
    check_memory(
        need * model.resolution**2 * 3 * 8 + need * side * side * 3 * 3 * 2,
        f"predict of {need} frames",
        "lower --horizon or --start",
    )
    if args.video:
        from twinsim.neural.footage import decode_video

        frames = decode_video(args.video, model.resolution, max_frames=need)
    else:
        from twinsim.commands.sim_cmds import load_scene
        from twinsim.neural.clips import render_spec

        spec = load_scene(args.scene, args.seed, args.impossible)
        frames = render_spec(spec, model.resolution, frames=need).rgb
    frames = frames[args.start :]
    if len(frames) < args.context:
        raise ValueError(
            f"only {len(frames)} frames after --start {args.start}; need {args.context}"
        )
    pred = model.predict(frames[: args.context], args.horizon)
    truth = frames[: args.context + args.horizon]
    if len(truth) < args.context + args.horizon:  # no truth left: show black there
        pad = np.zeros((args.context + args.horizon - len(truth), *truth.shape[1:]), np.uint8)
        truth = np.concatenate([truth, pad])
    video = _side_by_side(truth, pred, args.context)
    out = write_mp4(args.out, video, args.fps)
    sheet = out.with_suffix(".png")
    _write_png(sheet, _contact_sheet(truth, pred, args.context))
    print(f"wrote {out} ({len(video)} frames: truth | prediction | error x4)", file=sys.stdout)
    print(f"wrote {sheet} (contact sheet: row 1 truth, row 2 prediction, every predicted frame)")
    return 0


def _auto_backend(args: argparse.Namespace, model) -> str:
    """``--backend auto``: the bridge's rule for raw frames on the context (a hindcast of its
    last frames by the hybrid and the neural model, when there are enough), said on stdout."""
    from twinsim.bridge import choose_backend
    from twinsim.commands.hybrid_predict import load_clip

    frames, camera = load_clip(args)
    context = frames[: args.context]
    backend, reason = choose_backend(
        context, args.horizon, want_labels=False, exact=False, model=model,
        context=len(context), camera=camera,
    )  # fmt: skip
    print(f"auto: {reason.split('; ', 1)[-1]}")  # the first clause is the bridge's "raw frames"
    return backend


def _contact_sheet(truth, pred, context: int, scale: int = 2):
    """Two rows: the true frames after the context, and the predicted ones (1 px gaps)."""
    import numpy as np

    h = len(pred)
    t = truth[context : context + h]
    gap = np.full((t.shape[1], 1, 3), 255, np.uint8)

    def row(frames):
        return np.concatenate([x for f in frames for x in (f, gap)][:-1], axis=1)

    r1, r2 = row(t), row(pred)
    sheet = np.concatenate([r1, np.full((1, r1.shape[1], 3), 255, np.uint8), r2], axis=0)
    return sheet.repeat(scale, axis=0).repeat(scale, axis=1)


def _write_png(path: Path, image) -> None:
    import imageio.v3 as iio

    from twinsim.sim.fileio import write_bytes

    write_bytes(path, iio.imwrite("<bytes>", image, extension=".png"))


def _cmd_predict_hybrid(args: argparse.Namespace) -> int:
    """``twinsim predict --backend hybrid``: frames -> estimated spec -> engine -> video."""
    from twinsim.commands.hybrid_predict import write_hybrid_prediction

    return write_hybrid_prediction(args)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's sub-commands to the twinsim parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="torch device")
    common.add_argument(
        "--threads",
        type=_int_in(0, 1024),
        default=DEFAULT_THREADS,
        help=f"torch CPU threads (default {DEFAULT_THREADS}: half the cores; torch's own default, "
        "all cores, ran 6-9x slower while other work shared the CPU; 0: torch's default)",
    )

    p = sub.add_parser("train", parents=[common], help="train the neural world model",
                       description="Train the flow + memory world model (docs/neural.md).")  # fmt: skip
    p.add_argument("--preset", default="cpu", help=_HelpLater(_preset_help))
    p.add_argument("--data", help="dataset DIR from `twinsim generate` (default: simulate "
                   "scenes of the preset's families on the fly)")  # fmt: skip
    p.add_argument("--footage", help="folder of real videos / image sequences to mix in")
    p.add_argument("--real-fraction", type=float, help="share of real clips per batch")
    p.add_argument("--out", required=True, help="run folder (checkpoints, logs)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.json")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run in a non-empty OUT (its checkpoints, logs, config)")  # fmt: skip
    p.add_argument("--minutes", type=_positive, help="wall-clock budget; checkpoints and stops")
    p.add_argument("--steps", type=_int_in(1, 10**9), help="override the preset's optimiser steps")
    p.add_argument("--scenes", type=_int_in(1, 10**7), help="override the generated scene count")
    p.add_argument("--families", help="comma-separated families for generated scenes")
    p.add_argument("--seed", type=_int_in(0, MAX_SEED), help="data and training seed")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                   help="override one config field after the other options, e.g. "
                   "--set train.keep_weight=0.1 (repeatable; VALUE is JSON)")  # fmt: skip
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("eval", parents=[common], help="evaluate a world-model checkpoint",
                       description="Prediction quality, permanence, VoE and real footage, "
                       "with copy-last and linear baselines.")  # fmt: skip
    p.add_argument("--ckpt", default="cpu", help="checkpoint folder, run folder, .safetensors "
                   "or a bundled model's name (default: cpu, the bundled default)")  # fmt: skip
    p.add_argument("--data", help="dataset DIR (its --split); default: simulate test scenes")
    p.add_argument("--split", default="test", help="dataset split to evaluate: test or ood")
    p.add_argument("--footage", help="real footage folder (held-out clips are evaluated)")
    p.add_argument("--json", help="also write the results as JSON here")
    p.add_argument("--test-scenes", type=_int_in(0, 10**6), default=48,
                   help="synthetic test scenes")  # fmt: skip
    p.add_argument("--permanence-scenes", type=_int_in(0, 10**6), default=40,
                   help="vanish-twin scenes")  # fmt: skip
    p.add_argument("--voe-items", type=_int_in(0, 10**5), default=48,
                   help="balanced VoE quadruplets per kind (48+ to decide a 0.8 target)")  # fmt: skip
    p.add_argument("--seed", type=_int_in(0, MAX_SEED), default=2_000_000,
                   help="evaluation scene seed")  # fmt: skip
    p.add_argument("--camera-shift", type=float, default=0.0, metavar="M",
                   help="also evaluate with every camera eye moved M metres (outside the "
                   "training jitter of 0.08 m)")  # fmt: skip
    p.add_argument("--minutes", type=_positive, help="wall-clock budget of the whole evaluation")
    p.add_argument("--set", action="append", default=[], metavar="inference.FIELD=VALUE",
                   help="inference setting, e.g. --set inference.snap=0 (repeatable)")  # fmt: skip
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("predict", parents=[common], help="predict a rollout to a video",
                       description="Write a side-by-side video: truth | prediction | error.")  # fmt: skip
    p.add_argument("--ckpt", default="cpu", help="checkpoint folder, run folder, .safetensors "
                   "or a bundled model's name (default: cpu)")  # fmt: skip
    p.add_argument("--set", action="append", default=[], metavar="inference.FIELD=VALUE",
                   help="inference setting, e.g. --set inference.snap=0 (repeatable)")  # fmt: skip
    p.add_argument("--backend", choices=("neural", "hybrid", "auto"), default="neural",
                   help="neural: the pixel world model; hybrid: estimate the scene and let the "
                   "engine play it forward (docs/hybrid.md; writes SPEC.json beside the video); "
                   "auto: whichever of the two predicts the context's last 3 frames better from "
                   "the ones before (needs --context 9 or more; seconds)")  # fmt: skip
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", help="input video file")
    src.add_argument("--scene", metavar="SPEC.json|FAMILY",
                     help="scene to simulate for context and truth: a spec file or a family")  # fmt: skip
    p.add_argument("--seed", type=_int_in(0, MAX_SEED), default=0,
                   help="sampling seed for a FAMILY and the hybrid's material samples (default 0)")  # fmt: skip
    p.add_argument("--impossible", metavar="KIND", default=None, help="violation kind (FAMILY)")
    p.add_argument("--samples", type=_int_in(1, 64), default=1,
                   help="hybrid: average the futures of N draws of the unseen masses, frictions "
                   "and bounces (sharper with 1, the default; higher PSNR with 8)")  # fmt: skip
    p.add_argument("--context", type=_int_in(1, 1000), default=4, help="observed frames K")
    p.add_argument("--horizon", type=_int_in(1, 10_000), default=16, help="frames to predict")
    p.add_argument("--start", type=_int_in(0, 10**6), default=0, help="first frame used (>= 0)")
    p.add_argument("--fps", type=_positive, default=12.0, help="output frame rate")
    p.add_argument("--out", required=True, help="output .mp4 (a .png contact sheet beside it)")
    p.set_defaults(func=_cmd_predict)
