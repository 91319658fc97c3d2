"""Neural world-model commands: ``twinsim train``, ``twinsim eval``, ``twinsim predict``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable

__all__ = ["register"]


class _HelpLater(str):
    """Help text argparse formats only when shown, so building the parser imports no torch."""

    def __new__(cls, make: Callable[[], str]) -> _HelpLater:
        text = super().__new__(cls, "...")
        text._make = make
        return text

    def __mod__(self, params: object) -> str:
        return self._make() % params


def _preset_help() -> str:
    from twinsim.neural.config import PRESETS

    return "config preset: " + ", ".join(PRESETS) + " (default %(default)s)"


def _positive(value: str) -> float:
    v = float(value)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return v


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from twinsim.neural.config import preset
    from twinsim.neural.train import train

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = preset(args.preset)
    data, tr = cfg.data, cfg.train
    if args.families:
        data = dataclasses.replace(data, families=tuple(args.families.split(",")))
    if args.scenes:
        data = dataclasses.replace(data, scenes=args.scenes)
    if args.seed is not None:
        data = dataclasses.replace(data, seed=args.seed)
        tr = dataclasses.replace(tr, seed=args.seed)
    if args.steps:
        tr = dataclasses.replace(tr, steps=args.steps)
    if args.footage is None:
        data = dataclasses.replace(data, real_fraction=0.0)
    elif args.real_fraction is not None:
        data = dataclasses.replace(data, real_fraction=args.real_fraction)
    cfg = cfg.replace(data=data, train=tr).override(args.set)
    res = train(cfg, args.out, args.data, args.footage, args.resume, args.device, args.minutes)
    if os.environ.get("RANK", "0") != "0":  # under torchrun only rank 0 reports
        return 0
    print(
        f"trained {res.steps} steps in {res.seconds / 60:.1f} min: loss {res.first_loss:.5f} -> "
        f"{res.last_loss:.5f}; val PSNR {res.val_psnr:.2f} dB (copy-last {res.val_copy_last_psnr:.2f})"
    )
    print(f"checkpoint: {res.run_dir}/last.json")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    import torch

    from twinsim.neural.evaluate import EvalConfig, evaluate, format_table
    from twinsim.neural.predict import WorldModel
    from twinsim.sim.fileio import write_text

    if args.threads:
        torch.set_num_threads(args.threads)
    model = WorldModel.load(args.ckpt, args.device)
    cfg = EvalConfig(
        test_scenes=args.test_scenes,
        permanence_scenes=args.permanence_scenes,
        voe_pairs=args.voe_pairs,
        seed=args.seed,
    )
    results = evaluate(model, args.data, args.footage, cfg)
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

    from twinsim.neural.predict import WorldModel
    from twinsim.sim.fileio import write_mp4

    if args.context < 1 or args.horizon < 1:
        raise ValueError("--context and --horizon must be >= 1")
    model = WorldModel.load(args.ckpt, args.device)
    need = args.start + args.context + args.horizon
    if args.video:
        from twinsim.neural.footage import decode_video

        frames = decode_video(args.video, model.resolution, max_frames=need)
    else:
        from twinsim.commands.sim_cmds import load_scene
        from twinsim.neural.data import render_spec

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
    print(f"wrote {out} ({len(video)} frames: truth | prediction | error x4)", file=sys.stdout)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's sub-commands to the twinsim parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="torch device")
    common.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")

    p = sub.add_parser("train", parents=[common], help="train the neural world model",
                       description="Train the flow + memory world model (docs/neural.md).")  # fmt: skip
    p.add_argument("--preset", default="cpu", help=_HelpLater(_preset_help))
    p.add_argument("--data", help="dataset DIR from `twinsim generate` (default: simulate "
                   "scenes of the preset's families on the fly)")  # fmt: skip
    p.add_argument("--footage", help="folder of real videos / image sequences to mix in")
    p.add_argument("--real-fraction", type=float, help="share of real clips per batch")
    p.add_argument("--out", required=True, help="run folder (checkpoints, logs)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.json")
    p.add_argument("--minutes", type=_positive, help="wall-clock budget; checkpoints and stops")
    p.add_argument("--steps", type=int, help="override the preset's optimiser steps")
    p.add_argument("--scenes", type=int, help="override the number of generated scenes")
    p.add_argument("--families", help="comma-separated families for generated scenes")
    p.add_argument("--seed", type=int, help="data and training seed")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                   help="override one config field after the other options, e.g. "
                   "--set train.keep_weight=0.1 (repeatable; VALUE is JSON)")  # fmt: skip
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("eval", parents=[common], help="evaluate a world-model checkpoint",
                       description="Prediction quality, permanence, VoE and real footage, "
                       "with copy-last and linear baselines.")  # fmt: skip
    p.add_argument("--ckpt", required=True, help="checkpoint folder, run folder or .safetensors")
    p.add_argument("--data", help="dataset DIR (its test split); default: simulate test scenes")
    p.add_argument("--footage", help="real footage folder (held-out clips are evaluated)")
    p.add_argument("--json", help="also write the results as JSON here")
    p.add_argument("--test-scenes", type=int, default=48, help="synthetic test scenes")
    p.add_argument("--permanence-scenes", type=int, default=40, help="vanish-twin scenes")
    p.add_argument("--voe-pairs", type=int, default=10, help="pairs per family and kind")
    p.add_argument("--seed", type=int, default=2_000_000, help="evaluation scene seed")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("predict", parents=[common], help="predict a rollout to a video",
                       description="Write a side-by-side video: truth | prediction | error.")  # fmt: skip
    p.add_argument("--ckpt", required=True, help="checkpoint folder, run folder or .safetensors")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", help="input video file")
    src.add_argument("--scene", metavar="SPEC.json|FAMILY",
                     help="scene to simulate for context and truth: a spec file or a family")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="sampling seed for a FAMILY (default 0)")
    p.add_argument("--impossible", metavar="KIND", default=None, help="violation kind (FAMILY)")
    p.add_argument("--context", type=int, default=4, help="observed frames K")
    p.add_argument("--horizon", type=int, default=16, help="frames to predict")
    p.add_argument("--start", type=int, default=0, help="first frame used")
    p.add_argument("--fps", type=float, default=12.0, help="output frame rate")
    p.add_argument("--out", required=True, help="output .mp4")
    p.set_defaults(func=_cmd_predict)
