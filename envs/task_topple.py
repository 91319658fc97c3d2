"""Topple: knock a three-block tower over with a puck steered by discrete commands."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from gymnasium import spaces
from twinsim.envs.base import EngineEnv
from twinsim.envs.scene_parts import block, puck
from twinsim.sim import SceneSpec

__all__ = ["ToppleEnv"]

_MOVES = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]], np.float64)


class ToppleEnv(EngineEnv):
    """Knock the tower over.

    Action: Discrete(5): 0 stay, 1 +x, 2 -x, 3 +y, 4 -y (puck velocity ``PUCK_SPEED`` m/s).
    State (float32, 13): see ``STATE_LABELS``.
    Reward: ``-0.5 |puck - tower base|`` per step, ``+10`` on success.
    Success: the top block's centre falls below half its starting height (terminates).
    difficulty: puck start distance from the tower, 0.2 m (0) to 0.4 m (1).
    """

    ACTION_SPACE: ClassVar[spaces.Space] = spaces.Discrete(5)
    STATE_LABELS: ClassVar[tuple[str, ...]] = (
        "puck_x", "puck_y", "puck_vx", "puck_vy",
        "b0_x", "b0_y", "b0_z", "b1_x", "b1_y", "b1_z", "b2_x", "b2_y", "b2_z",
    )  # fmt: skip
    PUCK_SPEED: ClassVar[float] = 0.7
    HALF: ClassVar[float] = 0.035
    BLOCKS: ClassVar[tuple[str, ...]] = ("b0", "b1", "b2")

    def _sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        dist = 0.2 + 0.2 * self.difficulty
        if self.randomize:
            base = rng.uniform(-0.2, 0.2, 2)
            ang = rng.uniform(0, 2 * math.pi)
        else:
            base, ang = np.zeros(2), math.pi
        pk = np.clip(base + dist * np.array([math.cos(ang), math.sin(ang)]), -0.5, 0.5)
        h = self.HALF
        colors = ((0.85, 0.2, 0.15, 1.0), (0.95, 0.6, 0.1, 1.0), (0.9, 0.85, 0.1, 1.0))
        tower = [
            block(n, base, h, 0.15, z=h + 2 * h * i + 1e-4 * i, color=c)
            for i, (n, c) in enumerate(zip(self.BLOCKS, colors, strict=True))
        ]
        return self.make_scene([puck("puck", pk), *tower], int(rng.integers(2**31)))

    def _on_reset(self) -> None:
        self._top_z0 = self.world.pose(self.BLOCKS[-1])[0][2]

    def _act(self, action: int) -> None:
        self._drive("puck", _MOVES[action] * self.PUCK_SPEED)

    def _state(self) -> np.ndarray:
        w = self.world
        (px, py, _), _ = w.pose("puck")
        (pvx, pvy, _), _ = w.velocity("puck")
        out = [px, py, pvx, pvy]
        for n in self.BLOCKS:
            out.extend(w.pose(n)[0])
        return np.asarray(out, np.float32)

    def _outcome(self) -> tuple[float, bool, bool]:
        top_z = self.world.pose(self.BLOCKS[-1])[0][2]
        success = top_z < 0.5 * self._top_z0
        d = float(np.linalg.norm(np.subtract(self.xy("puck"), self.xy(self.BLOCKS[0]))))
        return -0.5 * d + 10.0 * success, success, False
