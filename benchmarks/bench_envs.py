"""Env throughput: twinsim engine envs per observation mode (1 process and a 2-process
AsyncVectorEnv) against panda-gym's PandaPush-v3 in the same run, and dream steps/s at batch 1
and 64 (state and pixel dreams). Appends a section to benchmarks/RESULTS.md.

    python benchmarks/bench_envs.py [--task PushBlock] [--seconds 5] [--no-append]

panda-gym is a bench-only extra: ``pip install -e .[bench]``.
"""

from __future__ import annotations

import argparse
import time

import _common
import gymnasium as gym
import numpy as np
import torch
import twinsim.envs  # noqa: F401  (registers twinsim/*)


def _single(make, seconds: float) -> float:
    env = make()
    env.reset(seed=0)
    env.action_space.seed(0)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        n += 1
        if term or trunc:
            env.reset()
    rate = n / (time.perf_counter() - t0)
    env.close()
    return rate


def _async(env_id: str, seconds: float, **kw) -> float:
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="async", **kw)
    envs.reset(seed=0)
    envs.action_space.seed(0)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        envs.step(envs.action_space.sample())
        n += 2
    rate = n / (time.perf_counter() - t0)
    envs.close()
    return rate


def _dream(env_id: str, batch: int, seconds: float) -> float:
    envs = gym.make_vec(env_id, num_envs=batch)
    envs.reset(seed=0)
    envs.action_space.seed(0)
    acts = [envs.action_space.sample() for _ in range(16)]
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        envs.step(acts[n % 16])
        n += 1
    return n * batch / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="PushBlock")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the dreams")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    try:
        import panda_gym  # noqa: F401

        base = _single(lambda: gym.make("PandaPush-v3"), args.seconds)
        base_async = _async("PandaPush-v3", args.seconds)
        rows.append(["panda-gym PandaPush-v3 (baseline)", "state (dict)", base, base_async, 1.0])
    except ImportError:
        base = base_async = float("nan")
        print("panda-gym not installed: no baseline (pip install -e .[bench])")
    env_id = f"twinsim/{args.task}-v0"
    for mode in ("state", "rgb", "rgbd", "rgb+state"):
        single = _single(lambda m=mode: gym.make(env_id, obs_mode=m), args.seconds)
        multi = _async(env_id, args.seconds, obs_mode=mode)
        rows.append([env_id, mode, single, multi, single / base])
        print(rows[-1])
    for kind in ("dream", "dream-rgb"):
        did = f"twinsim/{args.task}-{kind}-v0"
        for batch in (1, 64):
            rate = _dream(did, batch, args.seconds)
            mode = "state" if kind == "dream" else "rgb"
            rows.append([f"{did} batch {batch}", mode, rate, "", ""])
            print(rows[-1])
    table = _common.markdown_table(
        ["env", "obs mode", "steps/s (1 process)", "steps/s (2-proc async)", "x panda-gym"],
        rows,
    )
    print(table)
    if not args.no_append:
        _common.append_results(
            f"Env throughput: {args.task} vs panda-gym PandaPush-v3, dreams (bench_envs)",
            table + "\n\nShared 2-core machine (other jobs running); dream rows step a "
            f"batched torch dream with {args.threads} thread(s), steps/s counts env steps "
            "(batch x calls).",
            [f"python benchmarks/bench_envs.py --task {args.task} --seconds {args.seconds}"],
        )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
