"""Model-predictive control by the cross-entropy method, over a dream or over the engine itself.

A *scorer* maps the current state and ``P`` candidate action sequences ``(P, H, ...)`` to their
predicted returns ``(P,)``. :func:`dream_scorer` rolls all candidates out in one batched call of
the state dream; :func:`engine_scorer` replays each in the engine from a saved snapshot (the
expensive reference the dream should approach).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from gymnasium import spaces
from twinsim.envs.base import EngineEnv
from twinsim.neural.dynamics import EnsembleDynamics

__all__ = ["CEMConfig", "CEMPlanner", "dream_scorer", "engine_scorer"]

Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class CEMConfig:
    """horizon: steps planned; population: candidates per iteration; elites: kept to refit;
    iterations: refits per decision; discount on predicted rewards."""

    horizon: int = 10
    population: int = 64
    elites: int = 8
    iterations: int = 3
    discount: float = 0.99

    def __post_init__(self) -> None:
        if not (1 <= self.elites <= self.population and self.horizon >= 1):
            raise ValueError(f"CEMConfig: need 1 <= elites <= population, horizon >= 1 ({self})")


class CEMPlanner:
    """Receding-horizon CEM: plan ``horizon`` steps, execute the first action, repeat."""

    def __init__(
        self, space: spaces.Space, scorer: Scorer, cfg: CEMConfig | None = None, seed: int = 0
    ) -> None:
        self.space, self.score, self.cfg = space, scorer, cfg or CEMConfig()
        self.rng = np.random.default_rng(seed)
        self.discrete = isinstance(space, spaces.Discrete)
        self.reset()

    def reset(self) -> None:
        h = self.cfg.horizon
        if self.discrete:
            self._probs = np.full((h, self.space.n), 1.0 / self.space.n)
        else:
            self._mean = np.zeros((h, *self.space.shape))

    def _sample(self, mean_or_probs: np.ndarray, std: np.ndarray | None) -> np.ndarray:
        p, h = self.cfg.population, self.cfg.horizon
        if self.discrete:
            cum = mean_or_probs.cumsum(-1)
            u = self.rng.random((p, h, 1))
            return (u > cum[None]).sum(-1).clip(0, self.space.n - 1)
        x = mean_or_probs[None] + std[None] * self.rng.standard_normal((p, *mean_or_probs.shape))
        return np.clip(x, self.space.low, self.space.high).astype(np.float32)

    def __call__(self, state: np.ndarray):
        cfg = self.cfg
        if self.discrete:
            probs = 0.8 * self._probs + 0.2 / self.space.n  # warm start, kept exploratory
        else:
            mean, std = self._mean.copy(), np.full(self._mean.shape, 0.6)
        best, best_ret = None, -np.inf
        for _ in range(cfg.iterations):
            cand = self._sample(probs if self.discrete else mean, None if self.discrete else std)
            ret = self.score(state, cand)
            elite = cand[np.argsort(ret)[-cfg.elites :]]
            if ret.max() > best_ret:
                best, best_ret = cand[int(np.argmax(ret))], float(ret.max())
            if self.discrete:
                counts = np.stack([(elite == k).mean(0) for k in range(self.space.n)], -1)
                probs = 0.3 * probs + 0.7 * counts
            else:
                mean, std = elite.mean(0), elite.std(0) + 0.05
        # shift the plan one step for the next decision (receding horizon)
        if self.discrete:
            self._probs = np.concatenate([probs[1:], np.full((1, self.space.n), 1 / self.space.n)])
            return int(best[0])
        self._mean = np.concatenate([mean[1:], np.zeros((1, *self.space.shape))])
        return best[0].astype(np.float32)


def dream_scorer(model: EnsembleDynamics, discount: float = 0.99) -> Scorer:
    """Returns of candidate sequences predicted by the state dream (one batch per step)."""

    @torch.no_grad()
    def score(state: np.ndarray, cand: np.ndarray) -> np.ndarray:
        p, h = cand.shape[:2]
        obs = torch.as_tensor(np.asarray(state, np.float32)).expand(p, -1).clone()
        alive = torch.ones(p)
        total = torch.zeros(p)
        acts = torch.as_tensor(cand)
        for t in range(h):
            pred = model.predict(obs, acts[:, t])
            total += alive * (discount**t) * pred.reward
            alive = alive * (1.0 - pred.done_prob)
            obs = pred.next_obs
        return total.numpy()

    return score


def engine_scorer(env: EngineEnv, discount: float = 0.99) -> Scorer:
    """Returns of candidate sequences replayed in the engine env itself (snapshot/restore)."""

    def score(state: np.ndarray, cand: np.ndarray) -> np.ndarray:
        world = env.world
        token, steps = world.save_state(), env._steps
        out = np.zeros(len(cand))
        for i, seq in enumerate(cand):
            total = 0.0
            for t, a in enumerate(seq):
                env._act(a.item() if env.ACTION_SPACE.shape == () else a)
                world.step_frame()
                r, success, failure = env._outcome()
                total += discount**t * r
                if success or failure:
                    break
            out[i] = total
            world.restore_state(token)
            env._steps = steps
        return out

    return score
