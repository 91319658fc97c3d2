"""Which frames of a track to fit: the last ones where the body is seen whole, the clear frame
before the last, and the last frame it was seen at rest."""

from __future__ import annotations

import numpy as np
from twinsim.neural.track import Track

__all__ = ["changed_frame_before", "clear_frames", "last_rest"]


def clear_frames(tr: Track, window: int) -> list[int]:
    """The last ``window`` frames where the object is seen whole: its area at least 3/4 of its
    largest recent area (a body sliding behind a wall is fitted before it went in), or, after
    the first such frame, floor or sky all round it (:attr:`Blob.isolated`: a ball falling
    away from the camera shrinks, but nothing covers it, and its last frames are where its
    state is read). Earlier isolated frames of a body that grew by more than a third are left
    out: fitted back from the last frame, a ball flying toward the camera was fitted 14-29 grey
    levels off there (projectile seed 2 000 000). A body cut by the image edge (coming into
    view) is fitted in its last frames cut by the edge: its area then says how much of it is
    in view, not whether it is covered."""
    vis = np.flatnonzero(tr.visible)
    recent = vis[-24:]
    big = max(tr.blobs[t].area for t in recent)
    whole = [int(t) for t in recent if tr.blobs[t].area >= 0.75 * big]
    clear = [int(t) for t in recent if t in whole or (t > whole[0] and tr.blobs[t].isolated)]
    return clear[-window:] if clear else [int(vis[-1])]


def changed_frame_before(tr: Track, frames: list[int]) -> int | None:
    """The clear frame before the last of ``frames``, or None when there is none or its blob
    is the last one's (the same pixels: a second fit there says nothing new)."""
    if len(frames) < 2 or np.array_equal(tr.blobs[frames[-2]].mask, tr.blobs[frames[-1]].mask):
        return None
    return frames[-2]


def last_rest(tr: Track, before: int) -> int | None:
    """The last frame before ``before`` whose blob is the frame before's (the body at rest),
    or None."""
    for t in range(before - 1, 0, -1):
        a, b = tr.blobs[t - 1], tr.blobs[t]
        if a is not None and b is not None and np.array_equal(a.mask, b.mask):
            return t
    return None


def whole_centroids(tr: Track) -> dict[int, tuple[float, float]]:
    """{frame: blob centroid (u, v)} of the frames where ``tr``'s blob shows the body whole:
    floor or sky all round it and off the image edge (a blob cut by the edge or by another
    body has its centroid pulled off the body's)."""
    return {t: b.centroid for t, b in enumerate(tr.blobs) if b is not None and b.isolated}
