"""Analysis by synthesis: fit an object's shape, size, pose and colour to observed pixels by
rendering candidates with the engine and minimising the pixel error (Nelder–Mead).

A single frame cannot tell a small near object from a large far one (the silhouette is the
same when the object is scaled about the camera eye, and the scenes have no shadows), so each
frame is fitted at a fixed depth and the scale is resolved per track afterwards by physics: at
rest or sliding, a body touches the floor (see :func:`grounded_scale`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize
from scipy.spatial.transform import Rotation
from twinsim.neural.canvas import Canvas
from twinsim.neural.proposals import Blob
from twinsim.sim.camera import CameraPose
from twinsim.sim.spec import ObjectSpec

__all__ = [
    "FIT_SHAPES",
    "FrameFit",
    "fit_frame",
    "grounded_scale",
    "pixel_ray",
    "project",
    "scaled",
]

FIT_SHAPES = ("sphere", "box", "cylinder")
_STEP_PX, _STEP_LOG, _STEP_ROT = 0.8, 0.12, 0.35  # initial simplex sizes


@dataclass(frozen=True)
class FrameFit:
    """An object fitted in one frame (at some depth; see :func:`scaled`).

    Attributes:
        shape, size, color: the look (spec conventions; colour RGBA in 0..1).
        position: (3,) world position (m). orientation: (4,) quaternion xyzw.
        error: mean absolute pixel error (0..255) over the object's observed and rendered pixels.
        evals: renders spent.
    """

    shape: str
    size: tuple[float, ...]
    color: tuple[float, float, float, float]
    position: np.ndarray
    orientation: np.ndarray
    error: float
    evals: int

    def spec(self, name: str = "fit") -> ObjectSpec:
        return ObjectSpec(
            name=name,
            shape=self.shape,
            size=tuple(float(s) for s in self.size),
            color=self.color,
            position=tuple(float(x) for x in self.position),
            orientation=tuple(float(x) for x in self.orientation),
        )


def pixel_ray(pose: CameraPose, u: float, v: float) -> np.ndarray:
    """World direction through continuous pixel (u, v), scaled so its camera depth is 1."""
    d_cam = np.linalg.solve(pose.K, np.array([u, v, 1.0]))
    return pose.world_to_camera[:3, :3].T @ d_cam


def project(pose: CameraPose, point: np.ndarray) -> tuple[np.ndarray, float]:
    """Pixel (u, v) and camera depth of a world point."""
    pc = pose.world_to_camera[:3, :3] @ np.asarray(point, float) + pose.world_to_camera[:3, 3]
    uv = pose.K @ (pc / pc[2])
    return uv[:2], float(pc[2])


def lowest_offset(shape: str, size: tuple[float, ...], quat: np.ndarray) -> float:
    """How far the body's lowest point lies below its centre (m)."""
    R = Rotation.from_quat(quat).as_matrix()
    if shape == "sphere":
        return size[0]
    if shape == "box":
        return float(np.abs(R[2]) @ np.asarray(size[:3]))
    az = abs(R[2, 2])
    r, half = size[0], size[1] / 2
    if shape == "capsule":
        return r + az * half
    return r * math.sqrt(max(0.0, 1 - az * az)) + az * half


def scaled(fit: FrameFit, eye: np.ndarray, lam: float) -> FrameFit:
    """The fit scaled by ``lam`` about the camera eye (the same image, a different depth)."""
    pos = eye + lam * (fit.position - eye)
    return replace(fit, position=pos, size=tuple(s * lam for s in fit.size))


def grounded_scale(fit: FrameFit, eye: np.ndarray) -> float:
    """The scale about the eye at which the fitted body's lowest point touches the floor z = 0."""
    low = fit.position[2] - lowest_offset(fit.shape, fit.size, fit.orientation)
    if low >= eye[2] - 1e-6:  # the body is above the camera: no grounded reading
        return float("nan")
    return float(eye[2] / (eye[2] - low))


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


def _decode(theta, shape, pose, depth, u0, v0, q0) -> tuple[tuple[float, ...], np.ndarray, np.ndarray]:
    eye = np.asarray(pose.eye)
    pos = eye + depth * pixel_ray(pose, u0 + theta[0], v0 + theta[1])
    n = {"sphere": 1, "box": 3, "cylinder": 2}[shape]
    size = tuple(float(np.exp(x)) for x in theta[2 : 2 + n])
    if shape == "sphere":
        return size, pos, q0
    rot = Rotation.from_rotvec(theta[2 + n : 5 + n]) * Rotation.from_quat(q0)
    return size, pos, rot.as_quat()


def fit_frame(
    canvas: Canvas,
    observed: np.ndarray,
    others: list[ObjectSpec | None],
    slot: int,
    start: FrameFit,
    depth: float,
    max_evals: int = 300,
    orientations: tuple[np.ndarray, ...] = (),
) -> FrameFit:
    """Refine ``start`` against one observed (H, W, 3) uint8 frame at fixed camera ``depth``.

    ``others`` are the other objects drawn meanwhile (``others[slot]`` is replaced by the
    candidate); ``orientations`` are extra starting orientations to try (the best one wins).
    The colour is refitted from the rendered and observed pixels after the geometry.
    """
    pose = canvas.pose
    obs = observed.astype(np.float32)
    uv, _ = project(pose, start.position)
    u0, v0 = float(uv[0]), float(uv[1])
    # re-express the start at the requested depth: scale about the eye
    _, d_start = project(pose, start.position)
    start = scaled(start, np.asarray(pose.eye), depth / d_start)
    objs = list(others)
    evals = 0

    def render(size, pos, q, color):
        nonlocal evals
        evals += 1
        objs[slot] = ObjectSpec(name="fit", shape=start.shape, size=size, color=color)
        poses = [None] * len(objs)
        for i, o in enumerate(objs):
            if o is not None:
                poses[i] = (o.position, o.orientation)
        poses[slot] = (pos, q)
        rgb, _ = canvas.render(objs, poses)
        return rgb

    color = start.color

    def loss(theta):
        size, pos, q = _decode(theta, start.shape, pose, depth, u0, v0, q0)
        if any(s < 1e-3 or s > 5.0 for s in size):
            return 1e12
        rgb = render(size, pos, q, color)
        return float(np.abs(rgb.astype(np.float32) - obs).sum())

    best = None
    starts = (start.orientation, *orientations) if start.shape != "sphere" else (start.orientation,)
    for q0 in starts:
        q0 = np.asarray(q0, float)
        theta0 = np.concatenate([[0.0, 0.0], np.log(start.size)])
        steps = [_STEP_PX, _STEP_PX] + [_STEP_LOG] * len(start.size)
        if start.shape != "sphere":
            theta0 = np.concatenate([theta0, np.zeros(3)])
            steps += [_STEP_ROT] * 3
        simplex = np.vstack([theta0, theta0 + np.diag(steps)])
        res = minimize(
            loss,
            theta0,
            method="Nelder-Mead",
            options={"maxfev": max_evals, "initial_simplex": simplex, "xatol": 1e-3, "fatol": 1.0},
        )
        if best is None or res.fun < best[0]:
            best = (float(res.fun), res.x, q0)
    _, theta, q0 = best
    size, pos, q = _decode(theta, start.shape, pose, depth, u0, v0, q0)
    # colour: match the mean rendered colour to the observed one where both show the object
    for _ in range(2):
        objs[slot] = ObjectSpec(name="fit", shape=start.shape, size=size, color=color)
        poses = [None if o is None else (o.position, o.orientation) for o in objs]
        poses[slot] = (pos, q)
        rgb, seg = canvas.render(objs, poses, segmentation=True)
        evals += 1
        m = seg == slot + 1
        if m.sum() < 2:
            break
        ratio = obs[m].mean(0) / np.maximum(rgb[m].astype(np.float32).mean(0), 1.0)
        color = (*[float(np.clip(c * r, 0.0, 1.0)) for c, r in zip(color[:3], ratio, strict=True)], 1.0)
    objs[slot] = ObjectSpec(name="fit", shape=start.shape, size=size, color=color)
    poses = [None if o is None else (o.position, o.orientation) for o in objs]
    poses[slot] = (pos, q)
    rgb, seg = canvas.render(objs, poses, segmentation=True)
    diff = np.abs(rgb.astype(np.float32) - obs).sum(-1) / 3
    region = seg == slot + 1
    err = float(diff[region].mean()) if region.any() else float("inf")
    return FrameFit(start.shape, size, color, pos, np.asarray(q), err, evals + 1)


def blob_error(canvas: Canvas, observed: np.ndarray, objects: list[ObjectSpec | None]) -> float:
    """Mean absolute pixel error (0..255) of a full render of ``objects`` against ``observed``."""
    rgb, _ = canvas.render(objects)
    return float(np.abs(rgb.astype(np.float32) - observed.astype(np.float32)).mean())
