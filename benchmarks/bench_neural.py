"""Benchmark of the neural world model against its baselines, measured in one run.

Reports: training time of the checkpoint (from its run log), mean PSNR over steps 1..12 against
copy-last and linear extrapolation, object permanence, VoE pairwise accuracy per kind, real
footage PSNR per step against copy-last, and prediction throughput at 64x64 (batch 1 and 32)
beside the engine + TinyRenderer frames/s for the same scenes.

    python benchmarks/bench_neural.py [--ckpt assets/pretrained] [--footage ../shared/footage]

Prints a table and appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from twinsim.neural.data import render_spec
from twinsim.neural.evaluate import EVAL_SEED, EvalConfig, evaluate, format_table
from twinsim.neural.predict import WorldModel

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _common  # noqa: E402  (benchmarks/ helper: machine info, commit, RESULTS.md)


def throughput(model: WorldModel, families: tuple[str, ...], scenes: int) -> dict[str, float]:
    """Frames/s: engine + renderer simulating scenes, and the model predicting the same scenes."""
    from twinsim.sim.families import sample_scene

    specs = [sample_scene(families[i % len(families)], EVAL_SEED + i) for i in range(scenes)]
    t0, frames, clips = time.perf_counter(), 0, []
    for spec in specs:
        rgb = render_spec(spec, model.resolution, frames=20).rgb
        frames += len(rgb)
        clips.append(rgb)
    engine = frames / (time.perf_counter() - t0)
    ctx = np.stack([c[:4] for c in clips])
    out = {"engine_fps": engine}
    for bs in (1, 32):
        batch = np.concatenate([ctx] * (bs // len(ctx) + 1))[:bs]
        model.predict_batch(batch, 2)  # warm-up
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < 5.0:
            model.predict_batch(batch, 16)
            n += bs * 16
        out[f"model_fps_b{bs}"] = n / (time.perf_counter() - t0)
    return out


def _train_minutes(ckpt: Path) -> str:
    info = ckpt / "train_info.json"
    if info.is_file():
        d = json.loads(info.read_text())
        return f"{d['minutes']:.1f} min, {d['steps']} steps ({d.get('command', '')})"
    return "unknown (no train_info.json beside the checkpoint)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", default=str(HERE.parent / "assets" / "pretrained"))
    ap.add_argument("--footage", default=str(HERE.parent.parent / "shared" / "footage"))
    ap.add_argument("--test-scenes", type=int, default=48)
    ap.add_argument("--permanence-scenes", type=int, default=40)
    ap.add_argument("--voe-pairs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--eval-json",
        help="reuse the JSON of a `twinsim eval` run of this checkpoint (baselines are in it, "
        "measured in that same run) instead of evaluating again",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = WorldModel.load(args.ckpt)
    footage = args.footage if Path(args.footage).is_dir() else None
    cfg = EvalConfig(
        test_scenes=args.test_scenes,
        permanence_scenes=args.permanence_scenes,
        voe_pairs=args.voe_pairs,
    )
    t0 = time.perf_counter()
    if args.eval_json:
        res = json.loads(Path(args.eval_json).read_text())
    else:
        res = evaluate(model, None, footage, cfg)
    eval_s = time.perf_counter() - t0
    tp = throughput(model, cfg.families, 8)
    pq = res["prediction"]
    m12 = {n: float(np.mean(pq[n]["psnr"][:12])) for n in ("model", "copy_last", "linear")}
    lines = [
        f"\n## bench_neural — {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"machine: {_common.machine_line()}; commit {_common.git_commit()}; torch threads {args.threads}",
        f"command: python benchmarks/bench_neural.py --ckpt {args.ckpt} "
        f"--test-scenes {args.test_scenes} --permanence-scenes {args.permanence_scenes} "
        f"--voe-pairs {args.voe_pairs}",
        f"checkpoint training: {_train_minutes(Path(args.ckpt))}",
        "",
        "| metric | model | copy-last | linear | target |",
        "| --- | --- | --- | --- | --- |",
        f"| mean PSNR steps 1..12 (dB) | {m12['model']:.2f} | {m12['copy_last']:.2f} | "
        f"{m12['linear']:.2f} | copy-last + 3 = {m12['copy_last'] + 3:.2f} "
        f"(model {m12['model'] - m12['copy_last']:+.2f}) |",
    ]
    if pq.get("moving_clips"):
        mv = {
            n: float(np.mean(pq[n]["psnr_moving"][:12])) for n in ("model", "copy_last", "linear")
        }
        lines.append(
            f"| same, {pq['moving_clips']} of {pq['clips']} clips with motion | {mv['model']:.2f} | "
            f"{mv['copy_last']:.2f} | {mv['linear']:.2f} | (model {mv['model'] - mv['copy_last']:+.2f}) |"
        )
    if "psnr_pooled" in pq["model"]:
        pl = {
            n: float(np.mean(pq[n]["psnr_pooled"][:12])) for n in ("model", "copy_last", "linear")
        }
        lines.append(
            f"| PSNR of the MSE pooled over clips, steps 1..12 | {pl['model']:.2f} | "
            f"{pl['copy_last']:.2f} | {pl['linear']:.2f} | (model {pl['model'] - pl['copy_last']:+.2f}) |"
        )
    if "permanence" in res:
        p = res["permanence"]
        lines.append(
            f"| permanence ({p['scenes']} scenes) | {p['model']:.3f} | {p['copy_last']:.3f} | "
            f"{p['linear']:.3f} | >= 0.9 |"
        )
    if "voe" in res:
        v = res["voe"]
        for k in v["model"]["per_kind"]:
            vals = [v[n]["per_kind"][k] for n in ("model", "copy_last", "linear")]
            n, ci = v["model"].get("per_kind_pairs", {}), v["model"].get("per_kind_ci95", {})
            kind = f"VoE {k} ({n[k]} pairs)" if k in n else f"VoE {k}"
            tgt = f">= 0.8 (model 95%: {ci[k][0]:.2f}..{ci[k][1]:.2f})" if k in ci else ">= 0.8"
            lines.append(f"| {kind} | {vals[0]:.3f} | {vals[1]:.3f} | {vals[2]:.3f} | {tgt} |")
        for key, tgt in (("accuracy", ">= 0.9"), ("auc", "")):
            vals = [v[n][key] for n in ("model", "copy_last", "linear")]
            lines.append(
                f"| VoE overall {key} | {vals[0]:.3f} | {vals[1]:.3f} | {vals[2]:.3f} | {tgt} |"
            )
    rf = res.get("real") or {}
    if rf.get("clips"):
        steps = " ".join(
            f"{a:.2f}/{b:.2f}" for a, b in zip(rf["model"], rf["copy_last"], strict=True)
        )
        wins = sum(a > b for a, b in zip(rf["model"], rf["copy_last"], strict=True))
        lines.append(
            f"| real footage PSNR steps 1..{len(rf['model'])} (model/copy-last) | {steps} | | | "
            f"above copy-last at every step ({wins}/{len(rf['model'])}) |"
        )
    lines += [
        "",
        f"throughput at {model.resolution}x{model.resolution}: engine + TinyRenderer "
        f"{tp['engine_fps']:.0f} frames/s; model batch 1 {tp['model_fps_b1']:.0f} frames/s "
        f"({tp['model_fps_b1'] / tp['engine_fps']:.2f}x engine), batch 32 "
        f"{tp['model_fps_b32']:.0f} frames/s ({tp['model_fps_b32'] / tp['engine_fps']:.2f}x engine)",
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
