"""Collect engine data for a task and train its state and pixel dreams (``twinsim dream-train``)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from gymnasium import spaces
from twinsim.envs.dream_data import collect
from twinsim.envs.registry import TASKS, make
from twinsim.neural.action_video import ActionVideoConfig, train_action_video
from twinsim.neural.dynamics import DynamicsConfig, train_dynamics
from twinsim.sim import UnknownNameError

__all__ = ["BUNDLED_DREAMS", "dream_folder", "train_dreams"]

BUNDLED_DREAMS = Path(__file__).resolve().parent.parent / "assets" / "dreams"


def dream_folder(task: str, root: str | Path | None = None) -> Path:
    """``ROOT/<task>`` (ROOT defaults to the bundled ``assets/dreams``)."""
    if task not in TASKS:
        raise UnknownNameError("task", task, TASKS)
    return Path(root or BUNDLED_DREAMS) / task


def _action_shape(task: str) -> tuple[int, int]:
    env = make(f"twinsim/{task}-v0")
    space = env.action_space
    env.close()
    if isinstance(space, spaces.Discrete):
        return 1, int(space.n)
    return int(np.prod(space.shape)), 0


def train_dreams(
    task: str,
    out: str | Path | None = None,
    *,
    kinds: tuple[str, ...] = ("state", "pixel"),
    state_steps: int = 12_000,
    pixel_steps: int = 2_000,
    state_seconds: float = 60.0,
    pixel_seconds: float = 140.0,
    image_size: int = 64,
    seed: int = 0,
    threads: int = 1,
    log=print,
) -> Path:
    """Collect engine rollouts of ``task`` and train the chosen dreams into ``out/<task>``.

    Budgets: ``*_steps`` engine steps of data, ``*_seconds`` of training each.
    """
    torch.set_num_threads(threads)
    folder = dream_folder(task, out)
    act_dim, num_actions = _action_shape(task)
    if "state" in kinds:
        t0 = time.monotonic()
        data = collect(task, state_steps, seed=seed)
        log(f"{task}: {len(data.obs)} state transitions in {time.monotonic() - t0:.0f} s")
        cfg = DynamicsConfig(task, data.obs.shape[1], act_dim, num_actions)
        model = train_dynamics(
            cfg, data.obs, data.act, data.next_obs, data.reward, data.done, data.success,
            data.initial_obs, seconds=state_seconds, seed=seed, log=log,
        )  # fmt: skip
        info = {"transitions": len(data.obs), "seed": seed, "collect": "scripted+random"}
        model.save(folder, info)
        log(f"{task}: state dream -> {folder}")
    if "pixel" in kinds:
        t0 = time.monotonic()
        data = collect(task, pixel_steps, seed=seed + 1, pixels=True, image_size=image_size)
        log(f"{task}: {len(data.obs)} pixel transitions in {time.monotonic() - t0:.0f} s")
        cfg = ActionVideoConfig(task, image_size, act_dim, num_actions)
        model = train_action_video(
            cfg, data.frames, data.act, data.reward, data.done, data.success,
            data.initial_frames, steps=100_000, seconds=pixel_seconds, seed=seed, log=log,
        )  # fmt: skip
        info = {"transitions": len(data.obs), "seed": seed, "collect": "scripted+random"}
        model.save(folder, info)
        log(f"{task}: pixel dream -> {folder}")
    return folder
