"""One body the carry rule (:mod:`twinsim.neural.carry`) follows: its sightings, the slide it
is carried on while hidden, and where its sprite lands."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from twinsim.neural.carry_regions import ColourBlob, Sighting

__all__ = ["DECELERATION", "FIT_SIGHTINGS", "BodyTrack", "fit_slide"]

# Deceleration while hidden, as a fraction of the body's speed per step. Measured on the
# `screen` family's development scenes (seeds 3 000 000+): sliding bodies that came out again
# had slowed at 0.01-0.04 of their speed per step.
DECELERATION = 0.025
# Whole sightings (the latest) a hidden body's slide is fitted to. Where 48 development screen
# bodies (seeds 3 000 000+ and 4 000 000+, 166 clips) came out again, their leading edge was
# 2.08 px (RMS) from where it was due with a line through the last 4 centroids for the velocity
# (the velocity of their mean time, 1.5 steps before the last) and the last centroid for the
# position; 1.60 px fitting both, over the same 4, to the slowing slide; 1.51 over up to 9.
FIT_SIGHTINGS = 9


def fit_slide(ts: list[int], positions: ArrayLike, t_ref: int) -> tuple[np.ndarray, np.ndarray]:
    """Position and velocity at frame ``t_ref`` of the slide the rule carries bodies on, fitted
    (least squares) to ``positions`` (N, ...) at frames ``ts``: p(t) = p0 + v g(tau), g = tau -
    DECELERATION tau^2 / 2, tau = t - t_ref."""
    tau = np.asarray(ts, float) - t_ref
    basis = np.stack([np.ones_like(tau), tau - DECELERATION * tau**2 / 2], 1)
    coef = np.linalg.lstsq(basis, np.asarray(positions, float), rcond=None)[0]
    return coef[0], coef[1]


class BodyTrack:
    """A body the carry rule follows through a clip, and carries on while hidden."""

    def __init__(self, blob: ColourBlob, t: int) -> None:
        self.state = "visible"  # visible | partial (going out of sight) | hidden | emerging
        self.sightings: list[tuple[int, np.ndarray]] = []
        self.velocity = np.zeros(2)
        self.speed = 0.0  # px/step
        self.largest = blob.area
        self.hidden = 0
        self.shown = 0  # predicted frames in which the hidden body was drawn wholly in view
        self.occluder: np.ndarray | None = None  # (k, 3) colours that hide it
        self.deceleration: float | None = None  # px/step^2 while hidden, if not the typical one
        self.floor: np.ndarray | None = None  # colour it leaves behind
        # sightings since it last came back out of sight (or was first seen): whole ones, and
        # the parts seen coming back and going out
        self.stretch: list[Sighting] = []
        self.seen(blob, t, None)

    def seen(self, blob: ColourBlob, t: int, frame: np.ndarray | None) -> None:
        """A whole sighting: anchor, sprite and velocity from it."""
        self.anchor, self.t_anchor = blob.centroid, t
        self.dy, self.dx = blob.ys - blob.centroid[0], blob.xs - blob.centroid[1]
        self.sprite = blob.rgb
        self.colour = blob.colour
        self.largest = max(self.largest, blob.area)
        if self.state != "visible":  # out of sight in between: a new stretch of motion
            self.sightings = []
        self.state, self.hidden, self.shown = "visible", 0, 0
        self.sightings.append((t, blob.centroid))
        self.last_whole = Sighting(t, blob.ys, blob.xs, "whole")
        self.stretch.append(self.last_whole)
        obs = self.sightings[-FIT_SIGHTINGS:]
        if len(obs) >= 2:
            # the velocity now, not at the sightings' mean time
            ts, centroids = [o[0] for o in obs], np.stack([o[1] for o in obs])
            self.anchor, self.velocity = fit_slide(ts, centroids, t)
            self.speed = float(np.hypot(*self.velocity))
        if frame is not None:
            self.floor = self._behind(frame)

    def position(self, t: int, decel: float) -> np.ndarray:
        """Centroid at step ``t`` slowing at ``decel`` (px/step^2) from the last whole sighting."""
        speed, tau = self.speed, t - self.t_anchor
        if speed == 0:
            return self.anchor
        if decel > 0:
            tau = min(tau, speed / decel)
        return self.anchor + self.velocity / speed * (speed * tau - decel * tau**2 / 2)

    @property
    def slowing(self) -> float:
        """How fast (px/step^2) it is expected to slow while hidden."""
        return DECELERATION * self.speed if self.deceleration is None else self.deceleration

    def carried(self, t: int) -> np.ndarray:
        """Where the body is at step ``t`` if it slides on as expected."""
        return self.position(t, self.slowing)

    def footprint(
        self, centre: np.ndarray, h: int, w: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Pixels (rows, cols, colours) of the sprite centred at ``centre`` inside the frame,
        and the share of the sprite that is inside."""
        ys = np.rint(centre[0] + self.dy).astype(int)
        xs = np.rint(centre[1] + self.dx).astype(int)
        ok = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
        return ys[ok], xs[ok], self.sprite[ok], float(ok.mean()) if len(ok) else 0.0

    def _behind(self, frame: np.ndarray) -> np.ndarray | None:
        """Median colour just behind the body (what it uncovers as it moves): the floor."""
        if self.speed == 0:
            return None
        h, w = frame.shape[:2]
        ys, xs, _, _ = self.footprint(self.anchor - 2.5 * self.velocity / self.speed, h, w)
        own = set(zip(*self.footprint(self.anchor, h, w)[:2], strict=True))
        px = [frame[y, x] for y, x in zip(ys, xs, strict=True) if (y, x) not in own]
        return np.median(px, 0) if px else None
