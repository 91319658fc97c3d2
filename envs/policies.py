"""Scripted policies on the state vector: data collection for the dreams, and baselines.

Each policy is a callable ``policy(state) -> action`` with ``reset()`` between episodes.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

__all__ = ["SCRIPTED", "RandomPolicy", "scripted_policy"]


def _toward(goal: np.ndarray, pos: np.ndarray, gain: float = 6.0) -> np.ndarray:
    return np.clip(gain * (goal - pos), -1.0, 1.0).astype(np.float32)


class RandomPolicy:
    """Uniform actions held for ``hold`` steps (a wider spread of states than i.i.d. noise)."""

    def __init__(self, space: spaces.Space, seed: int = 0, hold: int = 1) -> None:
        self.space, self.hold, self._n, self._a = space, hold, 0, None
        self.space.seed(seed)

    def reset(self) -> None:
        self._n = 0

    def __call__(self, state: np.ndarray):
        if self._n % self.hold == 0:
            self._a = self.space.sample()
        self._n += 1
        return self._a


class PushBlockScript:
    """Go behind the block (seen from the target), then push it towards the target."""

    def reset(self) -> None:
        pass

    def __call__(self, s: np.ndarray) -> np.ndarray:
        puck, blk, tgt = s[0:2], s[4:6], s[8:10]
        u = tgt - blk
        u = u / max(float(np.linalg.norm(u)), 1e-6)
        behind = blk - 0.11 * u
        off = puck - behind
        lateral = off - np.dot(off, u) * u
        if np.linalg.norm(lateral) > 0.03 or np.dot(puck - blk, u) > -0.06:
            # circle round: aim at a point further behind and to the side of the block
            side = np.array([-u[1], u[0]]) * np.sign(np.dot(puck - blk, [-u[1], u[0]]) or 1.0)
            goal = behind + 0.06 * side if np.dot(puck - blk, u) > -0.06 else behind
            return _toward(goal, puck)
        return _toward(tgt + 0.05 * u, puck, gain=3.0)


class ToppleScript:
    """Drive at the bottom block along the larger axis error first."""

    def reset(self) -> None:
        pass

    def __call__(self, s: np.ndarray) -> int:
        d = s[4:6] - s[0:2]
        if abs(d[0]) >= abs(d[1]):
            return 1 if d[0] > 0 else 2
        return 3 if d[1] > 0 else 4


class CatchScript:
    """Move the tray under the ball's predicted landing point."""

    def reset(self) -> None:
        pass

    def __call__(self, s: np.ndarray) -> np.ndarray:
        z, vz = float(s[6]), float(s[9])
        t = (vz + np.sqrt(max(vz * vz + 2 * 9.81 * max(z - 0.065, 0.0), 0.0))) / 9.81
        land = s[4:6] + s[7:9] * t
        return _toward(land, s[0:2])


class InterceptScript:
    """Chase the target; while hidden, chase where it should be (last sighting + velocity)."""

    def __init__(self, dt: float = 1 / 24) -> None:
        self.dt = dt
        self.reset()

    def reset(self) -> None:
        self._pos: np.ndarray | None = None
        self._vel = np.zeros(2)

    def __call__(self, s: np.ndarray) -> np.ndarray:
        if s[4] > 0.5:
            self._pos, self._vel = s[5:7].copy(), s[7:9].copy()
        elif self._pos is not None:
            self._pos = self._pos + self._vel * self.dt
        if self._pos is None:
            return np.zeros(2, np.float32)
        lead = self._pos + self._vel * 0.4
        return _toward(lead, s[0:2])


SCRIPTED = {
    "PushBlock": PushBlockScript,
    "Topple": ToppleScript,
    "Catch": CatchScript,
    "Intercept": InterceptScript,
}


def scripted_policy(task: str):
    """A fresh scripted policy for ``task``."""
    if task not in SCRIPTED:
        from twinsim.sim import UnknownNameError

        raise UnknownNameError("task", task, SCRIPTED)
    return SCRIPTED[task]()
