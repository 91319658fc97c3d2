"""A tracked body's motion at its last fitted frame: what
:func:`twinsim.neural.track_motion.track_motion` reads from a track's frame fits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from twinsim.neural.push import HeldPush
from twinsim.neural.refine import FrameFit
from twinsim.neural.support import Support
from twinsim.neural.topple import Topple

__all__ = ["Motion"]


@dataclass
class Motion:
    """A track's motion at its last fitted frame.

    Attributes:
        fits: the frame fits used (at metric scale); ts: their frames, sorted.
        fit: the fit at the last frame ``ts[-1]`` (its position may be refined).
        position, velocity: (3,) state at the last frame (m, m/s).
        sigma, velocity_se: residual scatter (m) and the velocity's standard error (m/s).
        moved: its pixels changed over the window; airborne: off the floor in some frame.
        slope: the tilted support it moves along, or None; accel: (3,) the constant
            acceleration of an unexplained supported motion (extrapolated), or None.
        restitution: against the floor (body x floor), measured from a landing, else None.
        spun: (3,) velocity of a ball before a collision inside the window, whose roll its spin
            still is (a blow through its centre does not turn it), or None.
        push: a push still acting at the last frame (:mod:`twinsim.neural.push`), or None.
        topple: the turn of a body caught toppling about its edge on the floor
            (:mod:`twinsim.neural.topple`), or None.
    """

    fits: dict[int, FrameFit]
    ts: list[int]
    fit: FrameFit
    position: np.ndarray
    velocity: np.ndarray
    sigma: float
    velocity_se: float
    moved: bool
    airborne: bool
    slope: Support | None = None
    accel: np.ndarray | None = None
    restitution: float | None = None
    spun: np.ndarray | None = None
    push: HeldPush | None = None
    topple: Topple | None = None
