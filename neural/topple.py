"""A box or cylinder caught toppling: it turns about the edge it stands on, which stays on the
floor, so its centre's step between frames is that turn, not a slide or a flight.

Fitted as a slide or a flight, a toppling body was played on at its centre's speed (0.5-1 m/s)
and slid on where it came to rest on its side, or flew off (push development seeds 3 000 030
and 3 000 032: -7.6 and -0.2 dB against copy-last-frame; +0.9 and +5.3 played as topples).
Caught mid-turn, it is given the turn it was seen making about its lowest point, put on the
floor, and the engine finishes the topple.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation
from twinsim.neural.bodies import nearest_flip
from twinsim.neural.kinematics import FPS
from twinsim.neural.refine import FrameFit
from twinsim.neural.scale import put_on
from twinsim.neural.support import FLOOR

__all__ = ["MIN_TURN_DEG", "Topple", "toppling"]

# degrees per frame: at 24 fps a topple turns 10-60 degrees a frame (push development seeds);
# the fits of a still or sliding box scatter by a few degrees
MIN_TURN_DEG = 12.0
_MIN_TURN_BEFORE_DEG = 6.0  # the step before turns the same way: not one misfitted frame
_EDGE = 0.15  # of a box's local axis: below it, the lowest point spans that axis (an edge)


@dataclass(frozen=True)
class Topple:
    """A body turning about its lowest point at the last fitted frame.

    Attributes:
        fit: the last frame's fit, moved along its line of sight onto the floor (its size kept).
        velocity: (3,) m/s of its centre: the turn about its point on the floor, plus that
            point's slide the way it falls.
        angular_velocity: (3,) rad/s, level (a topple turns about an edge on the floor).
    """

    fit: FrameFit
    velocity: np.ndarray
    angular_velocity: np.ndarray


def toppling(fits: dict[int, FrameFit], eye: np.ndarray) -> Topple | None:
    """The topple the last three ``fits`` (frame -> fit, at metric scale) of a box or cylinder
    show: its last step (one frame) turned it by :data:`MIN_TURN_DEG` or more, the step before
    by half that a frame, the same way, and the last fit is within reach of the floor along
    its line of sight; else None."""
    ts = sorted(fits)
    if len(ts) < 3 or fits[ts[-1]].shape not in ("box", "cylinder") or ts[-1] - ts[-2] > 1:
        return None
    a, b, c = (fits[t] for t in ts[-3:])
    spin = _turn(b, c) * FPS  # rad/s
    before = _turn(a, b) * FPS / (ts[-2] - ts[-3])
    if np.degrees(np.linalg.norm(spin)) < MIN_TURN_DEG * FPS:
        return None
    if np.degrees(np.linalg.norm(before)) < _MIN_TURN_BEFORE_DEG * FPS or before @ spin <= 0:
        return None
    down = put_on(c, eye, FLOOR)
    if down is None:
        return None
    spin = np.array([spin[0], spin[1], 0.0])
    velocity = np.cross(spin, down.position - _lowest_point(down))
    ahead = np.array([velocity[0], velocity[1], 0.0])
    prev = put_on(b, eye, FLOOR)
    if prev is not None and np.linalg.norm(ahead) > 1e-6:
        # a body pushed over as it slides: the edge slides on the way it falls, as far as its
        # centre's step ran ahead of the turn (across the fall, the step is mostly depth noise)
        ahead /= np.linalg.norm(ahead)
        step = (down.position - prev.position) * FPS
        velocity += ahead * max(0.0, float((step - velocity) @ ahead))
    return Topple(down, velocity, spin)


def _turn(a: FrameFit, b: FrameFit) -> np.ndarray:
    """The smallest rotation vector (rad) from pose ``a`` to pose ``b`` over the body's
    symmetries (a box's half turns about its axes; a cylinder's spin about its own axis, and
    its flip end over end)."""
    ra, rb = Rotation.from_quat(a.orientation), Rotation.from_quat(b.orientation)
    if a.shape == "cylinder":
        ua, ub = ra.as_matrix()[:, 2], rb.as_matrix()[:, 2]
        if ua @ ub < 0:
            ub = -ub
        axis = np.cross(ua, ub)
        s = float(np.linalg.norm(axis))
        if s < 1e-9:
            return np.zeros(3)
        return axis / s * float(np.arctan2(s, ua @ ub))
    return (nearest_flip(rb, ra) * ra.inv()).as_rotvec()


def _lowest_point(fit: FrameFit) -> np.ndarray:
    """(3,) the body's lowest point (the middle of its lowest edge or face)."""
    R = Rotation.from_quat(fit.orientation).as_matrix()
    c = np.asarray(fit.position, float)
    if fit.shape == "box":
        d = R.T @ np.array([0.0, 0.0, 1.0])  # the up direction in the box's axes
        corner = -np.where(np.abs(d) < _EDGE, 0.0, np.sign(d)) * np.asarray(fit.size[:3])
        return c + R @ corner
    r, half = fit.size[0], fit.size[1] / 2
    axis = R[:, 2] if R[2, 2] < 0 else -R[:, 2]  # towards the lower cap
    radial = np.array([0.0, 0.0, -1.0]) - axis * -axis[2]
    n = float(np.linalg.norm(radial))
    rim = radial / n * r if n > 1e-6 else np.zeros(3)  # upright: the middle of its cap
    return c + axis * half + rim
