"""The ``twinsim/`` gymnasium namespace: engine tasks, their state and pixel dreams.

Importing :mod:`twinsim.envs` registers every ID below with gymnasium (idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
from twinsim.sim import UnknownNameError

__all__ = ["TASKS", "TaskInfo", "env_ids", "make", "register_envs", "task_of"]

NAMESPACE = "twinsim"


@dataclass(frozen=True)
class TaskInfo:
    """One engine task: its env class (``module:Class``) and episode length (steps)."""

    entry_point: str
    max_episode_steps: int
    action: str  # "continuous" or "discrete"
    summary: str


TASKS: dict[str, TaskInfo] = {
    "PushBlock": TaskInfo(
        "twinsim.envs.task_push:PushBlockEnv", 100, "continuous", "push a block onto a disc"
    ),
    "Topple": TaskInfo("twinsim.envs.task_topple:ToppleEnv", 100, "discrete", "knock a tower over"),
    "Catch": TaskInfo(
        "twinsim.envs.task_catch:CatchEnv", 40, "continuous", "catch a falling ball on a tray"
    ),
    "Intercept": TaskInfo(
        "twinsim.envs.task_intercept:InterceptEnv",
        120,
        "continuous",
        "reach a target that slides behind a moving wall (object permanence)",
    ),
}

DREAM_KINDS = {"dream": "state", "dream-rgb": "rgb"}


def env_ids(kind: str | None = None) -> list[str]:
    """Every registered twinsim ID; ``kind``: None (all), "engine", "dream" or "dream-rgb"."""
    engine = [f"{NAMESPACE}/{t}-v0" for t in TASKS]
    dreams = {k: [f"{NAMESPACE}/{t}-{k}-v0" for t in TASKS] for k in DREAM_KINDS}
    if kind is None:
        return engine + dreams["dream"] + dreams["dream-rgb"]
    if kind == "engine":
        return engine
    if kind in dreams:
        return dreams[kind]
    raise UnknownNameError("env kind", kind, ["engine", *DREAM_KINDS])


def task_of(env_id: str) -> tuple[str, str]:
    """(task name, kind) of a twinsim ID; kind is "engine", "dream" or "dream-rgb"."""
    if env_id not in env_ids():
        raise UnknownNameError("env id", env_id, env_ids())
    name = env_id.split("/", 1)[1].removesuffix("-v0")
    for k in sorted(DREAM_KINDS, key=len, reverse=True):
        if name.endswith(f"-{k}"):
            return name.removesuffix(f"-{k}"), k
    return name, "engine"


def register_envs() -> None:
    """Register every twinsim ID with gymnasium (skips IDs already registered)."""
    for task, info in TASKS.items():
        ids = {
            f"{NAMESPACE}/{task}-v0": (info.entry_point, None, {}),
            f"{NAMESPACE}/{task}-dream-v0": (
                "twinsim.envs.dream_env:StateDreamEnv",
                "twinsim.envs.dream_env:StateDreamVectorEnv",
                {"task": task},
            ),
            f"{NAMESPACE}/{task}-dream-rgb-v0": (
                "twinsim.envs.dream_env:PixelDreamEnv",
                "twinsim.envs.dream_env:PixelDreamVectorEnv",
                {"task": task},
            ),
        }
        for env_id, (entry, vec_entry, kwargs) in ids.items():
            if env_id in gym.registry:
                continue
            gym.register(
                id=env_id,
                entry_point=entry,
                vector_entry_point=vec_entry,
                max_episode_steps=info.max_episode_steps,
                kwargs=kwargs,
            )


def make(env_id: str, **kwargs: Any) -> gym.Env:
    """``gymnasium.make`` for twinsim IDs; an unknown ID raises an error listing the valid ones."""
    if env_id not in env_ids():
        raise UnknownNameError("env id", env_id, env_ids())
    register_envs()
    return gym.make(env_id, **kwargs)
