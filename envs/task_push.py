"""PushBlock: slide a block onto a target disc with a velocity-controlled puck (continuous)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from gymnasium import spaces
from twinsim.envs.base import EngineEnv
from twinsim.envs.scene_parts import block, puck, target_disc
from twinsim.sim import SceneSpec

__all__ = ["PushBlockEnv"]


class PushBlockEnv(EngineEnv):
    """Push the red block onto the green disc.

    Action: Box(-1, 1, (2,)): the puck's horizontal velocity, times ``PUCK_SPEED`` m/s.
    State (float32, 10): see ``STATE_LABELS`` (metres, m/s, world frame).
    Reward: ``-(|block - target| + 0.3 |puck - block|)`` per step, ``+10`` on success.
    Success: block centre within 6 cm of the disc centre (terminates). Failure: the block
    leaves the 0.6 m workspace (terminates).
    difficulty: block-to-target distance 0.12 m (0) to 0.35 m (1).
    """

    ACTION_SPACE: ClassVar[spaces.Space] = spaces.Box(-1.0, 1.0, (2,), np.float32)
    STATE_LABELS: ClassVar[tuple[str, ...]] = (
        "puck_x", "puck_y", "puck_vx", "puck_vy",
        "block_x", "block_y", "block_vx", "block_vy",
        "target_x", "target_y",
    )  # fmt: skip
    PUCK_SPEED: ClassVar[float] = 0.6
    SUCCESS_RADIUS: ClassVar[float] = 0.06

    def _sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        dist = 0.12 + 0.23 * self.difficulty
        if self.randomize:
            b = rng.uniform(-0.25, 0.25, 2)
            ang = rng.uniform(0, 2 * math.pi)
            t = np.clip(b + dist * np.array([math.cos(ang), math.sin(ang)]), -0.4, 0.4)
            while True:
                pk = rng.uniform(-0.4, 0.4, 2)
                if np.linalg.norm(pk - b) > 0.15:
                    break
        else:
            b, t, pk = np.zeros(2), np.array([dist, 0.0]), np.array([-0.2, 0.0])
        objs = [puck("puck", pk), block("block", b, 0.04, 0.3), target_disc("target", t)]
        return self.make_scene(objs, int(rng.integers(2**31)))

    def _on_reset(self) -> None:
        self._target = np.asarray(self.xy("target"))

    def _act(self, action: np.ndarray) -> None:
        self._drive("puck", action * self.PUCK_SPEED)

    def _state(self) -> np.ndarray:
        tx, ty = self._target
        return np.array([*self.planar("puck"), *self.planar("block"), tx, ty], np.float32)

    def _outcome(self) -> tuple[float, bool, bool]:
        b = np.asarray(self.xy("block"))
        pk = np.asarray(self.xy("puck"))
        d_bt = float(np.linalg.norm(b - self._target))
        success = d_bt < self.SUCCESS_RADIUS
        failure = bool(np.any(np.abs(b) > self.WORKSPACE))
        reward = -(d_bt + 0.3 * float(np.linalg.norm(pk - b))) + 10.0 * success
        return reward, success, failure
