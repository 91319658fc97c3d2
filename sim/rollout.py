"""The result of simulating a scene: frames plus labels, with their shapes, dtypes and units.

All per-frame arrays share the leading axis T = ``spec.world.num_frames`` (frame 0 is t = 0).
Labels not requested are None. See docs/conventions.md for coordinate conventions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from twinsim.sim.spec import SceneSpec

__all__ = ["CameraTrack", "Contact", "ObjectTrack", "Rollout"]


@dataclass
class ObjectTrack:
    """Per-frame state of one body (world frame, SI units).

    Attributes:
        name: the spec object's name; its segmentation id is ``spec.names.index(name) + 1``.
        position: (T, 3) float64, metres, centre of mass.
        orientation: (T, 4) float64 quaternion (x, y, z, w).
        linear_velocity: (T, 3) float64, m/s.
        angular_velocity: (T, 3) float64, rad/s.
        present: (T,) bool, False while the body does not exist (vanished / not yet appeared).
        bbox: (T, 4) float32 pixel box (x0, y0, x1, y1) of its visible pixels, x1/y1 exclusive;
            all -1 when not visible. None unless the "visibility" label was requested.
        visible_fraction: (T,) float32 in [0, 1], visible pixels / pixels it would cover if alone
            in the scene (0 when outside the view). None unless "visibility" was requested.
        occluded: (T,) bool, present and in view, yet not visible (visible_fraction == 0
            while its unoccluded silhouette is non-empty). None unless "visibility" was requested.
    """

    name: str
    position: np.ndarray
    orientation: np.ndarray
    linear_velocity: np.ndarray
    angular_velocity: np.ndarray
    present: np.ndarray
    bbox: np.ndarray | None = None
    visible_fraction: np.ndarray | None = None
    occluded: np.ndarray | None = None


@dataclass
class CameraTrack:
    """Pinhole camera, OpenCV convention: x right, y down, z forward (optical axis).

    Attributes:
        name: the spec camera's name.
        width, height: image size in pixels.
        K: (3, 3) float64 intrinsics; pixel (u, v) = K @ (x/z, y/z, 1), pixel centres at +0.5.
        world_to_camera: (T, 4, 4) float64 extrinsics per frame (camera may move).
        near, far: clipping planes in metres; depth of background pixels is ``far``.
    """

    name: str
    width: int
    height: int
    K: np.ndarray
    world_to_camera: np.ndarray
    near: float
    far: float


@dataclass(frozen=True)
class Contact:
    """One contact point between two bodies ("floor" for the ground plane) during a frame's steps.

    ``frame`` is the frame the contact precedes (steps between frame-1 and frame), ``position`` is
    on body ``a`` in world coordinates (m), ``normal`` points from b to a, ``normal_impulse`` is
    in N s (force times the physics timestep).
    """

    frame: int
    a: str
    b: str
    position: tuple[float, float, float]
    normal: tuple[float, float, float]
    normal_impulse: float


@dataclass
class Rollout:
    """A simulated scene with the labels requested from :func:`twinsim.sim.simulate`.

    Attributes:
        spec: the scene that was simulated.
        times: (T,) float64 seconds.
        rgb: (T, H, W, 3) uint8.
        depth: (T, H, W) float32 metric depth in metres along the optical axis (z in camera
            frame), ``camera.far`` for background pixels.
        segmentation: (T, H, W) int32; 0 = background and floor, ``i + 1`` = ``spec.objects[i]``.
        flow: (T, H, W, 2) float32 forward optical flow (du, dv) in pixels from frame t to t + 1,
            computed from the known 3D motion; the last frame is all zeros.
        objects: one :class:`ObjectTrack` per spec object, in spec order.
        camera: :class:`CameraTrack`.
        contacts: contact events (only when "contacts" was requested).
        labels: the label names that were computed.
    """

    spec: SceneSpec
    times: np.ndarray
    labels: frozenset[str]
    rgb: np.ndarray | None = None
    depth: np.ndarray | None = None
    segmentation: np.ndarray | None = None
    flow: np.ndarray | None = None
    objects: list[ObjectTrack] = field(default_factory=list)
    camera: CameraTrack | None = None
    contacts: list[Contact] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        return len(self.times)

    @property
    def id_to_name(self) -> dict[int, str]:
        """Segmentation id -> object name (0, the background, is not listed)."""
        return {i + 1: n for i, n in enumerate(self.spec.names)}

    def save(self, directory: str | Path) -> Path:
        """Write preview.mp4, arrays.npz and labels.json into ``directory`` (atomic renames)."""
        from twinsim.sim.rollout_io import save_rollout

        return save_rollout(self, directory)

    @classmethod
    def load(cls, directory: str | Path) -> Rollout:
        """Read a folder written by :meth:`save`."""
        from twinsim.sim.rollout_io import load_rollout

        return load_rollout(directory)

    def track(self, name: str) -> ObjectTrack:
        """The track of the body called ``name``."""
        for t in self.objects:
            if t.name == name:
                return t
        from twinsim.sim.errors import UnknownNameError

        raise UnknownNameError("body", name, [t.name for t in self.objects])
