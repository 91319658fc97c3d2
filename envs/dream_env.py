"""Dream twins: gymnasium envs whose every step is predicted by a learned model.

``twinsim/<Task>-dream-v0`` steps the state dream (:mod:`twinsim.neural.dynamics`),
``twinsim/<Task>-dream-rgb-v0`` the pixel dream (:mod:`twinsim.neural.action_video`). Each has
the observation and action spaces of the engine env (``obs_mode="state"`` / ``"rgb"``).
Rewards and episode ends come from the model's own heads; no engine runs behind a dream.

Resets draw a start from the bank of engine episode starts stored in the checkpoint, or take
one from ``options``: ``{"obs": state}`` (state dream), ``{"obs": frame}`` or
``{"frames": (prev, last)}`` (pixel dream). Batched versions (:class:`StateDreamVectorEnv`,
:class:`PixelDreamVectorEnv`) step many dreams in one torch call; ``gymnasium.make_vec`` on a
dream ID returns them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from twinsim.envs.base import InvalidActionError, check_action
from twinsim.envs.dream_train import dream_folder
from twinsim.envs.registry import TASKS
from twinsim.neural.action_video import ActionVideoModel
from twinsim.neural.dynamics import EnsembleDynamics
from twinsim.sim import UnknownNameError

__all__ = ["PixelDreamEnv", "PixelDreamVectorEnv", "StateDreamEnv", "StateDreamVectorEnv"]


def _engine_class(task: str) -> type:
    if task not in TASKS:
        raise UnknownNameError("task", task, TASKS)
    module, cls = TASKS[task].entry_point.split(":")
    import importlib

    return getattr(importlib.import_module(module), cls)


def _actions_tensor(space: spaces.Space, actions: np.ndarray, n: int) -> torch.Tensor:
    if isinstance(space, spaces.Discrete):
        return torch.as_tensor(np.asarray(actions).reshape(n), dtype=torch.long)
    return torch.as_tensor(np.asarray(actions, np.float32).reshape(n, -1))


class _Core:
    """Batched dream state shared by the single and vector envs."""

    kind: ClassVar[str]

    def __init__(
        self, task: str, checkpoint: str | Path | None, num_envs: int, threshold: float
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"done_threshold: invalid value {threshold!r}; must lie in (0, 1)")
        self.engine_cls = _engine_class(task)
        self.task, self.n, self.threshold = task, num_envs, threshold
        self.folder = dream_folder(task, checkpoint)
        self.action_space: spaces.Space = copy.deepcopy(self.engine_cls.ACTION_SPACE)

    def check_actions(self, actions: Any, batched: bool = True) -> torch.Tensor:
        """Validate one action (``batched=False``, single env) or a (num_envs, ...) batch."""
        if not batched:
            return _actions_tensor(self.action_space, check_action(self.action_space, actions), 1)
        arr = np.asarray(actions)
        shape = (self.n, *self.action_space.shape)
        if arr.shape != shape:
            raise InvalidActionError(f"invalid actions shape {arr.shape}: expected {shape}")
        space = self.action_space
        if isinstance(space, spaces.Discrete):
            bad = ~np.isin(arr, np.arange(space.start, space.start + space.n))
        else:
            bad = ~np.isfinite(arr) | (arr < space.low - 1e-5) | (arr > space.high + 1e-5)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            check_action(space, arr[row].item() if arr.ndim == 1 else arr[row])  # raises
        if isinstance(space, spaces.Box):
            arr = np.clip(arr, space.low, space.high)
        return _actions_tensor(space, arr, self.n)


class _StateCore(_Core):
    kind = "state"

    def __init__(self, task, checkpoint, num_envs, threshold) -> None:
        super().__init__(task, checkpoint, num_envs, threshold)
        self.model = EnsembleDynamics.load(self.folder)
        d = len(self.engine_cls.STATE_LABELS)
        if self.model.cfg.obs_dim != d:
            raise ValueError(
                f"{self.folder}: state dream has {self.model.cfg.obs_dim} state entries, "
                f"the {task} env {d}"
            )
        self.observation_space = spaces.Box(-np.inf, np.inf, (d,), np.float32)
        self.obs = torch.zeros(num_envs, d)

    def reset_rows(self, rows, rng: np.random.Generator, options: dict | None) -> None:
        if options and "obs" in options:
            start = torch.as_tensor(np.asarray(options["obs"], np.float32))
            if start.shape[-1:] != self.obs.shape[1:]:
                raise ValueError(f"options['obs']: expected shape {tuple(self.obs.shape[1:])}")
            self.obs[rows] = start
            return
        bank = self.model.initial_obs
        self.obs[rows] = bank[torch.as_tensor(rng.integers(0, len(bank), len(rows)))]

    def step(self, act: torch.Tensor):
        pred = self.model.predict(self.obs, act)
        self.obs = pred.next_obs
        return pred.reward, pred.done_prob, pred.success_prob, pred.spread

    def observe(self) -> np.ndarray:
        return self.obs.numpy().astype(np.float32, copy=True)


class _PixelCore(_Core):
    kind = "rgb"

    def __init__(self, task, checkpoint, num_envs, threshold) -> None:
        super().__init__(task, checkpoint, num_envs, threshold)
        self.model = ActionVideoModel.load(self.folder)
        s = self.model.cfg.image_size
        self.observation_space = spaces.Box(0, 255, (s, s, 3), np.uint8)
        self.prev = torch.zeros(num_envs, s, s, 3, dtype=torch.uint8)
        self.last = torch.zeros_like(self.prev)

    def reset_rows(self, rows, rng: np.random.Generator, options: dict | None) -> None:
        shape = tuple(self.last.shape[1:])
        if options and ("frames" in options or "obs" in options):
            if "frames" in options:
                prev, last = (np.asarray(f, np.uint8) for f in options["frames"])
            else:
                prev = last = np.asarray(options["obs"], np.uint8)
            if prev.shape != shape or last.shape != shape:
                raise ValueError(f"options frames: expected {shape} uint8 images")
            self.prev[rows], self.last[rows] = torch.as_tensor(prev), torch.as_tensor(last)
            return
        bank = self.model.initial_frames
        pick = bank[torch.as_tensor(rng.integers(0, len(bank), len(rows)))]
        self.prev[rows], self.last[rows] = pick[:, 0], pick[:, 1]

    def step(self, act: torch.Tensor):
        pred = self.model.predict(self.prev, self.last, act)
        self.prev, self.last = self.last, pred.frame
        return pred.reward, pred.done_prob, pred.success_prob, torch.zeros(self.n)

    def observe(self) -> np.ndarray:
        return self.last.numpy().copy()


class _DreamEnv(gym.Env):
    """One dream (see module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 24}
    _core_cls: ClassVar[type[_Core]]

    def __init__(
        self,
        task: str,
        checkpoint: str | Path | None = None,
        obs_mode: str | None = None,
        render_mode: str | None = None,
        done_threshold: float = 0.5,
        threads: int | None = None,
    ) -> None:
        kind = self._core_cls.kind
        if obs_mode not in (None, kind):
            raise ValueError(
                f"this dream predicts obs_mode {kind!r} only (got {obs_mode!r}); the other "
                f"dream of the task predicts {'rgb' if kind == 'state' else 'state'!r}"
            )
        if render_mode not in (None, "rgb_array") or (render_mode and kind == "state"):
            valid = "None" if kind == "state" else "None, 'rgb_array'"
            raise ValueError(f"unknown render_mode {render_mode!r}; valid render modes: {valid}")
        if threads is not None:
            torch.set_num_threads(threads)
        self.core = self._core_cls(task, checkpoint, 1, done_threshold)
        self.observation_space = self.core.observation_space
        self.action_space = self.core.action_space
        self.render_mode = render_mode
        self._ready = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.core.reset_rows([0], self.np_random, options)
        self._ready = True
        return self.core.observe()[0], {"is_success": False}

    def step(self, action: Any):
        if not self._ready:
            raise RuntimeError("call reset() before step()")
        reward, done, success, spread = self.core.step(self.core.check_actions(action, False))
        term = bool(done[0] > self.core.threshold)
        info = {
            "is_success": bool(success[0] > self.core.threshold),
            "done_prob": float(done[0]),
            "uncertainty": float(spread[0]),
        }
        return self.core.observe()[0], float(reward[0]), term, False, info

    def render(self):
        if self.render_mode == "rgb_array":
            return self.core.observe()[0]
        return None


class StateDreamEnv(_DreamEnv):
    """``twinsim/<Task>-dream-v0``: the state dream of ``task`` (ensemble-mean prediction;
    ``info["uncertainty"]`` is the members' spread in state units)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": [], "render_fps": 24}
    _core_cls = _StateCore


class PixelDreamEnv(_DreamEnv):
    """``twinsim/<Task>-dream-rgb-v0``: the pixel dream of ``task`` (obs: H x W x 3 uint8)."""

    _core_cls = _PixelCore


class _DreamVectorEnv(VectorEnv):
    """``num_envs`` dreams stepped in one torch call; autoreset on the next step (gymnasium's
    default NEXT_STEP mode); episodes truncate after ``max_episode_steps``."""

    metadata: ClassVar[dict[str, Any]] = {"autoreset_mode": AutoresetMode.NEXT_STEP}
    _core_cls: ClassVar[type[_Core]]

    def __init__(
        self,
        task: str,
        num_envs: int = 1,
        checkpoint: str | Path | None = None,
        max_episode_steps: int | None = None,
        done_threshold: float = 0.5,
        obs_mode: str | None = None,
    ) -> None:
        if not (isinstance(num_envs, int) and 1 <= num_envs <= 1_000_000):
            raise ValueError(f"num_envs: invalid value {num_envs!r}; an int >= 1")
        kind = self._core_cls.kind
        if obs_mode not in (None, kind):
            raise ValueError(f"this dream predicts obs_mode {kind!r} only (got {obs_mode!r})")
        self.core = self._core_cls(task, checkpoint, num_envs, done_threshold)
        self.num_envs = num_envs
        self.single_observation_space = self.core.observation_space
        self.single_action_space = self.core.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.max_episode_steps = max_episode_steps or TASKS[task].max_episode_steps
        self._t = np.zeros(num_envs, np.int64)
        self._needs_reset = np.zeros(num_envs, bool)
        self._rng = np.random.default_rng()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.core.reset_rows(list(range(self.num_envs)), self._rng, options)
        self._t[:] = 0
        self._needs_reset[:] = False
        return self.core.observe(), {}

    def step(self, actions: Any):
        act = self.core.check_actions(actions)
        reward, done, success, spread = self.core.step(act)
        self._t += 1
        term = (done > self.core.threshold).numpy()
        trunc = self._t >= self.max_episode_steps
        rew = reward.numpy().astype(np.float64)
        restart = np.flatnonzero(self._needs_reset)
        if len(restart):  # NEXT_STEP autoreset: these rows start a new episode now
            self.core.reset_rows(list(restart), self._rng, None)
            self._t[restart] = 0
            rew[restart], term[restart], trunc[restart] = 0.0, False, False
        obs = self.core.observe()
        self._needs_reset = term | trunc
        succ = (success > self.core.threshold).numpy() & ~np.isin(np.arange(self.num_envs), restart)
        infos = {"is_success": succ, "uncertainty": spread.numpy()}
        return obs, rew, term, trunc, infos


class StateDreamVectorEnv(_DreamVectorEnv):
    """Batched state dream (``gymnasium.make_vec("twinsim/<Task>-dream-v0", num_envs=N)``)."""

    _core_cls = _StateCore


class PixelDreamVectorEnv(_DreamVectorEnv):
    """Batched pixel dream (``gymnasium.make_vec("twinsim/<Task>-dream-rgb-v0", num_envs=N)``)."""

    _core_cls = _PixelCore
