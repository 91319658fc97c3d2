"""Pinhole camera maths shared by the renderers and the label computations.

Camera frame follows OpenCV: x right, y down, z forward. Pixel (u, v) has its centre at
(u + 0.5, v + 0.5) in continuous image coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from twinsim.sim.spec import CameraSpec

__all__ = ["CameraPose", "camera_pose_at", "intrinsics", "look_at"]


def intrinsics(width: int, height: int, fov_deg: float) -> np.ndarray:
    """(3, 3) float64 K for square pixels and a vertical field of view ``fov_deg``."""
    f = 0.5 * height / math.tan(math.radians(fov_deg) / 2.0)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """(4, 4) float64 world-to-camera transform (OpenCV axes) looking from ``eye`` at ``target``."""
    eye = np.asarray(eye, dtype=np.float64)
    fwd = np.asarray(target, dtype=np.float64) - eye
    fwd /= np.linalg.norm(fwd)
    up = np.asarray(up, dtype=np.float64)
    right = np.cross(fwd, up)
    if np.linalg.norm(right) < 1e-9:  # looking straight along up: pick any perpendicular
        right = np.cross(fwd, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    rot = np.stack([right, down, fwd])  # rows: camera axes in world coordinates
    m = np.eye(4)
    m[:3, :3] = rot
    m[:3, 3] = -rot @ eye
    return m


@dataclass(frozen=True)
class CameraPose:
    """A camera at one instant: everything a renderer needs.

    Attributes:
        width, height: pixels. fov: vertical field of view in degrees. near, far: metres.
        K: (3, 3) intrinsics. world_to_camera: (4, 4) OpenCV extrinsics. eye, target, up: the
        look-at parameters they were built from (PyBullet's view matrix wants these).
    """

    width: int
    height: int
    fov: float
    near: float
    far: float
    K: np.ndarray
    world_to_camera: np.ndarray
    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float]

    @property
    def camera_to_world(self) -> np.ndarray:
        return np.linalg.inv(self.world_to_camera)


def camera_pose_at(cam: CameraSpec, time: float) -> CameraPose:
    """The camera's pose at ``time`` s (keyframes linearly interpolated, clamped at the ends)."""
    eye, target = np.asarray(cam.eye, float), np.asarray(cam.target, float)
    if cam.path:
        times = np.array([k.time for k in cam.path])
        eyes = np.array([k.eye for k in cam.path], dtype=float)
        targets = np.array([k.target for k in cam.path], dtype=float)
        eye = np.array([np.interp(time, times, eyes[:, i]) for i in range(3)])
        target = np.array([np.interp(time, times, targets[:, i]) for i in range(3)])
    return CameraPose(
        width=cam.width,
        height=cam.height,
        fov=cam.fov,
        near=cam.near,
        far=cam.far,
        K=intrinsics(cam.width, cam.height, cam.fov),
        world_to_camera=look_at(eye, target, cam.up),
        eye=tuple(float(v) for v in eye),
        target=tuple(float(v) for v in target),
        up=tuple(float(v) for v in cam.up),
    )
