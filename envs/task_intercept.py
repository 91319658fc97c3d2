"""Intercept: reach a sliding target that passes behind a moving occluder (object permanence)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pybullet as p
from gymnasium import spaces
from twinsim.envs.base import EngineEnv
from twinsim.envs.scene_parts import PUCK_RADIUS, puck
from twinsim.sim import Keyframe, ObjectSpec, SceneSpec

__all__ = ["InterceptEnv"]


class InterceptEnv(EngineEnv):
    """Touch the sliding orange target with the puck; a floating wall hides it for a while.

    The target slides at constant speed along a line (frictionless); a kinematic wall, high
    enough for both to pass under, moves the other way along a parallel line, so the camera loses
    the target behind it for part of the episode. While the target is hidden from the camera
    (a ray from the eye to its top is blocked), its state entries read 0 and
    ``target_visible`` is 0: a policy must remember where it went (object permanence).

    Action: Box(-1, 1, (2,)): the puck's horizontal velocity, times ``PUCK_SPEED`` m/s.
    State (float32, 11): see ``STATE_LABELS``.
    Reward: ``-|puck - target|`` per step (true positions), ``+10`` on success.
    Success: puck touches the target (terminates). Failure: target leaves the workspace.
    difficulty: target speed 0.2 m/s (0) to 0.35 m/s (1).
    """

    ACTION_SPACE: ClassVar[spaces.Space] = spaces.Box(-1.0, 1.0, (2,), np.float32)
    STATE_LABELS: ClassVar[tuple[str, ...]] = (
        "puck_x", "puck_y", "puck_vx", "puck_vy",
        "target_visible", "target_x", "target_y", "target_vx", "target_vy",
        "wall_x", "wall_vx",
    )  # fmt: skip
    PUCK_SPEED: ClassVar[float] = 0.4
    TARGET_RADIUS: ClassVar[float] = 0.04
    TARGET_HEIGHT: ClassVar[float] = 0.05
    LANE_Y: ClassVar[float] = 0.2
    WALL_Y: ClassVar[float] = 0.0
    WALL_HALF: ClassVar[tuple[float, float, float]] = (0.16, 0.02, 0.1)
    WALL_Z: ClassVar[float] = 0.2

    def _sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        speed = 0.2 + 0.15 * self.difficulty
        if self.randomize:
            sign = float(rng.choice([-1.0, 1.0]))
            x0 = -sign * rng.uniform(0.45, 0.5)
            lane = self.LANE_Y + rng.uniform(-0.05, 0.05)
            pk = np.array([rng.uniform(-0.2, 0.2), rng.uniform(-0.45, -0.35)])
        else:
            sign, x0, lane, pk = 1.0, -0.5, self.LANE_Y, np.array([0.0, -0.4])
        wall_x0 = x0 + sign * 0.6
        wall_v = -0.3 * speed * sign
        t_end = 10.0
        wall = ObjectSpec(
            name="wall",
            shape="box",
            size=self.WALL_HALF,
            mass=0.0,
            color=(0.55, 0.55, 0.6, 1.0),
            path=(
                Keyframe(0.0, (wall_x0, self.WALL_Y, self.WALL_Z)),
                Keyframe(t_end, (wall_x0 + wall_v * t_end, self.WALL_Y, self.WALL_Z)),
            ),
        )
        target = ObjectSpec(
            name="target",
            shape="cylinder",
            size=(self.TARGET_RADIUS, self.TARGET_HEIGHT),
            mass=0.2,
            friction=0.0,
            restitution=0.0,
            color=(1.0, 0.55, 0.05, 1.0),
            position=(float(x0), float(lane), self.TARGET_HEIGHT / 2),
            linear_velocity=(sign * speed, 0.0, 0.0),
        )
        return self.make_scene([puck("puck", pk), target, wall], int(rng.integers(2**31)))

    def target_visible(self) -> bool:
        """True when a ray from the camera eye to the target's top centre hits the target."""
        (x, y, _), _ = self.world.pose("target")
        hit = p.rayTest(
            self.CAMERA_EYE, (x, y, self.TARGET_HEIGHT), physicsClientId=self.world.client
        )[0]
        return hit[0] in (-1, self.world.body_id("target"))

    def _act(self, action: np.ndarray) -> None:
        self._drive("puck", action * self.PUCK_SPEED)

    def _state(self) -> np.ndarray:
        wx, _, wvx, _ = self.planar("wall")
        target = [1.0, *self.planar("target")] if self.target_visible() else [0.0] * 5
        return np.array([*self.planar("puck"), *target, wx, wvx], np.float32)

    def _outcome(self) -> tuple[float, bool, bool]:
        pk = np.asarray(self.xy("puck"))
        tg = np.asarray(self.xy("target"))
        d = float(np.linalg.norm(pk - tg))
        success = d < PUCK_RADIUS + self.TARGET_RADIUS + 0.015
        failure = not success and abs(tg[0]) > self.WORKSPACE
        return -d + 10.0 * success, success, failure
