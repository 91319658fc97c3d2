"""First guesses for the frame fit (:func:`twinsim.neural.refine.fit_frame`) from a blob alone.

Nelder–Mead over a rasterised error only finds the basin it starts in, so the start matters:
a body is first assumed resting upright on the floor below its lowest pixel; an elongated,
tilted blob also gets a tilted slab (a ramp), and a scenery-sized blob a thin upright wall
facing the camera, which no near-cubic start reaches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation
from twinsim.neural.proposals import Blob
from twinsim.neural.refine import FrameFit, pixel_ray
from twinsim.sim.render.camera import CameraPose

__all__ = ["end_on_start", "initial_fit", "side_on_start", "slab_start", "wall_start"]

_SLAB_ELONGATION = 2.0  # long / short image axis at least this for a slab start
_SLAB_TILT_DEG = (8.0, 70.0)  # image angle of the long axis from horizontal
# A blob at least this wide or tall (half extent, m, on the floor) may be scenery: the families'
# walls and screens are 0.3-0.45 m; their bodies at most about 0.15 m.
_WALL_MIN_HALF = 0.2
_WALL_HALF_THICKNESS = 0.03


def _floor_depth(pose: CameraPose, u: float, v: float) -> float:
    """Camera depth of the floor point seen at pixel (u, v) (or 2 m above the horizon)."""
    d = pixel_ray(pose, u, v)
    eye = np.asarray(pose.eye)
    if d[2] >= -1e-6:
        return 2.0
    return float(min(8.0, -eye[2] / d[2]))


def initial_fit(pose: CameraPose, blob: Blob, shape: str, color) -> tuple[FrameFit, float]:
    """A first guess from the blob alone (resting on the floor below its lowest pixel) and the
    fixed depth the frame fit works at."""
    u, v = blob.centroid
    u0, v0, u1, v1 = blob.bbox
    depth = _floor_depth(pose, u, v1 - 0.5)
    f = pose.K[0, 0]
    half_w = max(1.0, (u1 - u0) / 2) * depth / f
    half_h = max(1.0, (v1 - v0) / 2) * depth / f
    eye = np.asarray(pose.eye)
    depth = max(0.2, depth - half_w)  # the centre lies behind the front face
    pos = eye + depth * pixel_ray(pose, u, v)
    if shape == "sphere":
        size: tuple[float, ...] = (0.5 * (half_w + half_h),)
    elif shape == "box":
        size = (half_w, half_w, half_h)
    else:
        size = (half_w, 2 * half_h)
    q = np.array([0.0, 0.0, 0.0, 1.0])
    return FrameFit(shape, size, color, pos, q, float("inf"), 0), depth


def _moments(blob: Blob) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(centre (2,), variances (2,) ascending, axes (2, 2) as columns) of the blob's pixel
    centres in (u, v); None for a blob under 6 pixels."""
    vs, us = np.nonzero(blob.mask)
    if len(us) < 6:
        return None
    pts = np.stack([us + 0.5, vs + 0.5], 1).astype(float)
    centre = pts.mean(0)
    var, axes = np.linalg.eigh(np.cov((pts - centre).T))
    return centre, var, axes


@dataclass(frozen=True)
class _Bar:
    """An elongated blob as a bar: its image centre, long and short axes (unit, (u, v)) and half
    lengths along them (a uniform bar of half length h has variance h^2 / 3 along it)."""

    centre: np.ndarray
    major: np.ndarray
    minor: np.ndarray
    half_long: float
    half_short: float

    def point(self, pose: CameraPose, depth: float, offset=(0.0, 0.0)) -> np.ndarray:
        """The world point at camera ``depth`` seen at the centre + ``offset`` (px)."""
        return np.asarray(pose.eye) + depth * pixel_ray(pose, *(self.centre + offset))

    def span(self, pose: CameraPose, depth: float, axis: np.ndarray, half: float) -> np.ndarray:
        """The world vector between the two ends of ``axis`` x ``half`` about the centre,
        back-projected at camera ``depth``."""
        return self.point(pose, depth, half * axis) - self.point(pose, depth, -half * axis)


def _bar(blob: Blob) -> _Bar | None:
    """The blob as a bar, or None when it is not at least ``_SLAB_ELONGATION`` times as long as
    wide (or too small to measure)."""
    moments = _moments(blob)
    if moments is None:
        return None
    centre, var, axes = moments
    half_long, half_short = math.sqrt(3 * var[1]), math.sqrt(3 * max(var[0], 1e-6))
    if half_long < _SLAB_ELONGATION * half_short:
        return None
    return _Bar(centre, axes[:, 1], axes[:, 0], half_long, half_short)


def slab_start(
    pose: CameraPose, blob: Blob, color, depth: float, lean: float = 0.0
) -> FrameFit | None:
    """A thin box along the blob's long image axis, tilted in the vertical plane through that
    axis (a ramp), at camera ``depth``; None when the blob is not an elongated, tilted one.

    The long axis and the half lengths come from the blob's second moments (a uniform bar of
    half length h has variance h^2 / 3 along it), back-projected at ``depth``. ``lean``
    (radians) turns the long axis out of that plane about the line of sight's normal, toward
    the camera (negative) or away: every lean draws the same image axis, the pixels of its
    faces tell them apart.
    """
    bar = _bar(blob)
    if bar is None:
        return None
    angle = math.degrees(math.atan2(abs(bar.major[1]), abs(bar.major[0])))
    lo, hi = _SLAB_TILT_DEG
    if not lo <= angle <= hi:
        return None
    along = bar.span(pose, depth, bar.major, bar.half_long)
    length = float(np.linalg.norm(along)) / 2
    along /= 2 * length
    if lean:
        sight = pixel_ray(pose, *bar.centre)
        sight = sight - (sight @ along) * along
        along = math.cos(lean) * along + math.sin(lean) * sight / np.linalg.norm(sight)
        length /= math.cos(lean)
    side = np.cross(along, [0.0, 0.0, 1.0])
    if np.linalg.norm(side) < 0.3:  # the long axis is near vertical: an upright wall, not a slab
        return None
    side /= np.linalg.norm(side)
    normal = np.cross(along, side)
    if normal[2] < 0:
        normal, side = -normal, -side
    q = Rotation.from_matrix(np.stack([along, side, normal], 1)).as_quat()
    short = float(np.linalg.norm(bar.span(pose, depth, bar.minor, bar.half_short))) / 2
    size = (length, max(0.5 * length, short), 0.25 * short)
    return FrameFit("box", size, color, bar.point(pose, depth), q, float("inf"), 0)


def _level_facing(pose: CameraPose) -> tuple[np.ndarray, np.ndarray] | None:
    """(right, facing): the camera's level right and level forward directions; None when it
    looks straight down."""
    rot = pose.world_to_camera[:3, :3]
    right = np.array([rot[0, 0], rot[0, 1], 0.0])
    if np.linalg.norm(right) < 1e-6:
        return None
    right /= np.linalg.norm(right)
    return right, np.cross([0.0, 0.0, 1.0], right)


def end_on_start(pose: CameraPose, blob: Blob, color, depth: float) -> FrameFit | None:
    """A cylinder lying with its axis along the line of sight (a roller seen end-on), its radius
    from the blob's narrow image axis, at camera ``depth``; None for a blob too small to measure.

    End-on, the silhouette is the hull of the near and far caps: as wide as the caps across and
    drawn out toward the vanishing point along. The upright start's radius (half the blob's
    width) takes that drawn-out width for the diameter and leaves the fit in a wrong minimum.
    A uniform disc of radius r has variance r^2 / 4 along any axis.
    """
    moments = _moments(blob)
    level = _level_facing(pose)
    if moments is None or level is None:
        return None
    right, facing = level
    var_minor = float(moments[1][0])
    radius = 2.0 * math.sqrt(max(var_minor, 0.25)) * depth / pose.K[0, 0]
    q = Rotation.from_matrix(np.stack([right, [0.0, 0.0, -1.0], facing], 1)).as_quat()
    pos = np.asarray(pose.eye) + depth * pixel_ray(pose, *blob.centroid)
    return FrameFit("cylinder", (radius, 2.0 * radius), color, pos, q, float("inf"), 0)


def side_on_start(pose: CameraPose, blob: Blob, color, depth: float) -> FrameFit | None:
    """A cylinder lying with its axis level and across the line of sight, along the blob's long
    image axis (a toppled roller seen from the side), at camera ``depth``; None unless the
    blob is elongated and its long axis nearer the horizontal than the vertical.

    Side-on, a lying cylinder's silhouette is a bar as long as the cylinder and as tall as its
    diameter, which an upright cylinder as wide as it is long draws as well: the upright start
    found that one (push seed 2 000 006: radius 0.17 m for 0.08) and the engine stood it up.
    Half lengths from the second moments as in :func:`slab_start`.
    """
    bar = _bar(blob)
    if bar is None or abs(bar.major[1]) > abs(bar.major[0]):
        return None
    along = bar.span(pose, depth, bar.major, bar.half_long)
    along[2] = 0.0
    if np.linalg.norm(along) < 1e-6:
        return None
    length = float(np.linalg.norm(along))
    axis = along / length
    up = np.array([0.0, 0.0, 1.0])
    q = Rotation.from_matrix(np.stack([up, np.cross(axis, up), axis], 1)).as_quat()
    radius = float(np.linalg.norm(bar.span(pose, depth, bar.minor, bar.half_short))) / 2
    return FrameFit("cylinder", (radius, length), color, bar.point(pose, depth), q, float("inf"), 0)


def wall_start(pose: CameraPose, blob: Blob, color, width: int) -> FrameFit | None:
    """A thin upright box facing the camera, as wide as the blob, its front face on the floor
    line of the blob's lowest row and reaching up to its top row (a wall or screen); None when
    the blob is narrower than scenery. A blob cut by the image side (``width`` px wide) gets a
    wall that goes on beyond that side, so only its free end has to be fitted.

    Only its top face shows how deep a box is, and a wall seen from about its height shows almost
    none, so the near-cube prior makes such a wall a deep block; this start lets the pixels judge.
    """
    u0, v0, u1, v1 = blob.bbox
    u, _ = blob.centroid
    depth = _floor_depth(pose, u, v1 - 0.5)
    f = pose.K[0, 0]
    if max(u1 - u0, v1 - v0) * depth / f < 2 * _WALL_MIN_HALF:  # (a wall coming in is cut)
        return None
    axes = _level_facing(pose)
    if axes is None:  # looking straight down: no facing direction
        return None
    right, facing = axes  # facing: away from the camera, level
    up = np.array([0.0, 0.0, 1.0])
    eye = np.asarray(pose.eye)
    left, right_end = float(u0), float(u1)
    beyond = right_end - left + 8.0  # px a cut wall goes on past the side (fitting trims it)
    if u0 == 0:
        left = -beyond
    if u1 >= width:
        right_end = width + beyond
    ends = [
        eye + _floor_depth(pose, c, v1 - 0.5) * pixel_ray(pose, c, v1 - 0.5)
        for c in (left, right_end)
    ]
    base = 0.5 * (ends[0] + ends[1])
    half_w = 0.5 * float(abs((ends[1] - ends[0]) @ right))
    ray = pixel_ray(pose, u, v0 + 0.5)  # the top edge, on the front face's plane
    denom = float(facing @ ray)
    if denom <= 1e-6:
        return None
    height = float((eye + (facing @ (base - eye)) / denom * ray)[2])
    if height <= 0.0:
        return None
    pos = base + _WALL_HALF_THICKNESS * facing + np.array([0.0, 0.0, height / 2])
    size = (half_w, _WALL_HALF_THICKNESS, height / 2)
    q = Rotation.from_matrix(np.stack([right, facing, up], 1)).as_quat()
    return FrameFit("box", size, color, pos, q, float("inf"), 0)
