"""twinsim.envs: gymnasium environments on the engine, and their neural "dream" twins.

Importing this package registers the ``twinsim/`` IDs with gymnasium::

    import gymnasium as gym
    import twinsim.envs  # noqa: F401  (registers twinsim/*)

    env = gym.make("twinsim/PushBlock-v0", obs_mode="state")

``twinsim.envs.env_ids()`` lists them; see docs/envs.md.
"""

from twinsim.envs.base import OBS_MODES, EngineEnv, InvalidActionError
from twinsim.envs.registry import TASKS, env_ids, make, register_envs, task_of

register_envs()

__all__ = [
    "OBS_MODES",
    "TASKS",
    "EngineEnv",
    "InvalidActionError",
    "env_ids",
    "make",
    "register_envs",
    "task_of",
]
