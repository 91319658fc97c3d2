"""Env throughput: twinsim engine envs per observation mode (1 process and a 2-process
AsyncVectorEnv) against panda-gym's PandaPush-v3 in the same run, and dream steps/s at batch 1
and 64 (state and pixel dreams). Appends a section to benchmarks/RESULTS.md.

    python benchmarks/bench_envs.py [--task PushBlock] [--seconds 5] [--rounds 3] [--no-append]

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
    ap.add_argument("--seconds", type=float, default=5.0, help="per timing")
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="every timing is repeated this many times, the baseline and the envs taking turns "
        "(one timing on a shared VM varies by ~15 %%); medians and ranges are reported",
    )
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the dreams")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    if args.rounds < 1 or args.seconds <= 0:
        ap.error("--rounds must be >= 1 and --seconds > 0")
    torch.set_num_threads(args.threads)
    try:
        import panda_gym  # noqa: F401

        have_panda = True
    except ImportError:
        have_panda = False
        print("panda-gym not installed: no baseline (pip install -e .[bench])")
    env_id = f"twinsim/{args.task}-v0"
    modes = ("state", "rgb", "rgbd", "rgb+state")
    dreams = [(f"twinsim/{args.task}-{k}-v0", b) for k in ("dream", "dream-rgb") for b in (1, 64)]
    single: dict[str, list[float]] = {}
    multi: dict[str, list[float]] = {}
    for r in range(args.rounds):
        if have_panda:
            single.setdefault("base", []).append(
                _single(lambda: gym.make("PandaPush-v3"), args.seconds)
            )
            multi.setdefault("base", []).append(_async("PandaPush-v3", args.seconds))
        for mode in modes:
            single.setdefault(mode, []).append(
                _single(lambda m=mode: gym.make(env_id, obs_mode=m), args.seconds)
            )
            multi.setdefault(mode, []).append(_async(env_id, args.seconds, obs_mode=mode))
        for did, batch in dreams:
            single.setdefault(f"{did} {batch}", []).append(_dream(did, batch, args.seconds))
        print(f"round {r + 1}/{args.rounds} done", flush=True)

    def ratio(key: str) -> str:
        """Median of the per-round ratios against the baseline timed in the same round."""
        if not have_panda:
            return ""
        return f"{np.median(np.divide(single[key], single['base'])):.2f}"

    rows = []
    if have_panda:
        base_row = ["panda-gym PandaPush-v3 (baseline)", "state (dict)"]
        rows.append([*base_row, _common.spread(single["base"]), _common.spread(multi["base"]), 1.0])
    for mode in modes:
        rows.append(
            [env_id, mode, _common.spread(single[mode]), _common.spread(multi[mode]), ratio(mode)]
        )
    for did, batch in dreams:
        mode = "rgb" if "dream-rgb" in did else "state"
        rows.append(
            [f"{did} batch {batch}", mode, _common.spread(single[f"{did} {batch}"]), "", ""]
        )
    table = _common.markdown_table(
        ["env", "obs mode", "steps/s (1 process)", "steps/s (2-proc async)", "x panda-gym"],
        rows,
    )
    print(table)
    if not args.no_append:
        _common.append_results(
            f"Env throughput: {args.task} vs panda-gym PandaPush-v3, dreams (bench_envs)",
            table + f"\n\nMedian (min-max) of {args.rounds} rounds, the baseline and every env "
            "taking turns; 'x panda-gym' is the median of the per-round ratios. Shared 2-core "
            f"machine; dream rows step a batched torch dream with {args.threads} thread(s), "
            "steps/s counts env steps (batch x calls).",
            [
                f"python benchmarks/bench_envs.py --task {args.task} --seconds {args.seconds} "
                f"--rounds {args.rounds}"
            ],
        )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
