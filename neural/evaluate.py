"""The evaluation suite behind ``twinsim eval``: prediction quality on moving, faint and still
windows, object permanence, balanced violation of expectation and real footage, each with its
baselines (copy-last, linear extrapolation) measured in the same run.

Everything streams: scenes are simulated (or read) one at a time, predicted and folded into
running sums, so memory stays flat whatever the number of scenes. Each stage shows a progress
bar, and ``deadline`` (from ``--minutes``) bounds the whole run: a stage that runs out of time
stops early and reports how many items it scored.

Scenes use seeds from ``EVAL_SEED`` upward (training uses small seeds; see docs/neural.md).
Object permanence lives in :mod:`twinsim.neural.eval_permanence` (re-exported here), the shared
predictor list and time budget in :mod:`twinsim.neural.eval_common`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm
from twinsim.neural import metrics as M
from twinsim.neural.clips import render_spec
from twinsim.neural.config import DEFAULT_FAMILIES
from twinsim.neural.eval_common import PREDICTORS, SUBSETS, Budget
from twinsim.neural.eval_permanence import permanence
from twinsim.neural.eval_report import format_table
from twinsim.neural.footage import load_footage
from twinsim.neural.predict import WorldModel
from twinsim.neural.voe import (
    BALANCED_KINDS,
    baseline_surprise,
    item_family,
    item_right,
    summarise_voe,
    voe_items,
)

__all__ = [
    "BALANCED_KINDS",
    "EVAL_SEED",
    "EvalConfig",
    "balanced_voe",
    "baseline_surprise",
    "evaluate",
    "format_table",
    "item_right",
    "permanence",
    "prediction_quality",
    "real_footage",
    "summarise_voe",
    "voe_items",
]

EVAL_SEED = 2_000_000


@dataclass(frozen=True)
class EvalConfig:
    """Sizes of the evaluation.

    Attributes:
        observed / horizon: context frames and predicted frames per test window.
        test_scenes: synthetic test scenes (non-overlapping windows of each are evaluated).
        permanence_scenes: occlusion scenes with a vanish twin.
        voe_items: balanced VoE items (quadruplets) per kind.
        scene_frames: frames per simulated test scene.
        real_horizon: predicted frames per held-out real-footage window.
        seed: first evaluation seed.
        families: families of the synthetic test scenes.
        camera_shift: > 0 adds a robustness pass: the test scenes again with every camera eye
            moved by this many metres (training jitters the eye by at most 0.08 m).
        minutes: wall-clock budget of the whole evaluation (None: unbounded).
    """

    observed: int = 6
    horizon: int = 12
    test_scenes: int = 48
    permanence_scenes: int = 40
    voe_items: int = 48
    scene_frames: int = 66
    real_horizon: int = 8
    seed: int = EVAL_SEED
    families: tuple[str, ...] = DEFAULT_FAMILIES
    camera_shift: float = 0.0
    minutes: float | None = None


def _windows(scene: np.ndarray, length: int) -> np.ndarray:
    """Non-overlapping windows of ``length`` frames of one scene: (N, length, H, W, 3)."""
    t = len(scene)
    if t < length:
        raise ValueError(f"scenes have {t} frames; evaluation needs {length}")
    return np.stack([scene[s : s + length] for s in range(0, t - length + 1, length)])


class _Quality:
    """Running sums of per-step PSNR / SSIM / squared error, per predictor and subset."""

    def __init__(self, horizon: int) -> None:
        self.h = horizon
        self.n = dict.fromkeys(SUBSETS, 0)
        # per family, moving windows only: their count and each predictor's summed mean PSNR
        self.by_family: dict[str, dict[str, float]] = {}
        z = np.zeros(horizon)
        self.sums = {
            (p, s, k): z.copy()
            for p in PREDICTORS
            for s in SUBSETS
            for k in ("psnr", "ssim", "mse")
        }

    def add(
        self,
        preds: dict[str, np.ndarray],
        truth: np.ndarray,
        last: np.ndarray,
        family: str | None = None,
    ) -> None:
        # "moving": something visibly moves; "faint": a few pixels change (a sub-millimetre
        # settle), which copy-last nearly matches; "still": nothing changes (copy-last exact)
        changed = (truth != last[:, None]).any(axis=(1, 2, 3, 4))
        moving = M.visible_motion(last, truth)
        for subset, sel in (("moving", moving), ("faint", changed & ~moving), ("still", ~changed)):
            if not sel.any():
                continue
            self.n[subset] += int(sel.sum())
            t = truth[sel]
            grouped = family is not None and subset == "moving"
            if grouped:
                fam = self.by_family.setdefault(family, dict.fromkeys(("windows", *PREDICTORS), 0))
                fam["windows"] += int(sel.sum())
            for p, pred in preds.items():
                x = pred[sel]
                err = ((x.astype(np.float64) - t) / 255.0) ** 2
                psnr = M.psnr(x, t)
                self.sums[p, subset, "mse"] += err.mean(axis=(2, 3, 4)).sum(0)
                self.sums[p, subset, "psnr"] += psnr.sum(0)
                self.sums[p, subset, "ssim"] += M.ssim(x, t).sum(0)
                if grouped:
                    fam[p] += float(psnr.mean(axis=1).sum())

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"windows": dict(self.n)}
        for subset, n in self.n.items():
            if n == 0:
                continue
            part = {}
            for p in PREDICTORS:
                mse = self.sums[p, subset, "mse"] / n
                part[p] = {
                    "psnr": (self.sums[p, subset, "psnr"] / n).tolist(),
                    "ssim": (self.sums[p, subset, "ssim"] / n).tolist(),
                    "psnr_pooled": M.mse_to_psnr(mse).tolist(),
                    # pooled over steps 1..h as well: one figure per predictor
                    "psnr_pooled_all": float(M.mse_to_psnr(np.array([mse.mean()]))[0]),
                }
            out[subset] = part
        if self.by_family:
            out["moving_by_family"] = {
                name: {"windows": f["windows"], **{p: f[p] / f["windows"] for p in PREDICTORS}}
                for name, f in self.by_family.items()
            }
        return out


def prediction_quality(
    model: WorldModel,
    scenes: Iterable[np.ndarray],
    observed: int,
    horizon: int,
    total: int | None = None,
    budget: Budget | None = None,
    progress: bool = True,
    desc: str = "prediction",
    families: Sequence[str] | None = None,
) -> dict[str, Any]:
    """PSNR / SSIM per step on moving and still windows, for the model and both baselines.

    ``scenes`` yields (T, H, W, 3) uint8 scenes one at a time; each is cut into non-overlapping
    windows of ``observed + horizon`` frames and folded into running sums (streaming).
    ``families`` (the family of each scene, in order) adds ``moving_by_family``: per family,
    its moving windows and each predictor's PSNR averaged over the steps and windows.
    """
    acc = _Quality(horizon)
    bar = tqdm(scenes, total=total, desc=desc, unit="scene", disable=not progress)
    for i, scene in enumerate(bar):
        clips = _windows(np.asarray(scene), observed + horizon)
        ctx, truth = clips[:, :observed], clips[:, observed:]
        preds = {
            "model": model.predict_batch(ctx, horizon),
            "copy_last": M.copy_last(ctx, horizon),
            "linear": M.linear_extrapolation(ctx, horizon),
        }
        acc.add(preds, truth, ctx[:, -1], None if families is None else families[i])
        if budget is not None and budget.spent():
            bar.write(f"{desc}: time budget spent after {bar.n + 1} scenes")
            break
    bar.close()
    return acc.result()


def _stream_families(cfg: EvalConfig) -> list[str]:
    """The family of each scene of :func:`_scene_stream`, in order."""
    return [cfg.families[i % len(cfg.families)] for i in range(cfg.test_scenes)]


def _scene_stream(cfg: EvalConfig, resolution: int, camera_shift: float = 0.0) -> Iterator:
    from twinsim.neural.clips import TOY, toy_scenes
    from twinsim.sim.families import sample_scene

    for i, fam in enumerate(_stream_families(cfg)):
        if fam == TOY:
            yield toy_scenes(1, cfg.scene_frames, resolution, cfg.seed + i)[0]
            continue
        spec = sample_scene(fam, cfg.seed + i)
        if camera_shift:
            spec = shift_cameras(spec, camera_shift, cfg.seed + i)
        yield render_spec(spec, resolution, cfg.scene_frames).rgb


def shift_cameras(spec, metres: float, seed: int):
    """``spec`` with every camera eye moved by ``metres`` in a seeded random horizontal
    direction and raised by half that (poses outside the families' training jitter)."""
    rng = np.random.default_rng([seed, 7])
    cams = []
    for c in spec.cameras:
        a = rng.uniform(0, 2 * np.pi)
        d = (metres * np.cos(a), metres * np.sin(a), metres / 2)
        eye = tuple(float(e + x) for e, x in zip(c.eye, d, strict=True))
        cams.append(dataclasses.replace(c, eye=eye))
    return dataclasses.replace(spec, cameras=tuple(cams))


def _dataset_stream(root: str | Path, split: str, resolution: int, n: int) -> tuple[Iterator, int]:
    from twinsim.neural.clips import dataset_source

    src = dataset_source(root, split, resolution, max_scenes=n)
    return (src.rgb(i) for i in range(len(src))), len(src)


def _surprise(model: WorldModel, quad: np.ndarray) -> dict[str, np.ndarray]:
    """Summed one-step squared error (surprise) of each clip, per predictor: (4,) each."""
    skip = max(2, model.context)  # the first steps have too little history to judge
    err = model.step_errors(quad)[:, skip - 1 :]
    return {"model": err.sum(1), **baseline_surprise(quad, skip)}


def _moves_like_scene(model: WorldModel, clip: np.ndarray) -> bool:
    """The model's one-step error on the pixels that change (mostly the occluder) beats
    copy-last's over the clip: it predicts the scene's motion rather than freezing it."""
    x = M.to_unit(clip)
    pred = M.to_unit(model.predict_steps(clip[None])[0])
    truth, last = x[1:], x[:-1]
    moving = (np.abs(truth - last).max(-1) > 0)[..., None]
    return float((((pred - truth) ** 2) * moving).sum()) < float(
        (((last - truth) ** 2) * moving).sum()
    )


def balanced_voe(
    model: WorldModel,
    n: int,
    seed: int,
    kinds: Iterable[str] = tuple(BALANCED_KINDS),
    progress: bool = True,
    budget: Budget | None = None,
) -> dict[str, Any]:
    """Balanced VoE accuracy per kind (see :func:`voe_items`): an item is right when the two
    impossible clips together are more surprising than the two possible ones (ties 0.5).

    Per kind: items scored, accuracy with its 95% Wilson interval, copy-last's and linear's
    floors (0.5 by construction) and ``gated`` accuracy: an item counts only when the model also
    predicts the scene's motion on clip A (else it counts 0), so freezing cannot score.
    """
    kinds = list(kinds)
    right: dict[str, dict[str, list[float]]] = {p: {k: [] for k in kinds} for p in PREDICTORS}
    gated: dict[str, list[float]] = {k: [] for k in kinds}
    families: dict[str, list[str]] = {k: [] for k in kinds}
    skipped = {k: 0 for k in kinds}
    gate_cache: dict[int, bool] = {}
    bar = tqdm(total=n * len(kinds), desc="voe items", unit="item", disable=not progress)
    for j, (kind, quad) in enumerate(voe_items(model.resolution, n, seed, kinds)):
        bar.update()
        if quad is None:
            skipped[kind] += 1
            continue
        s = _surprise(model, quad)
        for p in PREDICTORS:
            right[p][kind].append(item_right(s[p]))
        scene = j // len(kinds)
        families[kind].append(item_family(scene))
        if scene not in gate_cache:
            gate_cache[scene] = _moves_like_scene(model, quad[0])
        gated[kind].append(right["model"][kind][-1] if gate_cache[scene] else 0.0)
        if budget is not None and budget.spent():
            bar.write(f"voe: time budget spent after {j + 1} items")
            break
    bar.close()
    return summarise_voe(right, gated, "model", skipped, families)


def real_footage(
    model: WorldModel,
    footage: str | Path,
    observed: int,
    horizon: int,
    progress: bool = True,
) -> dict[str, Any]:
    """PSNR per step on windows of the held-out real clips (never trained on) vs copy-last
    and linear, per-window mean and pooled MSE."""
    fs = load_footage(footage, model.resolution)
    _, held = fs.split()
    length = observed + horizon
    acc = _Quality(horizon)
    per_window = {p: np.zeros(horizon) for p in PREDICTORS}
    mse = {p: np.zeros(horizon) for p in PREDICTORS}
    n = 0
    for clip in tqdm(held.clips, desc="real footage", unit="clip", disable=not progress):
        f = clip.frames
        if len(f) < length:
            continue
        w = _windows(f, length)
        ctx, truth = w[:, :observed], w[:, observed:]
        preds = {
            "model": model.predict_batch(ctx, horizon),
            "copy_last": M.copy_last(ctx, horizon),
            "linear": M.linear_extrapolation(ctx, horizon),
        }
        for p, x in preds.items():
            per_window[p] += M.psnr(x, truth).sum(0)
            mse[p] += (((x.astype(np.float64) - truth) / 255.0) ** 2).mean(axis=(2, 3, 4)).sum(0)
        acc.add(preds, truth, ctx[:, -1])
        n += len(w)
    out: dict[str, Any] = {
        "clips": n,
        "held_out": [c.name for c in held.clips],
        "skipped": fs.skipped,
    }
    if n:
        for p in PREDICTORS:
            out[p] = (per_window[p] / n).tolist()
            out[p + "_pooled"] = M.mse_to_psnr(mse[p] / n).tolist()
    return out


def evaluate(
    model: WorldModel,
    data_dir: str | Path | None = None,
    footage: str | Path | None = None,
    cfg: EvalConfig | None = None,
    progress: bool = True,
    split: str = "test",
) -> dict[str, Any]:
    """Run every evaluation within ``cfg.minutes``; the synthetic test scenes come from
    ``data_dir``'s ``split`` (``test`` or ``ood``) or are simulated from ``cfg.families``."""
    cfg = cfg or EvalConfig()
    budget = Budget(cfg.minutes)
    res = model.resolution
    length = cfg.observed + cfg.horizon
    if data_dir is not None:
        stream, total = _dataset_stream(data_dir, split, res, cfg.test_scenes)
    else:
        stream, total = _scene_stream(cfg, res), cfg.test_scenes
    fams = None if data_dir is not None else _stream_families(cfg)
    results: dict[str, Any] = {
        "config": dataclasses.asdict(cfg),
        "inference": dataclasses.asdict(model.inference),
        "prediction": prediction_quality(
            model, stream, cfg.observed, cfg.horizon, total, budget, progress, families=fams
        ),
    }
    if data_dir is None and length > cfg.scene_frames:
        raise ValueError(f"scene_frames {cfg.scene_frames} < observed + horizon {length}")
    if footage is not None and not budget.spent():
        results["real"] = real_footage(model, footage, cfg.observed, cfg.real_horizon, progress)
    if cfg.permanence_scenes and not budget.spent():
        results["permanence"] = permanence(
            model, cfg.permanence_scenes, cfg.seed, progress=progress, budget=budget
        )
    if cfg.voe_items and not budget.spent():
        results["voe"] = balanced_voe(
            model, cfg.voe_items, cfg.seed, progress=progress, budget=budget
        )
    if cfg.camera_shift and data_dir is None and not budget.spent():
        results["prediction_camera_shift"] = prediction_quality(
            model, _scene_stream(cfg, res, cfg.camera_shift), cfg.observed, cfg.horizon,
            cfg.test_scenes, budget, progress, desc="prediction, shifted cameras", families=fams,
        )  # fmt: skip
        results["prediction_camera_shift"]["camera_shift_m"] = cfg.camera_shift
    results["budget_spent"] = budget.spent()
    return results
