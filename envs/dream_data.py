"""Engine rollouts with actions for training dreams: a mix of scripted and random episodes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm
from twinsim.envs.policies import RandomPolicy, scripted_policy
from twinsim.envs.registry import make

__all__ = ["Transitions", "collect"]


@dataclass
class Transitions:
    """Flat transitions; ``frames`` (N, 3, H, W, 3) uint8 = (previous, current, next) when
    pixels were collected. ``initial_obs`` / ``initial_frames``: episode starts."""

    obs: np.ndarray
    act: np.ndarray
    next_obs: np.ndarray
    reward: np.ndarray
    done: np.ndarray
    success: np.ndarray
    initial_obs: np.ndarray
    frames: np.ndarray | None = None
    initial_frames: np.ndarray | None = None


def collect(
    task: str,
    steps: int,
    *,
    seed: int = 0,
    scripted_share: float = 0.5,
    noise: float = 0.3,
    pixels: bool = False,
    image_size: int = 64,
    progress: bool = True,
) -> Transitions:
    """Run ``steps`` engine steps of ``task`` (episodes alternate scripted, with ``noise``
    probability of a random action per step, and random actions held 1-4 steps)."""
    mode = "rgb+state" if pixels else "state"
    env = make(f"twinsim/{task}-v0", obs_mode=mode, image_size=image_size)
    rng = np.random.default_rng(seed)
    rand = RandomPolicy(env.action_space, seed)
    script = scripted_policy(task)
    cols: dict[str, list] = {k: [] for k in ("obs", "act", "next", "rew", "done", "succ", "fr")}
    starts, start_frames = [], []
    bar = tqdm(
        total=steps, disable=not progress, desc=f"collect {task}", unit="step", mininterval=5
    )
    n, ep = 0, 0
    while n < steps:
        obs, _ = env.reset(seed=seed * 100_003 + ep)
        scripted = rng.random() < scripted_share
        rand.hold = int(rng.integers(1, 5))
        rand.reset()
        script.reset()
        state = obs["state"] if pixels else obs
        prev = last = obs["rgb"] if pixels else None
        starts.append(state)
        if pixels:
            start_frames.append(np.stack([last, last]))
        while True:
            a = script(state) if scripted else rand(state)
            if scripted and rng.random() < noise:
                a = env.action_space.sample()
            obs, r, term, trunc, info = env.step(a)
            nstate = obs["state"] if pixels else obs
            cols["obs"].append(state)
            cols["act"].append(np.asarray(a, np.float32).reshape(-1))
            cols["next"].append(nstate)
            cols["rew"].append(r)
            cols["done"].append(float(term))
            cols["succ"].append(float(info["is_success"]))
            if pixels:
                cols["fr"].append(np.stack([prev, last, obs["rgb"]]))
                prev, last = last, obs["rgb"]
            state = nstate
            n += 1
            bar.update(1)
            if term or trunc or n >= steps:
                break
        ep += 1
    bar.close()
    env.close()
    f32 = lambda k: np.asarray(cols[k], np.float32)  # noqa: E731
    return Transitions(
        obs=f32("obs"),
        act=f32("act"),
        next_obs=f32("next"),
        reward=f32("rew"),
        done=f32("done"),
        success=f32("succ"),
        initial_obs=np.asarray(starts[:512], np.float32),
        frames=np.asarray(cols["fr"], np.uint8) if pixels else None,
        initial_frames=np.asarray(start_frames[:32], np.uint8) if pixels else None,
    )
