"""One object in one frame, video vs labels: which kind of mismatch (if any) it shows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from twinsim.bridge.checker_report import CheckerConfig
from twinsim.sim import Rollout

_OK, _HIDDEN = "ok", "hidden"


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(((a.astype(np.float32) - b.astype(np.float32)) ** 2).sum(-1))


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return (-1, -1, -1, -1)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()]) if len(xs) else np.array([np.nan, np.nan])


def _largest(mask: np.ndarray, min_area: int) -> np.ndarray | None:
    lab, n = ndimage.label(mask)
    if n == 0:
        return None
    sizes = ndimage.sum(mask, lab, range(1, n + 1))
    best = int(np.argmax(sizes))
    return lab == best + 1 if sizes[best] >= min_area else None


def _blur(img: np.ndarray) -> np.ndarray:
    return ndimage.uniform_filter(img.astype(np.float32), size=(3, 3, 1))


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    return ndimage.binary_dilation(mask, iterations=r) if r > 0 else mask


@dataclass
class _Frame:
    """One object's measurements in one frame."""

    state: str
    evidence: str = ""
    bbox: tuple[int, int, int, int] = (-1, -1, -1, -1)
    centroid: np.ndarray | None = None
    ref_centroid: np.ndarray | None = None


def _object_colors(ref: Rollout, rgb_ref: np.ndarray) -> dict[int, np.ndarray]:
    colors = {}
    for i, obj in enumerate(ref.spec.objects):
        m = ref.segmentation == i + 1
        if m.any():
            colors[i + 1] = np.median(rgb_ref[m], axis=0)
        else:
            colors[i + 1] = np.array(obj.color[:3], np.float32) * 255 * 0.8
    return colors


def _on_blend(shown: np.ndarray, color: np.ndarray, behind: np.ndarray, cfg: CheckerConfig) -> bool:
    """``shown`` lies near the segment from ``behind`` to ``color`` (a blurred or fading object)."""
    d = color.astype(np.float32) - behind
    a = float(np.clip(np.dot(shown - behind, d) / max(1e-6, float(np.dot(d, d))), 0, 1))
    return bool(_dist(shown, behind + a * d) < cfg.pixel_tol / 2)


def _classify(
    v: np.ndarray,
    r: np.ndarray,
    seg: np.ndarray,
    diff: np.ndarray,
    oid: int,
    color: np.ndarray,
    cfg: CheckerConfig,
    colors: dict[int, np.ndarray],
    names: list[str],
) -> _Frame:
    m = seg == oid
    a = int(m.sum())
    if a < cfg.min_area:
        return _Frame(_HIDDEN)
    ref_c = _centroid(m)
    if not diff[_dilate(m, 1)].any():  # the video agrees around the object: nothing to explain
        return _Frame(_OK, centroid=ref_c, ref_centroid=ref_c)
    has_col = _dist(v, color) < cfg.color_tol
    near = _dilate(m, 3)
    c_near = has_col & near
    miss = float(diff[m].mean())
    shape_diff = float(diff[_dilate(m, 1)].sum()) / a
    if miss < cfg.mismatch and shape_diff < cfg.shape_mismatch:
        # in place and in shape; a subtle recolouring stays under the per-pixel tolerance, so
        # compare the medians of its inner pixels (robust to edges and codec noise)
        inner = ndimage.binary_erosion(m)
        inner = inner if inner.sum() >= cfg.min_area else m
        was, now = np.median(r[inner], axis=0), np.median(v[inner], axis=0)
        ring = _dilate(m, 2) & ~m & (seg != oid)
        behind = np.median(r[ring], axis=0) if ring.any() else was
        if _dist(was, now) > cfg.recolor_tol and not _on_blend(now, was, behind, cfg):
            return _Frame(
                "change_color",
                f"colour rgb {tuple(int(x) for x in was)} became rgb {tuple(int(x) for x in now)}",
                _bbox(m),
                ref_c,
                ref_c,
            )
        return _Frame(
            _OK, centroid=_centroid(c_near) if c_near.any() else ref_c, ref_centroid=ref_c
        )
    n_near = int(c_near.sum())
    missing = m & diff & ~has_col
    if missing.sum() >= 2 and n_near < 0.9 * a:
        # where it should be, the video shows the body it touches: it went into that body
        shown = np.median(v[missing], axis=0)
        touching = np.unique(seg[_dilate(m, 2) & ~m])
        for k in touching[(touching > 0) & (touching != oid)]:
            if _dist(shown, colors[int(k)]) < cfg.color_tol:
                return _Frame(
                    "sink",
                    f"{int(missing.sum())} of its {a} labelled px show {names[int(k) - 1]} "
                    "instead: it is inside that body",
                    _bbox(m),
                    _centroid(c_near) if n_near else None,
                    ref_c,
                )
    if n_near >= 0.4 * a:
        c = _centroid(c_near)
        shift = c - ref_c
        bb, rb = _bbox(c_near), _bbox(m)
        ratio = n_near / a
        if shift[1] >= cfg.sink_px and bb[3] <= rb[3] and ratio < 0.9:
            return _Frame(
                "sink",
                f"{shift[1]:.1f} px lower than labelled, bottom cut off ({ratio:.0%} of its area)",
                bb,
                c,
                ref_c,
            )
        if np.hypot(*shift) >= cfg.teleport_px and 0.5 <= ratio <= 2.0:
            return _Frame(
                "teleport", f"displaced by ({shift[0]:+.1f}, {shift[1]:+.1f}) px", bb, c, ref_c
            )
        return _Frame(
            "change_size",
            f"{n_near} px of its colour where {a} are labelled; {shape_diff:.0%} of the pixels "
            "around it differ",
            bb,
            c,
            ref_c,
        )
    # its colour is (mostly) gone from its labelled place: moved, recoloured or gone
    was_col = _dist(r, color) < cfg.color_tol
    moved = has_col & ~was_col & ~_dilate(seg > 0, 2)
    comp = _largest(moved, max(cfg.min_area, int(0.3 * a)))
    if comp is not None:
        c = _centroid(comp)
        shift = c - ref_c
        return _Frame(
            "teleport",
            f"found ({shift[0]:+.1f}, {shift[1]:+.1f}) px away from its labelled place",
            _bbox(comp),
            c,
            ref_c,
        )
    shown = np.median(v[m], axis=0)
    ring = _dilate(m, 2) & ~m
    ring &= seg != oid
    behind = np.median(r[ring], axis=0) if ring.any() else shown
    # a blend of its colour and the background is a fading object (a blurry prediction losing
    # it), not a new colour: mostly background counts as gone, mostly its colour as still there
    seg_dir = color.astype(np.float32) - behind
    alpha = float(
        np.clip(np.dot(shown - behind, seg_dir) / max(1e-6, np.dot(seg_dir, seg_dir)), 0, 1)
    )
    on_blend = _dist(shown, behind + alpha * seg_dir) < cfg.pixel_tol / 2
    if on_blend and alpha >= 0.5:
        return _Frame(_OK, centroid=ref_c, ref_centroid=ref_c)
    if _dist(shown, behind) < cfg.pixel_tol or on_blend:
        return _Frame(
            "vanish",
            f"labelled {a} px in view, the video shows the background there "
            f"(rgb {tuple(int(x) for x in shown)})",
            _bbox(m),
            None,
            ref_c,
        )
    return _Frame(
        "change_color",
        f"colour rgb {tuple(int(x) for x in color)} became rgb {tuple(int(x) for x in shown)}",
        _bbox(m),
        _centroid(m),
        ref_c,
    )
