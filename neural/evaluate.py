"""The evaluation suite behind ``twinsim eval``: prediction quality, object permanence,
violation of expectation and real footage, each with its baselines measured in the same run.

Scenes for permanence and VoE are simulated from the engine families with seeds from
``EVAL_SEED`` upward (training uses small seeds; see docs/neural.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm
from twinsim.neural import metrics as M
from twinsim.neural.data import render_spec, synthetic_scenes
from twinsim.neural.footage import load_footage
from twinsim.neural.predict import WorldModel

__all__ = [
    "EVAL_SEED",
    "EvalConfig",
    "evaluate",
    "format_table",
    "permanence",
    "prediction_quality",
    "real_footage",
    "voe",
]

EVAL_SEED = 2_000_000
VOE_LABELS = ("rgb", "segmentation", "objects", "visibility")


@dataclass(frozen=True)
class EvalConfig:
    """Sizes of the evaluation (defaults: about a few minutes on 2 CPU cores at 64 px)."""

    observed: int = 6
    horizon: int = 16
    test_scenes: int = 48
    permanence_scenes: int = 40
    voe_pairs: int = 10
    scene_frames: int = 66
    real_horizon: int = 8
    seed: int = EVAL_SEED
    families: tuple[str, ...] = ("occlusion", "drop", "collide", "ramp")


def _windows(scenes: np.ndarray, length: int) -> np.ndarray:
    """Non-overlapping windows of ``length`` frames from every scene: (N', length, H, W, 3)."""
    t = scenes.shape[1]
    if t < length:
        raise ValueError(f"scenes have {t} frames; evaluation needs {length}")
    starts = range(0, t - length + 1, length)
    return np.concatenate([scenes[:, s : s + length] for s in starts])


def _batched(model: WorldModel, ctx: np.ndarray, horizon: int, bs: int = 16) -> np.ndarray:
    return np.concatenate(
        [model.predict_batch(ctx[i : i + bs], horizon) for i in range(0, len(ctx), bs)]
    )


def prediction_quality(
    model: WorldModel, scenes: np.ndarray, observed: int, horizon: int
) -> dict[str, Any]:
    """PSNR / SSIM per horizon step 1..``horizon`` for the model, copy-last and linear."""
    clips = _windows(scenes, observed + horizon)
    ctx, truth = clips[:, :observed], clips[:, observed:]
    preds = {
        "model": _batched(model, ctx, horizon),
        "copy_last": M.copy_last(ctx, horizon),
        "linear": M.linear_extrapolation(ctx, horizon),
    }
    # "moving" clips: something changes within the horizon (copy-last is not exact at its end);
    # on still clips copy-last is exact and its PSNR is the 100 dB cap, which dominates means.
    moving = M.psnr(preds["copy_last"][:, -1], truth[:, -1]) < M.PSNR_CAP
    out: dict[str, Any] = {"clips": len(clips), "moving_clips": int(moving.sum())}
    for name, p in preds.items():
        ps = M.psnr(p, truth)
        out[name] = {
            "psnr": ps.mean(0).tolist(),
            "ssim": M.ssim(p, truth).mean(0).tolist(),
            "psnr_moving": ps[moving].mean(0).tolist() if moving.any() else [],
            "psnr_pooled": M.psnr_pooled(p, truth).tolist(),
        }
    return out


def _occlusion_window(possible, body: str, after: int) -> tuple[int, int] | None:
    """(context end c, reappearance r): c hidden at/after ``after``; r first visible after c."""
    tr = possible.track(body)
    vis = tr.visible_fraction
    hidden = np.flatnonzero((vis < 0.05) & tr.present)
    hidden = hidden[hidden >= after]
    if len(hidden) == 0:
        return None
    c = int(hidden[0])
    while c + 1 < len(vis) and vis[c + 1] < 0.05:  # end of this hidden run, shifted to its middle
        c += 1
    c = (int(hidden[0]) + c) // 2
    later = np.flatnonzero(vis[c + 1 :] >= 0.5)
    if len(later) == 0:
        return None
    return c, c + 1 + int(later[0])


def permanence(
    model: WorldModel, n: int, seed: int, max_horizon: int = 32, progress: bool = True
) -> dict[str, Any]:
    """Object permanence on occlusion scenes with a matched vanish twin (chance = 0.5)."""
    from twinsim.sim.families import sample_scene

    res = model.resolution
    kept: dict[str, list[float]] = {"model": [], "copy_last": [], "linear": []}
    skipped = 0
    for i in tqdm(range(n), desc="permanence", disable=not progress):
        spec_v = sample_scene("occlusion", seed + i, impossible="vanish")
        body, vframe = spec_v.violation.body, spec_v.violation.frame
        poss = render_spec(spec_v.possible_twin(), res, labels=VOE_LABELS)
        win = _occlusion_window(poss, body, vframe)
        if win is None or win[1] - win[0] > max_horizon:
            skipped += 1
            continue
        c, r = win
        van = render_spec(spec_v, res, labels=("rgb",))
        region = poss.segmentation[r] == poss.spec.names.index(body) + 1
        if not region.any():
            skipped += 1
            continue
        ctx, h = poss.rgb[: c + 1], r - c
        preds = {
            "model": model.predict(ctx, h)[-1],
            "copy_last": M.copy_last(ctx, h)[-1],
            "linear": M.linear_extrapolation(ctx, h)[-1],
        }
        for name, p in preds.items():
            kept[name].append(M.permanence_kept(p, poss.rgb[r], van.rgb[r], region))
    out: dict[str, Any] = {"scenes": len(kept["model"]), "skipped": skipped}
    for name, v in kept.items():
        out[name] = float(np.mean(v)) if v else float("nan")
    return out


def _violation_kinds(families: tuple[str, ...]) -> list[tuple[str, str]]:
    from twinsim.sim.families import family_info

    pairs = []
    for fam in families:
        pairs += [(fam, kind) for kind in family_info(fam).violations]
    return pairs


def _surprises(model: WorldModel, clips: np.ndarray) -> list[dict[str, float]]:
    """Mean per-frame surprise of the model and of the two baselines, per clip (B, T, H, W, 3)."""
    x = clips.astype(np.float64) / 255.0
    skip = max(2, model.context)  # the first steps have too little history to judge
    err = model.step_errors(clips)[:, skip - 1 :]
    copy = ((x[:, 1:] - x[:, :-1]) ** 2).mean(axis=(2, 3, 4))[:, skip - 1 :]
    pred = np.clip(2 * x[:, 1:-1] - x[:, :-2], 0, 1)
    lin = ((x[:, 2:] - pred) ** 2).mean(axis=(2, 3, 4))[:, skip - 2 :]
    # Mean over frames: the twins agree before the violation, so a shared early peak (an
    # occluder entering, a collision) cannot mask the difference the way a max would.
    return [
        {"model": float(e.mean()), "copy_last": float(c.mean()), "linear": float(li.mean())}
        for e, c, li in zip(err, copy, lin, strict=True)
    ]


def voe(
    model: WorldModel,
    pairs: int,
    seed: int,
    families: tuple[str, ...] = ("occlusion", "collide", "drop", "ramp"),
    progress: bool = True,
) -> dict[str, Any]:
    """Pairwise VoE accuracy per violation kind, overall, and ROC AUC (IntPhys-style)."""
    from twinsim.sim.families import sample_scene

    kinds = _violation_kinds(families)
    scores: dict[str, dict[str, list[tuple[float, float]]]] = {}
    bar = tqdm(total=len(kinds) * pairs, desc="voe pairs", disable=not progress)
    for fam, kind in kinds:
        for i in range(pairs):
            imp = sample_scene(fam, seed + i, impossible=kind)
            pair = [render_spec(s, model.resolution).rgb for s in (imp.possible_twin(), imp)]
            a, b = _surprises(model, np.stack(pair))
            for name in a:
                scores.setdefault(name, {}).setdefault(kind, []).append((a[name], b[name]))
            bar.update()
    bar.close()
    out: dict[str, Any] = {"pairs_per_kind": pairs}
    for name, per_kind in scores.items():
        allp = [p for v in per_kind.values() for p in v]
        arr = np.array(allp)
        acc = {k: M.pairwise_accuracy(*np.array(v).T) for k, v in per_kind.items()}
        out[name] = {
            "per_kind": acc,
            "per_kind_pairs": {k: len(v) for k, v in per_kind.items()},
            "per_kind_ci95": {
                k: M.wilson_interval(acc[k] * len(v), len(v)) for k, v in per_kind.items()
            },
            "accuracy": M.pairwise_accuracy(arr[:, 0], arr[:, 1]),
            "auc": M.roc_auc(arr.ravel(), np.tile([0, 1], len(arr))),
        }
    return out


def real_footage(
    model: WorldModel, footage: str | Path, observed: int, horizon: int
) -> dict[str, Any]:
    """PSNR per step on the held-out real clips (never trained on) vs copy-last."""
    fs = load_footage(footage, model.resolution)
    _, held = fs.split()
    length = observed + horizon
    ctxs, truths = [], []
    for clip in held.clips:
        f = clip.frames
        for s in range(0, len(f) - length + 1, length):
            ctxs.append(f[s : s + observed])
            truths.append(f[s + observed : s + length])
    if not ctxs:
        return {"clips": 0, "held_out": [c.name for c in held.clips], "skipped": fs.skipped}
    ctx, truth = np.stack(ctxs), np.stack(truths)
    pred = _batched(model, ctx, horizon)
    return {
        "clips": len(ctx),
        "held_out": [c.name for c in held.clips],
        "skipped": fs.skipped,
        "model": M.psnr(pred, truth).mean(0).tolist(),
        "copy_last": M.psnr(M.copy_last(ctx, horizon), truth).mean(0).tolist(),
        "model_pooled": M.psnr_pooled(pred, truth).tolist(),
        "copy_last_pooled": M.psnr_pooled(M.copy_last(ctx, horizon), truth).tolist(),
    }


def evaluate(
    model: WorldModel,
    data_dir: str | Path | None = None,
    footage: str | Path | None = None,
    cfg: EvalConfig | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run every evaluation; the synthetic test split comes from ``data_dir`` (its ``test``
    split) or is simulated from ``cfg.families`` with held-out seeds."""
    cfg = cfg or EvalConfig()
    if data_dir is not None:
        from twinsim.neural.data import dataset_scenes

        scenes = dataset_scenes(data_dir, "test", model.resolution, max_scenes=cfg.test_scenes)
    else:
        scenes = synthetic_scenes(
            cfg.families, cfg.test_scenes, cfg.scene_frames, model.resolution, cfg.seed, progress
        )
    results: dict[str, Any] = {
        "prediction": prediction_quality(model, scenes, cfg.observed, cfg.horizon)
    }
    if cfg.permanence_scenes:
        results["permanence"] = permanence(
            model, cfg.permanence_scenes, cfg.seed, progress=progress
        )
    if cfg.voe_pairs:
        results["voe"] = voe(model, cfg.voe_pairs, cfg.seed, progress=progress)
    if footage is not None:
        results["real"] = real_footage(model, footage, cfg.observed, cfg.real_horizon)
    return results


def format_table(results: dict[str, Any]) -> str:
    """Plain-text tables of :func:`evaluate` results."""
    lines = []
    pq = results.get("prediction")
    if pq:
        lines.append(f"prediction quality ({pq['clips']} test clips): PSNR dB / SSIM per step")
        lines.append("step  model          copy-last      linear")
        for k in range(len(pq["model"]["psnr"])):
            row = [
                f"{pq[n]['psnr'][k]:6.2f} / {pq[n]['ssim'][k]:.3f}"
                for n in ("model", "copy_last", "linear")
            ]
            lines.append(f"{k + 1:4d}  " + "  ".join(row))
        h = min(12, len(pq["model"]["psnr"]))
        m = {n: float(np.mean(pq[n]["psnr"][:h])) for n in ("model", "copy_last", "linear")}
        lines.append(
            f"mean PSNR steps 1..{h}: model {m['model']:.2f}, copy-last {m['copy_last']:.2f} "
            f"({m['model'] - m['copy_last']:+.2f} dB), linear {m['linear']:.2f}"
        )
        if pq.get("moving_clips"):
            mv = {
                n: float(np.mean(pq[n]["psnr_moving"][:h]))
                for n in ("model", "copy_last", "linear")
            }
            lines.append(
                f"  on the {pq['moving_clips']} clips with motion: model {mv['model']:.2f}, "
                f"copy-last {mv['copy_last']:.2f} ({mv['model'] - mv['copy_last']:+.2f} dB), "
                f"linear {mv['linear']:.2f}"
            )
        if "psnr_pooled" in pq["model"]:
            pl = {n: float(np.mean(pq[n]["psnr_pooled"][:h])) for n in ("model", "copy_last")}
            lines.append(
                f"  PSNR of the MSE pooled over clips, steps 1..{h}: model {pl['model']:.2f}, "
                f"copy-last {pl['copy_last']:.2f} ({pl['model'] - pl['copy_last']:+.2f} dB)"
            )
    pm = results.get("permanence")
    if pm:
        lines.append(
            f"object permanence ({pm['scenes']} scenes, {pm['skipped']} skipped; chance 0.5): "
            f"model {pm['model']:.3f}, copy-last {pm['copy_last']:.3f}, linear {pm['linear']:.3f}"
        )
    vo = results.get("voe")
    if vo:
        kinds = list(vo["model"]["per_kind"])
        lines.append(f"violation of expectation ({vo['pairs_per_kind']} pairs per kind)")
        lines.append("kind            model  copy-last  linear   pairs  model 95% interval")
        for k in kinds:
            vals = [vo[n]["per_kind"][k] for n in ("model", "copy_last", "linear")]
            row = f"{k:14s}  {vals[0]:.3f}  {vals[1]:.3f}      {vals[2]:.3f}"
            if "per_kind_ci95" in vo["model"]:  # absent in results saved before it existed
                lo, hi = vo["model"]["per_kind_ci95"][k]
                row += f"  {vo['model']['per_kind_pairs'][k]:6d}  {lo:.2f}..{hi:.2f}"
            lines.append(row)
        for key in ("accuracy", "auc"):
            vals = [vo[n][key] for n in ("model", "copy_last", "linear")]
            lines.append(f"{'overall ' + key:14s}  {vals[0]:.3f}  {vals[1]:.3f}      {vals[2]:.3f}")
    rf = results.get("real")
    if rf and rf.get("clips"):
        lines.append(f"real footage ({rf['clips']} held-out windows: {', '.join(rf['held_out'])})")
        pooled = "model_pooled" in rf
        lines.append(
            "step  model   copy-last" + ("   (pooled MSE: model  copy-last)" if pooled else "")
        )
        for k, (a, b) in enumerate(zip(rf["model"], rf["copy_last"], strict=True)):
            tail = (
                f"   {rf['model_pooled'][k]:19.2f}  {rf['copy_last_pooled'][k]:9.2f}"
                if pooled
                else ""
            )
            lines.append(f"{k + 1:4d}  {a:6.2f}  {b:6.2f}{tail}")
    return "\n".join(lines)
