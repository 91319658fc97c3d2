"""What the carry rule (:mod:`twinsim.neural.carry`) sees in a frame: regions of one colour, and
the bodies they make, and how much of a body a sighting shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import ndimage

__all__ = ["REGION_TOL", "ColourBlob", "Sighting", "colour_regions"]

REGION_TOL = 0.08  # neighbours of one region differ by less than this


def colour_regions(frame: np.ndarray, tol: float = REGION_TOL) -> tuple[np.ndarray, int]:
    """Label map (H, W) int, 1-based, of regions whose 4-neighbours differ by less than ``tol``
    (max over channels), and the number of regions."""
    # pixels at even positions of a grid twice the size, the links between them at odd ones:
    # binary labelling of that grid is the similarity graph's connected components, in C
    h, w = frame.shape[:2]
    grid = np.zeros((2 * h - 1, 2 * w - 1), bool)
    grid[::2, ::2] = True
    grid[::2, 1::2] = np.abs(frame[:, 1:] - frame[:, :-1]).max(-1) < tol
    grid[1::2, ::2] = np.abs(frame[1:] - frame[:-1]).max(-1) < tol
    labels, n = ndimage.label(grid)
    return labels[::2, ::2], n


class ColourBlob:
    """A body seen in a frame: its pixels, centroid (row, col), area, median colour, whether it
    touches the image's edge and whether any of its pixels changed since the frame before."""

    def __init__(self, mask: np.ndarray, box: tuple[slice, slice], frame: np.ndarray, moved: bool):
        ys, xs = np.nonzero(mask)
        self.ys, self.xs = ys + box[0].start, xs + box[1].start
        self.rgb = frame[self.ys, self.xs]
        self.area = len(ys)
        self.centroid = np.array([self.ys.sum(), self.xs.sum()], float) / self.area
        self.colour = np.median(self.rgb, 0)
        h, w = frame.shape[:2]
        self.at_border = (
            box[0].start == 0 or box[1].start == 0 or box[0].stop == h or box[1].stop == w
        )
        self.moved = moved
        self.used = False


@dataclass(frozen=True)
class Sighting:
    """A body's pixels (rows ``ys``, columns ``xs``) in frame ``t``; ``view``: all of it
    (``"whole"``), or the part of it coming back out of sight (``"coming"``: its leading edge
    along its motion is in view) or going out of sight (``"going"``: its trailing edge is)."""

    t: int
    ys: np.ndarray
    xs: np.ndarray
    view: Literal["whole", "coming", "going"]

    @property
    def key(self) -> tuple[int, int, int]:
        """(frame, row, column) of its centroid, rounded: the same sighting in another run of
        the rule over the clip."""
        return self.t, round(float(self.ys.mean())), round(float(self.xs.mean()))
