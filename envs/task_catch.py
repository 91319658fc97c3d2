"""Catch: slide a tray under a falling ball before it reaches the floor (continuous)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from gymnasium import spaces
from twinsim.envs.base import EngineEnv
from twinsim.sim import ObjectSpec, SceneSpec

__all__ = ["CatchEnv"]


class CatchEnv(EngineEnv):
    """Catch the falling ball on the tray.

    Action: Box(-1, 1, (2,)): the tray's horizontal velocity, times ``TRAY_SPEED`` m/s.
    State (float32, 10): see ``STATE_LABELS``.
    Reward: ``-|tray - ball|`` (horizontal) per step, ``+10`` on success.
    Success: the ball touches the tray's top face (terminates). Failure: the ball reaches the
    floor elsewhere (terminates).
    difficulty: drop height 0.7 m (0) to 1.1 m (1) and horizontal drift up to 0.3 m/s.
    """

    ACTION_SPACE: ClassVar[spaces.Space] = spaces.Box(-1.0, 1.0, (2,), np.float32)
    STATE_LABELS: ClassVar[tuple[str, ...]] = (
        "tray_x", "tray_y", "tray_vx", "tray_vy",
        "ball_x", "ball_y", "ball_z", "ball_vx", "ball_vy", "ball_vz",
    )  # fmt: skip
    TRAY_SPEED: ClassVar[float] = 1.0
    TRAY_HALF: ClassVar[tuple[float, float, float]] = (0.08, 0.08, 0.015)
    BALL_RADIUS: ClassVar[float] = 0.035

    def _sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        height = 0.7 + 0.4 * self.difficulty
        if self.randomize:
            ball = rng.uniform(-0.3, 0.3, 2)
            drift = rng.uniform(-1, 1, 2) * 0.3 * self.difficulty
            tray = rng.uniform(-0.1, 0.1, 2)
        else:
            ball, drift, tray = np.array([0.25, 0.15]), np.zeros(2), np.zeros(2)
        hx, hy, hz = self.TRAY_HALF
        objs = [
            ObjectSpec(
                name="tray",
                shape="box",
                size=(hx, hy, hz),
                mass=3.0,
                friction=0.05,
                restitution=0.0,
                color=(0.3, 0.3, 0.35, 1.0),
                position=(float(tray[0]), float(tray[1]), hz),
            ),
            ObjectSpec(
                name="ball",
                shape="sphere",
                size=(self.BALL_RADIUS,),
                mass=0.2,
                restitution=0.3,
                color=(0.9, 0.2, 0.2, 1.0),
                position=(float(ball[0]), float(ball[1]), height),
                linear_velocity=(float(drift[0]), float(drift[1]), 0.0),
            ),
        ]
        return self.make_scene(objs, int(rng.integers(2**31)))

    def _act(self, action: np.ndarray) -> None:
        self._drive("tray", action * self.TRAY_SPEED)

    def _state(self) -> np.ndarray:
        w = self.world
        tx, ty, tvx, tvy = self.planar("tray")
        (bx, by, bz), _ = w.pose("ball")
        (bvx, bvy, bvz), _ = w.velocity("ball")
        return np.array([tx, ty, tvx, tvy, bx, by, bz, bvx, bvy, bvz], np.float32)

    def _outcome(self) -> tuple[float, bool, bool]:
        (tx, ty, _), _ = self.world.pose("tray")
        (bx, by, bz), _ = self.world.pose("ball")
        hx, hy, hz = self.TRAY_HALF
        r = self.BALL_RADIUS
        over = abs(bx - tx) < hx + 0.5 * r and abs(by - ty) < hy + 0.5 * r
        low = bz - r < 2 * hz + 0.01
        success = over and low
        failure = not success and bz - r < 0.01
        d = float(np.hypot(bx - tx, by - ty))
        return -d + 10.0 * success, success, failure
