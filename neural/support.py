"""Surfaces a body can rest on, and the scale at which a fitted body touches one.

One frame cannot tell a small near body from a large far one; contact with a known surface
can. The floor is one such surface; the top face of a large static box the estimate has
already found (a ramp, a table) is another, and a ball rolling down a ramp touches the ramp,
not the floor behind it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

__all__ = [
    "FLOOR",
    "Support",
    "box_top",
    "contact_scale",
    "floor_offset",
    "half_extents",
    "lowest_offset",
    "support_offset",
    "typical_half",
]

_MIN_FACE_HALF = 0.08  # a top face narrower than this (a wall's) is not a support (m)
# A box longer than this (half extent, m), at most a third as thick as it is wide and tilted
# more than _RAMP_MIN_TILT is a ramp: it meets the floor flush (see floor_offset)
_RAMP_MIN_HALF = 0.25
_RAMP_MIN_TILT = math.radians(10.0)
_FOOTPRINT_MARGIN = 1.1  # contact may overhang a face's edge by 10 %


@dataclass(frozen=True)
class Support:
    """The plane ``normal @ x == offset`` (``normal`` a unit vector pointing up, out of the
    surface), bounded to a rectangle about ``centre`` spanned by the unit ``axes`` (2, 3) with
    half extents ``half`` (m); unbounded when ``centre`` is None (the floor)."""

    normal: np.ndarray
    offset: float
    centre: np.ndarray | None = None
    axes: np.ndarray | None = None
    half: tuple[float, float] = (math.inf, math.inf)

    @property
    def tilted(self) -> bool:
        """Whether the surface slopes (a body on it does not stay at one height)."""
        return bool(self.normal[2] < 0.995)

    def contains(self, point: np.ndarray) -> bool:
        """Whether ``point`` (on the plane) lies on the face (with a small overhang)."""
        if self.centre is None or self.axes is None:
            return True
        local = self.axes @ (np.asarray(point, float) - self.centre)
        return bool(np.all(np.abs(local) <= _FOOTPRINT_MARGIN * np.asarray(self.half)))

    def along(self, vec: np.ndarray) -> np.ndarray:
        """``vec`` without its component along the normal (motion that keeps contact)."""
        vec = np.asarray(vec, float)
        return vec - self.normal * float(self.normal @ vec)


FLOOR = Support(normal=np.array([0.0, 0.0, 1.0]), offset=0.0)


def support_offset(shape: str, size, quat: np.ndarray, normal=(0.0, 0.0, 1.0)) -> float:
    """How far the body's extreme point along ``-normal`` lies from its centre (m)."""
    n = np.asarray(normal, float)
    R = Rotation.from_quat(quat).as_matrix()
    if shape == "sphere":
        return float(size[0])
    if shape == "box":
        return float(np.abs(R.T @ n) @ np.asarray(size[:3]))
    a = abs(float(R[:, 2] @ n))
    r, half = size[0], size[1] / 2
    if shape == "capsule":
        return r + a * half
    return r * math.sqrt(max(0.0, 1 - a * a)) + a * half


def floor_offset(shape: str, size, quat: np.ndarray, scale: float = 1.0) -> float:
    """How far below its centre a body meets the floor, in ``size``'s units (``scale`` turns
    them into metres): its lowest point, but for a ramp (a box at least 0.25 m long, at most a
    third as thick as it is wide, tilted 10 degrees or more) the low edge of its top face. A
    ramp meets the floor flush, as a wedge does, so that what rolls down it rolls on across the
    floor (the ramp family sinks its slab by its thickness); put on its lowest corner, a ramp
    was fitted 3-6 cm high and 5-9 % too near the eye, and the ball on it with it."""
    low = support_offset(shape, size, quat)
    return low - _ramp_sink(shape, size, quat) if scale * max(size) >= _RAMP_MIN_HALF else low


def _ramp_sink(shape: str, size, quat: np.ndarray) -> float:
    """How far a thin tilted box's top face's low edge lies above its lowest point (0 for any
    other body); in ``size``'s units, so that it scales with a fit scaled about the eye."""
    if shape != "box":
        return 0.0
    R = Rotation.from_quat(quat).as_matrix()
    up = int(np.argmax(np.abs(R[2])))  # the axis nearest vertical: the slab's thickness
    width = min(size[i] for i in range(3) if i != up)
    if abs(R[2, up]) > math.cos(_RAMP_MIN_TILT) or size[up] > width / 3:
        return 0.0
    return 2.0 * float(size[up]) * abs(float(R[2, up]))


def half_extents(shape: str, size) -> tuple[float, ...]:
    """A body's half extents (m): a cylinder's ``size`` is (radius, full height)."""
    return (size[0], size[1] / 2) if shape == "cylinder" else tuple(size)


def reach(shape: str, size) -> float:
    """How far any point of a body can lie from its centre (m): the norm of its half extents
    (a bound for boxes and cylinders, exact for spheres)."""
    return float(np.linalg.norm(half_extents(shape, size)))


def typical_half(shape: str, size) -> float:
    """The geometric mean of a body's half extents (m): one number for how big it is."""
    return float(np.exp(np.mean(np.log(half_extents(shape, size)))))


def lowest_offset(shape: str, size, quat: np.ndarray) -> float:
    """How far the body's lowest point lies below its centre (m)."""
    return support_offset(shape, size, quat)


def contact_scale(
    shape: str, size, position: np.ndarray, quat: np.ndarray, eye: np.ndarray, surface: Support
) -> float:
    """The scale about ``eye`` at which the body (at ``position``, ``size``) touches
    ``surface`` from above within its face; NaN when it cannot (the eye is below the plane,
    or the contact falls off the face)."""
    n = surface.normal
    h = support_offset(shape, size, quat, n)
    rel = np.asarray(position, float) - eye
    gap_eye = float(n @ eye) - surface.offset

    def scale(h: float) -> float:
        denom = float(n @ rel) - h
        return float("nan") if gap_eye <= 1e-6 or denom >= -1e-9 else -gap_eye / denom

    lam = scale(h)
    if surface.centre is None and math.isfinite(lam):  # the floor: a ramp at the scale it stands at
        flush = floor_offset(shape, size, quat, lam)
        if flush != h:
            h, lam = flush, scale(flush)
    if not math.isfinite(lam):
        return lam
    contact = eye + lam * rel - n * (lam * h)
    return lam if surface.contains(contact) else float("nan")


def box_top(shape: str, size, position, quat) -> Support | None:
    """The upward face of a static box as a support, or None (not a box, or a face too narrow
    to rest on)."""
    if shape != "box":
        return None
    R = Rotation.from_quat(quat).as_matrix()
    up = int(np.argmax(np.abs(R[2])))
    normal = R[:, up] * np.sign(R[2, up])
    rest = [i for i in range(3) if i != up]
    half = (float(size[rest[0]]), float(size[rest[1]]))
    if min(half) < _MIN_FACE_HALF:
        return None
    centre = np.asarray(position, float) + normal * float(size[up])
    return Support(normal, float(normal @ centre), centre, R[:, rest].T.copy(), half)
