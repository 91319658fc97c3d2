"""Planning in the dream, executed in the engine: CEM-MPC over the state dream vs random vs the
same CEM planner scoring candidates in the engine itself.

    python benchmarks/bench_plan.py [--task Catch] [--episodes 10]
"""

from __future__ import annotations

import argparse
import time

import _common
import gymnasium as gym
import torch
import twinsim.envs  # noqa: F401
from twinsim.envs.dream_train import dream_folder
from twinsim.envs.planning import CEMConfig, CEMPlanner, dream_scorer, engine_scorer
from twinsim.envs.policies import RandomPolicy
from twinsim.neural.dynamics import EnsembleDynamics


def run(env, policy, episodes: int, seed: int) -> tuple[float, float]:
    wins, steps, t0 = 0, 0, time.perf_counter()
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        if hasattr(policy, "reset"):
            policy.reset()
        while True:
            obs, _, term, trunc, info = env.step(policy(obs))
            steps += 1
            if term or trunc:
                break
        wins += info["is_success"]
    return wins / episodes, (time.perf_counter() - t0) / max(steps, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="Catch")
    ap.add_argument("--episodes", type=int, default=10)
    ap.add_argument("--horizon", type=int, default=8)
    ap.add_argument("--population", type=int, default=32)
    ap.add_argument("--elites", type=int, default=6)
    ap.add_argument("--iterations", type=int, default=2)
    ap.add_argument("--seed", type=int, default=500)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    env = gym.make(f"twinsim/{args.task}-v0")
    cfg = CEMConfig(args.horizon, args.population, args.elites, args.iterations)
    model = EnsembleDynamics.load(dream_folder(args.task))
    policies = {
        "random": RandomPolicy(env.action_space, 0),
        "CEM in the state dream": CEMPlanner(env.action_space, dream_scorer(model), cfg),
        "CEM in the engine": CEMPlanner(env.action_space, engine_scorer(env.unwrapped), cfg),
    }
    rows = []
    for name, pol in policies.items():
        rate, sec = run(env, pol, args.episodes, args.seed)
        rows.append([name, rate, f"{sec * 1000:.1f}"])
        print(rows[-1], flush=True)
    table = _common.markdown_table(["policy (executed in the engine)", "success", "ms/step"], rows)
    print(table)
    if not args.no_append:
        _common.append_results(
            f"Planning in the dream: CEM-MPC on twinsim/{args.task}-v0 (bench_plan)",
            table + f"\n\n{args.episodes} episodes, horizon {args.horizon}, population "
            f"{args.population}, elites {args.elites}, {args.iterations} CEM iterations; shared "
            "2-core machine, 1 torch thread.",
            [f"python benchmarks/bench_plan.py --task {args.task} --episodes {args.episodes}"],
        )


if __name__ == "__main__":
    main()
