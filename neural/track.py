"""Tracks: each object's blobs through a clip, matched by colour, kept while it is hidden.

The engine's families give every body its own colour, so identity is colour: a blob joins the
track of the nearest chromaticity and brightness. A track with no blob in a frame is *hidden*
there (behind an occluder, or out of view), not gone: the hybrid carries it in the spec from its
last visible state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from twinsim.neural.proposals import Backdrop, Blob, estimate_backdrop, find_blobs

__all__ = ["Track", "track_objects"]

_MATCH = 0.06  # chromaticity L1 distance within which a blob continues a track
_LUMA = 0.5  # relative brightness difference allowed (a box turning shows darker faces)
_CRUMB = 8  # pixels: a track never larger than this and never seen twice running is noise


@dataclass
class Track:
    """One object through the clip.

    Attributes:
        blobs: per frame, the object's blob or None where it is not seen.
        chroma, luma: running colour signature (chromaticity, mean brightness 0..765).
    """

    blobs: list[Blob | None]
    chroma: np.ndarray
    luma: float
    _n: int = field(default=1, repr=False)

    @property
    def visible(self) -> np.ndarray:
        """(T,) bool: frames with a blob."""
        return np.array([b is not None for b in self.blobs])

    @property
    def last_seen(self) -> int:
        """Index of the last frame with a blob."""
        return int(np.flatnonzero(self.visible)[-1])

    def frames_hidden(self) -> int:
        """Frames since the object was last seen (0: visible in the last frame)."""
        return len(self.blobs) - 1 - self.last_seen

    def distance(self, blob: Blob) -> float:
        d = float(np.abs(self.chroma - blob.chroma).sum())
        ratio = float(blob.color.sum()) / max(self.luma, 1.0)
        return d if (1 - _LUMA) < ratio < 1 / (1 - _LUMA) else np.inf

    def add(self, t: int, blob: Blob) -> None:
        self.blobs[t] = blob
        self._n += 1
        a = 1.0 / self._n
        self.chroma = (1 - a) * self.chroma + a * blob.chroma
        self.luma = (1 - a) * self.luma + a * float(blob.color.sum())


def track_objects(
    frames: np.ndarray, backdrop: Backdrop | None = None
) -> tuple[list[Track], Backdrop]:
    """Blobs of every frame of (T, H, W, 3) uint8 ``frames`` linked into tracks.

    Returns the tracks (in order of first appearance) and the backdrop used.
    """
    frames = np.asarray(frames)
    bd = backdrop or estimate_backdrop(frames)
    T = len(frames)
    tracks: list[Track] = []
    for t in range(T):
        blobs = find_blobs(frames[t], bd)
        taken: set[int] = set()
        # Largest blobs choose first: a crumb of the wrong hue must not steal a track.
        for blob in blobs:
            best, best_d = -1, _MATCH
            for k, tr in enumerate(tracks):
                if k in taken:
                    continue
                d = tr.distance(blob)
                if d < best_d:
                    best, best_d = k, d
            if best >= 0:
                tracks[best].add(t, blob)
                taken.add(best)
            else:
                tr = Track([None] * T, blob.chroma.copy(), float(blob.color.sum()))
                tr.blobs[t] = blob
                tracks.append(tr)
                taken.add(len(tracks) - 1)
    return [tr for tr in tracks if not _flicker(tr)], bd


def _flicker(track: Track) -> bool:
    """Noise, not a body: never larger than a few pixels and never seen in two frames running
    (rasterisation crumbs of a render; a shaded face's codec speckle in a decoded video)."""
    vis = track.visible
    return max(b.area for b in track.blobs if b) <= _CRUMB and not (vis[1:] & vis[:-1]).any()
