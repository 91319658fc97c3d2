"""PPO (stable-baselines3) on a twinsim task's state mode vs a random policy, over 3 seeds.

    python benchmarks/bench_ppo.py [--task Catch] [--timesteps 30000] [--episodes 50]

stable-baselines3 is a bench-only extra (``pip install -e .[bench]``); it needs torch only.
"""

from __future__ import annotations

import argparse
import time

import _common
import gymnasium as gym
import numpy as np
import torch
import twinsim.envs  # noqa: F401
from twinsim.envs.policies import RandomPolicy


def success_rate(env_id: str, act, episodes: int, seed: int) -> float:
    env = gym.make(env_id)
    wins = 0
    for ep in range(episodes):
        obs, _ = env.reset(seed=10_000 + seed * 1000 + ep)
        while True:
            obs, _, term, trunc, info = env.step(act(obs))
            if term or trunc:
                break
        wins += info["is_success"]
    env.close()
    return wins / episodes


def main() -> None:
    from stable_baselines3 import PPO

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="Catch")
    ap.add_argument("--timesteps", type=int, default=30_000)
    ap.add_argument("--episodes", type=int, default=50)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    env_id = f"twinsim/{args.task}-v0"
    rows, ppo_rates, rand_rates = [], [], []
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        model = PPO("MlpPolicy", gym.make(env_id), seed=seed, n_steps=1024, batch_size=128,
                    device="cpu", verbose=0)  # fmt: skip
        model.learn(args.timesteps)
        train_s = time.perf_counter() - t0
        ppo = success_rate(
            env_id, lambda o, m=model: m.predict(o, deterministic=True)[0], args.episodes, seed
        )
        space = gym.make(env_id).action_space
        rnd = success_rate(env_id, RandomPolicy(space, seed), args.episodes, seed)
        ppo_rates.append(ppo)
        rand_rates.append(rnd)
        rows.append([seed, args.timesteps, f"{train_s:.0f}", ppo, rnd])
        print(rows[-1], flush=True)
    mp, mr = float(np.mean(ppo_rates)), float(np.mean(rand_rates))
    ratio = mp / mr if mr > 0 else float("inf")
    rows.append(["mean", args.timesteps, "", mp, mr])
    table = _common.markdown_table(
        ["seed", "PPO timesteps", "train s", "PPO success", "random success"], rows
    )
    table += f"\n\nPPO / random success: {ratio:.1f}x ({args.episodes} eval episodes per seed)."
    print(table)
    if not args.no_append:
        _common.append_results(
            f"PPO on {env_id} (state) vs random (bench_ppo)",
            table + "\nShared 2-core machine, nice 10, 1 torch thread.",
            [f"python benchmarks/bench_ppo.py --task {args.task} --timesteps {args.timesteps}"],
        )


if __name__ == "__main__":
    main()
