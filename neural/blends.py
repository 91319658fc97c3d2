"""Undo what lossy video does to flat colours before they become objects.

An engine render has no antialiasing: every pixel is the colour of one body, the floor or the
sky. A frame decoded from lossy video (H.264 with 4:2:0 chroma, or a larger frame area-resized
down) is not: each body's colour spreads into a cloud, and along every edge a thin ring of pixels
takes a colour between the two sides (chroma is stored at half resolution). Clustered as they are,
these pixels become extra "objects": 24-44 tracks for the 2-3 bodies of a 64 px family scene
written as mp4. :func:`tidy_labels` mends a frame's cluster labels:

* clusters of nearly one colour are one cluster (the codec split one body's cloud in two);
* a thin cluster whose colour lies between the colours around it is an edge blend: each of its
  pixels goes to whichever side of the edge it is nearer in colour.

On lossless renders the blend rule needs colours no render produces; the merge rule joins the odd
one-pixel crumb or split shaded face to its body (the blobs of 5 of 36 held-out family windows
changed, docs/hybrid.md "Video files").
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_dilation, binary_erosion

__all__ = ["chromaticity", "tidy_labels"]

_MERGE_CHROMA = 0.06  # chromaticity L1 within which two clusters are one colour (a track's match)
_MERGE_LUMA = 0.6  # relative brightness spread allowed for that merge: a cluster's (shaded faces)
_BLEND_DIST = 24.0  # RGB distance from the segment between two neighbour colours: a blend
_BLEND_ALPHA = (0.08, 0.92)  # where on that segment (a pure end is a colour, not a blend)
_THIN = 0.34  # at most this share of a blend cluster's pixels may be interior


def chromaticity(rgb: np.ndarray) -> np.ndarray:
    """rgb / (r + g + b) of (..., 3) colours in 0..255 (offset by 1 so black is defined)."""
    rgb = np.asarray(rgb, np.float32) + 1.0
    return rgb / rgb.sum(-1, keepdims=True)


def _merge_same_colour(labels: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Relabel clusters whose mean colours agree in chromaticity and brightness into one."""
    ids = [k for k in np.unique(labels) if k >= 0]
    if len(ids) < 2:
        return labels
    means = np.stack([frame[labels == k].mean(0) for k in ids])
    sizes = np.array([(labels == k).sum() for k in ids])
    ch, lum = chromaticity(means), means.sum(-1) + 3.0
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    order = [int(i) for i in np.argsort(-sizes, kind="stable")]
    for n, i in enumerate(order):  # the larger cluster absorbs the smaller
        for j in order[n + 1 :]:
            close = np.abs(ch[i] - ch[j]).sum() < _MERGE_CHROMA
            ratio = lum[j] / lum[i]
            if close and (1 - _MERGE_LUMA) < ratio < 1 / (1 - _MERGE_LUMA):
                parent[root(j)] = root(i)
    out = labels.copy()
    for i, k in enumerate(ids):
        out[labels == k] = ids[root(i)]
    return out


def _blend_ends(
    mean: np.ndarray, ends: list[tuple[int, np.ndarray]]
) -> tuple[tuple[int, np.ndarray], tuple[int, np.ndarray]] | None:
    """The pair of neighbour (label, colour)s that ``mean`` is a mix of, or None."""
    best, best_d = None, _BLEND_DIST
    for i, (_, a) in enumerate(ends):
        for end_b in ends[i + 1 :]:
            ab = end_b[1] - a
            n2 = float(ab @ ab)
            if n2 < 1.0:
                continue
            alpha = float((mean - a) @ ab) / n2
            if not _BLEND_ALPHA[0] < alpha < _BLEND_ALPHA[1]:
                continue
            d = float(np.linalg.norm(mean - (a + alpha * ab)))
            if d < best_d:
                best, best_d = (ends[i], end_b), d
    return best


def _dissolve_blends(
    labels: np.ndarray, frame: np.ndarray, backdrop: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Give the pixels of thin in-between clusters to the sides of the edge they lie on."""
    out = labels.copy()
    ids = [k for k in np.unique(labels) if k >= 0]
    sizes = {k: int((labels == k).sum()) for k in ids}
    means = {k: frame[labels == k].mean(0) for k in ids}
    ring = np.ones((3, 3), bool)
    for k in sorted(ids, key=lambda k: sizes[k]):
        mask = out == k
        if not mask.any():
            continue
        interior = binary_erosion(mask, border_value=1).sum()
        if interior > _THIN * mask.sum():
            continue
        around = binary_dilation(mask, ring) & ~mask
        ends: list[tuple[int, np.ndarray]] = []
        for n in np.unique(out[around]):
            if n < 0:
                ends += [(-1, backdrop[0]), (-1, backdrop[1])]
            elif sizes[n] > sizes[k]:
                ends.append((int(n), means[n]))
        pair = _blend_ends(means[k], ends)
        if pair is None:
            continue
        (la, ca), (lb, cb) = pair
        px = frame[mask]
        to_a = np.linalg.norm(px - ca, axis=-1) <= np.linalg.norm(px - cb, axis=-1)
        ys, xs = np.nonzero(mask)
        out[ys, xs] = np.where(to_a, la, lb)
    return out


def tidy_labels(
    labels: np.ndarray, frame: np.ndarray, floor: np.ndarray, sky: np.ndarray
) -> np.ndarray:
    """Mend (H, W) int cluster ``labels`` (-1: floor or sky) of one (H, W, 3) ``frame``.

    Returns new labels in which noise-split clusters are joined and thin edge blends are handed
    to the clusters (or the backdrop, -1) on either side of them.
    """
    f = np.asarray(frame, np.float32)
    merged = _merge_same_colour(labels, f)
    return _dissolve_blends(merged, f, (np.asarray(floor, np.float32), np.asarray(sky, np.float32)))
