"""A reusable drawing board for analysis by synthesis: candidate objects rendered by the engine's
own TinyRenderer, so a candidate state that equals the truth reproduces the observed pixels.

One PyBullet DIRECT client holds the floor and one body per candidate object; bodies are rebuilt
only when their look (shape, size, colour) changes and are otherwise just moved, so a 64 px frame
costs about a millisecond.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import pybullet as p
from twinsim.sim.render.base import BodyView
from twinsim.sim.render.camera import CameraPose, camera_pose_at
from twinsim.sim.render.tiny import TinyRenderer
from twinsim.sim.spec import CameraSpec, LightSpec, ObjectSpec, SceneSpec, WorldSpec
from twinsim.sim.world.bodies import SEG_USER_KEY, create_body, create_floor

__all__ = ["Canvas", "FrameMismatch", "Pose"]

Pose = tuple[Sequence[float], Sequence[float]]  # (position (3,), quaternion xyzw (4,))


def _look(o: ObjectSpec) -> tuple:
    return (o.shape, tuple(round(s, 6) for s in o.size), tuple(round(c, 4) for c in o.color))


class Canvas:
    """Render candidate objects at candidate poses with the engine's TinyRenderer.

    Args:
        camera: the (estimated or given) camera.
        light, world: the scene light and world (floor colour) to draw with.
    """

    def __init__(self, camera: CameraSpec, light: LightSpec, world: WorldSpec) -> None:
        self.light, self.world = light, world
        self.pose: CameraPose = camera_pose_at(camera, 0.0)
        self._client = p.connect(p.DIRECT)
        self._renderer = TinyRenderer()
        self._floor = create_floor(world.floor_color, 0.5, 0.0, self._client)
        p.addUserData(self._floor, SEG_USER_KEY, "0", physicsClientId=self._client)
        self._bodies: dict[int, tuple[int, tuple, ObjectSpec]] = {}  # slot -> (uid, look, spec)

    def set_camera(self, camera: CameraSpec) -> None:
        self.pose = camera_pose_at(camera, 0.0)

    def set_floor_color(self, color: Sequence[float]) -> None:
        rgba = [float(np.clip(c, 0, 1)) for c in color[:3]] + [1.0]
        p.changeVisualShape(self._floor, -1, rgbaColor=rgba, physicsClientId=self._client)

    def _body(self, slot: int, spec: ObjectSpec) -> int:
        look = _look(spec)
        old = self._bodies.get(slot)
        if old is not None and old[1] == look:
            return old[0]
        if old is not None:
            p.removeBody(old[0], physicsClientId=self._client)
        still = ObjectSpec(
            name=spec.name, shape=spec.shape, size=spec.size, color=spec.color, mesh=spec.mesh
        )
        uid = create_body(still, self._client)
        p.addUserData(uid, SEG_USER_KEY, str(slot + 1), physicsClientId=self._client)
        self._bodies[slot] = (uid, look, spec)
        return uid

    def render(
        self,
        objects: Sequence[ObjectSpec | None],
        poses: Sequence[Pose | None] | None = None,
        *,
        segmentation: bool = False,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """RGB (H, W, 3) uint8 and, if asked, segmentation (H, W) int32 (slot + 1, 0 = none).

        ``objects[i]`` is drawn at ``poses[i]`` (default: its spec pose); None entries are not
        drawn. Slots are stable: object ``i`` always has segmentation id ``i + 1``.
        """
        views = []
        for i, o in enumerate(objects):
            if o is None:
                continue
            uid = self._body(i, o)
            pose = poses[i] if poses is not None else None
            pos, orn = pose if pose is not None else (o.position, o.orientation)
            p.resetBasePositionAndOrientation(
                uid, list(map(float, pos)), list(map(float, orn)), physicsClientId=self._client
            )
            views.append(BodyView(i + 1, o, tuple(pos), tuple(orn), True))
        frame = self._renderer.render(
            self._client,
            views,
            self.pose,
            self.light,
            self.world,
            rgb=True,
            depth=False,
            segmentation=segmentation,
        )
        return frame.rgb, frame.segmentation

    def mismatch(self, objects: Sequence[ObjectSpec | None], frame: np.ndarray) -> float:
        """Summed absolute error (0..255 per channel) of ``objects`` drawn against ``frame``
        (H, W, 3), as int32 (cast once by a caller that compares many candidates)."""
        rgb, _ = self.render(objects)
        return float(np.abs(rgb.astype(np.int32) - frame).sum())

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                p.disconnect(physicsClientId=self._client)
            self._client = None

    def __enter__(self) -> Canvas:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


class FrameMismatch:
    """A spec's mismatch with an observed ``frame`` (H, W, 3) uint8: called with a spec, the
    summed absolute pixel error of its bodies drawn with the camera, light and floor of the
    spec given here, on one :class:`Canvas` opened on first use."""

    def __init__(self, spec: SceneSpec, frame: np.ndarray) -> None:
        self._spec, self._frame, self._canvas = spec, frame.astype(np.int32), None

    def __call__(self, spec: SceneSpec) -> float:
        if self._canvas is None:
            s = self._spec
            self._canvas = Canvas(s.cameras[0], s.light, s.world)
        return self._canvas.mismatch(spec.objects, self._frame)

    def __enter__(self) -> FrameMismatch:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._canvas is not None:
            self._canvas.close()
