"""Physical cues behind an estimated body's motion and extent where pixels alone are ambiguous:
gravity (a free flight's arc fixes its scale), support (a body moving off the floor without
falling is carried by something: extrapolate it), and the image edge (a body cut by it moves with
its free edge and extends behind it). Used by :func:`twinsim.neural.estimate.estimate_scene`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
from scipy.spatial.transform import Rotation
from twinsim.neural.kinematics import (
    FPS,
    G,
    across_sight,
    constant_acceleration,
    fit_arc,
    motion_fit,
)
from twinsim.neural.refine import FrameFit, lowest_offset, project, scaled
from twinsim.neural.support import typical_half
from twinsim.neural.track import Track
from twinsim.sim.spec import Keyframe

__all__ = [
    "completed",
    "edge_velocity",
    "entering",
    "extrapolated_path",
    "on_arc",
    "supported_motion",
]

_ARC_MAX_PX = 0.6  # RMS reprojection error (px) above which the track is not one free flight
_ARC_SIZE = (0.025, 0.35)  # geometric-mean half extents (m) an arc may imply
_EXTRAPOLATE_S = 2.0  # how far an unexplained supported motion is extrapolated (s)
_EDGE_FRAMES = 6  # recent frames whose free edge gives a cut body's speed
_EDGE_MIN_PX = 0.3  # px per frame below which that edge is taken as still
# A body sliding into view is seen only up to the image edge; behind it, it is assumed to reach
# this half length (m): the families' sliding occluders are 0.64-0.9 m wide.
_ENTERING_HALF = 0.4


def on_arc(
    fits: dict[int, FrameFit],
    ts: list[int],
    times: np.ndarray,
    pose,
    eye: np.ndarray,
    centres: Mapping[int, tuple[float, float]] | None = None,
):
    """The fits moved onto the ballistic arc that their pixel track follows, each scaled about the
    eye to its arc depth (so the size comes from gravity); unchanged when no arc fits the track
    (a bounce, a push) or the arc puts the body implausibly large, small or below the floor.
    Returns (fits, whether they were moved onto an arc).

    ``centres``, optional: {frame: (u, v)} where the body's centre projects, read off its
    whole blob (:func:`~twinsim.neural.track_motion.centres_seen`). With one for every frame
    of ``ts`` the arc follows those instead of the fits' projected centres and depths: a
    tumbling box's fits stall up to a pixel off, differently in each frame, and the arc's bend
    (which is the scale) is made of fractions of a pixel."""
    seen = [project(pose, fits[t].position) for t in ts]
    fit_depth = np.array([s[1] for s in seen])
    uv, depth = np.stack([s[0] for s in seen]), fit_depth
    if centres is not None and all(t in centres for t in ts):
        uv, depth = np.array([centres[t] for t in ts], float), None
    p0, v0, _, _ = motion_fit(times, np.stack([fits[t].position for t in ts]), True)
    p, v, rms = fit_arc(pose, times, uv, p0, v0, depth)
    if rms > _ARC_MAX_PX:
        return fits, False
    out = dict(fits)
    for t, tau, d in zip(ts, times - times[-1], fit_depth, strict=True):
        pt = p + v * tau - np.array([0.0, 0.0, 0.5 * G * tau * tau])
        lam = project(pose, pt)[1] / d
        g = scaled(fits[t], eye, lam)
        out[t] = dataclasses.replace(g, position=pt)
    f = out[ts[-1]]
    gm = typical_half(f.shape, f.size)
    low = min(
        float(out[t].position[2]) - lowest_offset(f.shape, f.size, out[t].orientation) for t in ts
    )
    if not (_ARC_SIZE[0] <= gm <= _ARC_SIZE[1]) or low < -0.02:
        return fits, False
    size = out[ts[-1]].size
    for t in fits:  # earlier frames (before the last contact) keep their fits, at the arc's size
        if t not in ts:
            out[t] = dataclasses.replace(scaled(fits[t], eye, size[0] / fits[t].size[0]), size=size)
    return out, True


def supported_motion(times: np.ndarray, pos: np.ndarray, eye: np.ndarray):
    """(position, velocity, acceleration) at the last time of a constant-acceleration fit to
    ``pos`` (N, 3), across the line of sight only (depths from apparent size are too noisy to
    differentiate twice), or None when it is a fall: vertical acceleration below -0.7 g, or any
    over 0.7 g (a fall whose fitted depths drift reads partly along the line of sight; nothing
    that carries a body accelerates it so: drop seed 3 000 007's falling box was played on
    towards the camera)."""
    p, v, a = constant_acceleration(times, pos)
    v, a = across_sight(v, p, eye), across_sight(a, p, eye)
    if a[2] < -0.7 * G or np.linalg.norm(a) > 0.7 * G:
        return None
    return p, v, a


def extrapolated_path(p, v, a, low: float, orientation, start: int) -> tuple[Keyframe, ...]:
    """Keyframes every 2 frames over ``_EXTRAPOLATE_S`` seconds of p + v t + a t^2 / 2 from
    ``start`` frames after the fitted time; never below the floor; held still after."""
    out = []
    for j in range(0, int(_EXTRAPOLATE_S * FPS) + 1, 2):
        tau = (start + j) / FPS
        q = np.asarray(p) + np.asarray(v) * tau + 0.5 * np.asarray(a) * tau * tau
        q[2] = max(float(q[2]), low)
        out.append(Keyframe(j / FPS, tuple(float(x) for x in q), orientation))
    return tuple(out)


def edge_velocity(tr: Track, width: int, pose, position: np.ndarray) -> np.ndarray | None:
    """World velocity (m/s, horizontal) of a body cut by the left or right image side, from its
    other (leading or trailing) edge's pixel motion over its recent cut frames, or None.

    A wall sliding into view shows a growing part of itself: fits of that part drift and its
    area says nothing, but its free edge moves with the wall."""
    vis = [int(t) for t in np.flatnonzero(tr.visible)[-_EDGE_FRAMES:]]
    u0, _, u1, _ = tr.blobs[vis[-1]].bbox
    if (u0 == 0) == (u1 >= width):  # not cut, or cut on both sides
        return None
    side, edge = (0, 2) if u0 == 0 else (2, 0)  # cut side; the free edge's bbox index
    cut = {0: lambda b: b.bbox[0] == 0, 2: lambda b: b.bbox[2] >= width}[side]
    ts = [t for t in vis if cut(tr.blobs[t])]
    if len(ts) < 3:
        return None
    # the edge's column in the row through the body's centre, whose depth scales the speed (the
    # bbox's edge is set by the end of the edge nearest the image centre: a deeper point that
    # moves fewer pixels per frame when the camera looks down)
    (_, v_c), _ = project(pose, position)
    cols = {t: _edge_column(tr.blobs[t], edge, v_c) for t in ts}
    ts = [t for t in ts if cols[t] is not None]
    if len(ts) < 3:
        return None
    u = np.array([cols[t] for t in ts], float)
    slope, icpt = np.polyfit(np.array(ts, float), u, 1)  # px per frame
    resid = u - (slope * np.array(ts) + icpt)
    if abs(slope) < _EDGE_MIN_PX or np.abs(resid).max() > 1.5:
        return None
    _, depth = project(pose, position)
    right = pose.world_to_camera[0, :3].copy()  # the camera's x axis in world coordinates
    right[2] = 0.0
    right /= max(float(np.linalg.norm(right)), 1e-9)
    return right * slope * FPS * depth / float(pose.K[0, 0])


def _edge_column(blob, edge: int, v: float) -> float | None:
    """The blob's left (``edge`` 0) or right (2, one past the last pixel) edge in row ``v``, or
    None when the blob does not reach that row (only a corner of the body is in view yet)."""
    cols = np.flatnonzero(blob.mask[int(v)]) if 0 <= v < blob.mask.shape[0] else ()
    if len(cols) == 0:
        return None
    return float(cols.min() if edge == 0 else cols.max() + 1)


def entering(blob, pose, position: np.ndarray, velocity: np.ndarray, width: int) -> bool:
    """Whether a moving body is cut by the side of the image it is coming in from."""
    if not blob.touches_border:
        return False
    uv0, _ = project(pose, position)
    uv1, _ = project(pose, position + 0.1 * velocity)
    du = float(uv1[0] - uv0[0])
    u0, _, u1, _ = blob.bbox
    return (u0 == 0 and du > 0.5) or (u1 >= width and du < -0.5)


def completed(fit: FrameFit, position: np.ndarray, velocity: np.ndarray, blob, pose):
    """A box coming into view (``blob`` its pixels), its length behind its leading edge set to
    ``_ENTERING_HALF`` (or the half length in view, if more) along the box axis nearest its
    motion: the part still outside the view is unseen, and a fit may have stretched it either
    way."""
    u0, _, u1, _ = blob.bbox
    in_view = 0.5 * (u1 - u0) * project(pose, position)[1] / float(pose.K[0, 0])
    R = Rotation.from_quat(fit.orientation).as_matrix()
    v = velocity / max(float(np.linalg.norm(velocity)), 1e-9)
    i = int(np.argmax(np.abs(R.T @ v)))
    half = float(fit.size[i])
    target = max(_ENTERING_HALF, in_view)
    if abs(half - target) < 1e-9:
        return fit, position
    axis = R[:, i] * np.sign(R[:, i] @ v)
    size = list(fit.size)
    size[i] = target
    pos = np.asarray(position) - (target - half) * axis
    return dataclasses.replace(fit, size=tuple(size), position=pos), pos
