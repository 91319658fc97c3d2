"""Metrics and baselines: PSNR / SSIM per frame, copy-last and linear extrapolation, object
permanence decisions, violation-of-expectation pairwise accuracy and ROC AUC.

Frames are uint8 or float arrays (..., H, W, 3); uint8 is read on a 0..255 scale, float on 0..1.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "PSNR_CAP",
    "copy_last",
    "linear_extrapolation",
    "mse_to_psnr",
    "pairwise_accuracy",
    "permanence_kept",
    "psnr",
    "psnr_pooled",
    "roc_auc",
    "ssim",
    "visible_motion",
    "wilson_interval",
]

PSNR_CAP = 100.0  # dB reported for identical frames (PSNR is infinite there)
# A window moves visibly when, in some future frame, at least VISIBLE_PIXELS pixels differ from
# the last observed frame by more than VISIBLE_LEVEL of 255 in some channel. A one-pixel shift
# of the smallest body the families draw (about 3 px across at 64 px) changes 6 or more pixels;
# a body settling by a fraction of a millimetre flips 1-3 isolated edge pixels, which no
# predictor can foresee and which let copy-last score 40-80 dB: such a window is "faint".
VISIBLE_LEVEL = 8
VISIBLE_PIXELS = 4


def to_unit(x: np.ndarray) -> np.ndarray:
    """uint8 frames -> float64 in [0, 1] (other dtypes are taken as already in [0, 1])."""
    x = np.asarray(x)
    return x.astype(np.float64) / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)


def psnr(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """PSNR in dB per frame over the last three axes (H, W, 3), capped at :data:`PSNR_CAP`."""
    p, t = to_unit(pred), to_unit(truth)
    if p.shape != t.shape:
        raise ValueError(f"pred {p.shape} and truth {t.shape} differ in shape")
    return _db(((p - t) ** 2).mean(axis=(-3, -2, -1)))


def psnr_pooled(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """PSNR in dB of the MSE pooled over clips: (N, T, H, W, 3) -> (T,), capped.

    Unlike the mean of per-clip PSNRs, an exactly predicted (e.g. still) clip adds zero error
    instead of the 100 dB cap, so a few still clips cannot dominate the figure.
    """
    p, t = to_unit(pred), to_unit(truth)
    if p.shape != t.shape or p.ndim != 5:
        raise ValueError(f"need equal (N, T, H, W, 3) shapes, got {p.shape} and {t.shape}")
    return _db(((p - t) ** 2).mean(axis=(0, 2, 3, 4)))


def mse_to_psnr(mse: np.ndarray) -> np.ndarray:
    """PSNR in dB of an MSE on the 0..1 scale, capped at :data:`PSNR_CAP`."""
    with np.errstate(divide="ignore"):
        return np.minimum(-10.0 * np.log10(np.asarray(mse, np.float64)), PSNR_CAP)


_db = mse_to_psnr


_SSIM_CHUNK = 3 * 64  # single-channel images per pass (64 RGB frames)


def ssim(pred: np.ndarray, truth: np.ndarray, window: int = 7) -> np.ndarray:
    """Mean SSIM per frame (Wang et al. 2004, Gaussian window sigma 1.5, per channel)."""
    p, t = to_unit(pred), to_unit(truth)
    if p.shape != t.shape:
        raise ValueError(f"pred {p.shape} and truth {t.shape} differ in shape")
    lead = p.shape[:-3]
    h, w = p.shape[-3:-1]
    a = torch.from_numpy(p.reshape(-1, h, w, 3)).permute(0, 3, 1, 2).reshape(-1, 1, h, w)
    b = torch.from_numpy(t.reshape(-1, h, w, 3)).permute(0, 3, 1, 2).reshape(-1, 1, h, w)
    g = torch.exp(-((torch.arange(window, dtype=torch.float64) - window // 2) ** 2) / (2 * 1.5**2))
    g = g / g.sum()
    rows, cols = g[None, None, None, :], g[None, None, :, None]

    def blur(x: torch.Tensor) -> torch.Tensor:
        # separable: a 7x7 conv2d in float64 unrolled each image 49-fold (GBs on a long clip)
        return F.conv2d(F.conv2d(x, rows), cols)

    c1, c2 = 0.01**2, 0.03**2
    out = []
    for i in range(0, a.shape[0], _SSIM_CHUNK):  # bounded memory for any batch
        x, y = a[i : i + _SSIM_CHUNK], b[i : i + _SSIM_CHUNK]
        mx, my = blur(x), blur(y)
        vx, vy, cov = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
        s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
        out.append(s.reshape(-1, 3, *s.shape[-2:]).mean(dim=(1, 2, 3)))
    return torch.cat(out).numpy().reshape(lead)


def visible_motion(last: np.ndarray, future: np.ndarray) -> np.ndarray:
    """Whether anything visibly moves: ``last`` (..., H, W, 3) uint8 observed frame(s) and
    ``future`` (..., T, H, W, 3) uint8 -> bool (...). See :data:`VISIBLE_PIXELS`; a window
    where something changes that this calls False is "faint", one where nothing does "still"."""
    last, future = np.asarray(last), np.asarray(future)
    if last.dtype != np.uint8 or future.dtype != np.uint8:
        raise TypeError(f"visible_motion needs uint8 frames, got {last.dtype} and {future.dtype}")
    diff = np.abs(future.astype(np.int16) - last[..., None, :, :, :].astype(np.int16))
    changed = (diff.max(axis=-1) > VISIBLE_LEVEL).sum(axis=(-2, -1))  # (..., T)
    return changed.max(axis=-1) >= VISIBLE_PIXELS


def copy_last(context: np.ndarray, horizon: int) -> np.ndarray:
    """Baseline: repeat the last context frame; (..., T, H, W, 3) -> (..., horizon, H, W, 3)."""
    last = np.asarray(context)[..., -1:, :, :, :]
    return np.repeat(last, horizon, axis=-4)


def linear_extrapolation(context: np.ndarray, horizon: int) -> np.ndarray:
    """Baseline: continue the last pixel-wise change, x_T + k (x_T - x_{T-1}), clipped."""
    c = np.asarray(context)
    if c.shape[-4] < 2:
        return copy_last(c, horizon)
    x1 = c[..., -1, :, :, :].astype(np.float64)
    d = x1 - c[..., -2, :, :, :].astype(np.float64)
    k = np.arange(1, horizon + 1, dtype=np.float64).reshape((horizon, 1, 1, 1))
    out = x1[..., None, :, :, :] + k * d[..., None, :, :, :]
    hi = 255.0 if c.dtype == np.uint8 else 1.0
    out = np.clip(out, 0.0, hi)
    return out.round().astype(np.uint8) if c.dtype == np.uint8 else out


def permanence_kept(
    pred: np.ndarray, possible: np.ndarray, vanished: np.ndarray, region: np.ndarray
) -> float:
    """1.0 when ``pred`` is closer to the possible future than to the vanished one inside
    ``region`` (H, W) bool (mean absolute difference), 0.0 when farther, 0.5 on a tie."""
    region = np.asarray(region, bool)
    if not region.any():
        raise ValueError("permanence region is empty")
    p, a, b = to_unit(pred)[region], to_unit(possible)[region], to_unit(vanished)[region]
    da, db = np.abs(p - a).mean(), np.abs(p - b).mean()
    if np.isclose(da, db, rtol=0, atol=1e-9):
        return 0.5
    return 1.0 if da < db else 0.0


def pairwise_accuracy(possible: np.ndarray, impossible: np.ndarray) -> float:
    """Fraction of matched pairs whose impossible twin is more surprising (ties count 0.5)."""
    a, b = np.asarray(possible, float), np.asarray(impossible, float)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"need equal-length non-empty pair arrays, got {a.shape} and {b.shape}")
    return float(((b > a) + 0.5 * (b == a)).mean())


def wilson_interval(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval (95% by default) of a proportion ``successes / n``.

    Per-kind VoE accuracies rest on a handful of pairs: with 8 pairs, 7/8 = 0.875 is consistent
    with a true accuracy anywhere in about 0.53..0.98, so a 0.8 target needs more pairs to
    decide. Ties counted as half a success are fine (``successes`` may be fractional).
    """
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need n >= 1 and 0 <= successes <= n, got {successes} of {n}")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve for ``labels`` (1 = impossible) ranked by ``scores``
    (Mann-Whitney U with average ranks for ties)."""
    s, y = np.asarray(scores, float), np.asarray(labels, bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC AUC needs both positive and negative examples")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))
