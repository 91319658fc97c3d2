"""Object proposals from pixels: colour blobs against the floor and the sky.

The engine's scenes draw bodies in flat, distinct colours over a uniform floor and background,
so an object is a set of pixels whose chromaticity differs from both and agrees with itself
(shading changes brightness, not hue). Each frame is cut into :class:`Blob` s; blobs of one
colour are one object even when an occluder splits them in two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import binary_dilation
from twinsim.neural.blends import chromaticity, tidy_labels

__all__ = ["Backdrop", "Blob", "estimate_backdrop", "find_blobs"]

_MIN_PIXELS = 3  # smaller blobs are rasterisation crumbs
_BG_DIST = 18.0  # L1 distance (0..765) within which a pixel is floor or sky
_CHROMA_JOIN = 0.05  # chromaticity distance joining pixels into one colour cluster
_LUMA_JOIN = 0.6  # relative brightness spread allowed within a cluster (shaded faces)
_NEIGHBOURS = np.ones((3, 3), bool)  # 8-connectivity: the ring of pixels touching a blob


@dataclass(frozen=True)
class Backdrop:
    """The colours of what is not an object: ``floor`` and ``sky`` as float RGB in 0..255."""

    floor: np.ndarray
    sky: np.ndarray

    def mask(self, frame: np.ndarray) -> np.ndarray:
        """(H, W) bool: pixels that are floor or sky."""
        f = frame.astype(np.float32)
        d_floor = np.abs(f - self.floor).sum(-1)
        d_sky = np.abs(f - self.sky).sum(-1)
        return (d_floor < _BG_DIST) | (d_sky < _BG_DIST)


@dataclass(frozen=True)
class Blob:
    """One colour cluster in one frame.

    Attributes:
        mask: (H, W) bool pixels.
        color: mean RGB (3,) float in 0..255.
        chroma: (3,) mean chromaticity rgb / (r + g + b).
        centroid: (u, v) pixel centre (continuous coordinates, +0.5 at pixel centres).
        bbox: (u0, v0, u1, v1) with u1, v1 exclusive.
        area: pixel count.
        touches_border: the blob reaches the image edge (it may extend beyond the view).
        isolated: floor or sky on every side (its 8-neighbour ring holds nothing else), and
            off the image edge: nothing can be covering it, whatever its area.
    """

    mask: np.ndarray
    color: np.ndarray
    chroma: np.ndarray
    centroid: tuple[float, float]
    bbox: tuple[int, int, int, int]
    area: int
    touches_border: bool
    isolated: bool = False


def _mode_color(pixels: np.ndarray) -> np.ndarray:
    q = (pixels // 4).astype(np.int64)
    keys = q[:, 0] * 4096 + q[:, 1] * 64 + q[:, 2]
    vals, counts = np.unique(keys, return_counts=True)
    k = vals[np.argmax(counts)]
    sel = keys == k
    return pixels[sel].astype(np.float32).mean(0)


def estimate_backdrop(frames: np.ndarray) -> Backdrop:
    """Floor and sky colours of (T, H, W, 3) uint8 frames: the modal colours of the lower image
    half and of the top row (the floor fills the bottom of every family's view; where a sky shows
    at all it is a strip along the top edge, often a few rows, so a wider band would be floor)."""
    frames = np.asarray(frames)
    h = frames.shape[1]
    floor = _mode_color(frames[:, h // 2 :].reshape(-1, 3))
    sky = _mode_color(frames[:, :1].reshape(-1, 3))
    if np.abs(sky - floor).sum() < _BG_DIST:  # no sky in view: the floor fills the frame
        sky = floor
    return Backdrop(floor=floor, sky=sky)


def _clusters(colors: np.ndarray) -> np.ndarray:
    """Greedy clustering of (N, 3) RGB by chromaticity and brightness: a label per pixel.

    Runs over the distinct colours (flat-shaded faces give few), most frequent first.
    """
    uniq, inverse, counts = np.unique(colors, axis=0, return_inverse=True, return_counts=True)
    ch = chromaticity(uniq)
    lum = uniq.astype(np.float32).sum(-1) + 3.0
    ulab = np.full(len(uniq), -1, np.int64)
    c_ch: list[np.ndarray] = []
    c_lum: list[float] = []
    for idx in np.argsort(-counts, kind="stable"):
        if c_ch:
            d = np.abs(np.asarray(c_ch) - ch[idx]).sum(-1)
            ratio = lum[idx] / np.asarray(c_lum)
            ok = (d < _CHROMA_JOIN) & (ratio > 1 - _LUMA_JOIN) & (ratio < 1 / (1 - _LUMA_JOIN))
            if ok.any():
                ulab[idx] = int(np.argmin(np.where(ok, d, np.inf)))
                continue
        c_ch.append(ch[idx])
        c_lum.append(float(lum[idx]))
        ulab[idx] = len(c_ch) - 1
    return ulab[inverse.ravel()]


def find_blobs(frame: np.ndarray, backdrop: Backdrop, min_pixels: int = _MIN_PIXELS) -> list[Blob]:
    """Colour blobs of one (H, W, 3) uint8 frame, largest first."""
    fg = ~backdrop.mask(frame)
    ys, xs = np.nonzero(fg)
    if len(ys) == 0:
        return []
    h, w = frame.shape[:2]
    image = np.full((h, w), -1, np.int64)
    image[ys, xs] = _clusters(frame[ys, xs])
    image = tidy_labels(image, frame, backdrop.floor, backdrop.sky)
    ys, xs = np.nonzero(image >= 0)
    cols, labels = frame[ys, xs], image[ys, xs]
    out = []
    for k in np.unique(labels):
        sel = labels == k
        if sel.sum() < min_pixels:
            continue
        m = np.zeros((h, w), bool)
        m[ys[sel], xs[sel]] = True
        yy, xx = ys[sel], xs[sel]
        color = cols[sel].astype(np.float32).mean(0)
        border = bool(xx.min() == 0 or yy.min() == 0 or xx.max() == w - 1 or yy.max() == h - 1)
        out.append(
            Blob(
                mask=m,
                color=color,
                chroma=chromaticity(color[None])[0],
                centroid=(float(xx.mean() + 0.5), float(yy.mean() + 0.5)),
                bbox=(int(xx.min()), int(yy.min()), int(xx.max()) + 1, int(yy.max()) + 1),
                area=int(sel.sum()),
                touches_border=border,
                isolated=not border and not (fg & binary_dilation(m, _NEIGHBOURS) & ~m).any(),
            )
        )
    out.sort(key=lambda b: -b.area)
    return out
