"""Environment commands: ``twinsim envs``, ``twinsim env-spec``, ``twinsim dream-train``,
``twinsim dream-check``."""

from __future__ import annotations

import argparse
import json
import time

__all__ = ["register"]


def _cmd_envs(args: argparse.Namespace) -> int:
    from twinsim.envs import TASKS, env_ids

    for env_id in env_ids():
        task = env_id.split("/")[1].split("-")[0]
        info = TASKS[task]
        kind = "dream-rgb" if "dream-rgb" in env_id else "dream" if "dream" in env_id else ""
        what = {"": info.summary, "dream": "state dream", "dream-rgb": "pixel dream"}[kind]
        print(f"{env_id:34s} {info.action:10s} {what}")
    return 0


def _cmd_env_spec(args: argparse.Namespace) -> int:
    from twinsim.envs import make, task_of

    if task_of(args.env_id)[1] != "engine":
        raise ValueError(f"{args.env_id} is a dream: only engine envs have a scene spec")
    if args.steps < 0:
        raise ValueError(f"--steps: invalid value {args.steps}; must be >= 0")
    env = make(args.env_id)
    env.reset(seed=args.seed)
    env.action_space.seed(args.seed)
    for _ in range(args.steps):
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        if term or trunc:
            break
    text = env.unwrapped.export_spec(duration=args.duration).to_json()
    env.close()
    if args.out is None:
        print(text)
    else:
        from twinsim.sim.fileio import write_text

        out = write_text(args.out, text)
        print(f"wrote {out}")
    return 0


def _cmd_dream_train(args: argparse.Namespace) -> int:
    from twinsim.envs import TASKS
    from twinsim.envs.dream_train import train_dreams

    tasks = list(TASKS) if args.tasks == "all" else args.tasks.split(",")
    for t in tasks:
        if t not in TASKS:
            raise ValueError(f"unknown task {t!r}; valid tasks: {', '.join(TASKS)}, or all")
    kinds = tuple(args.kinds.split(","))
    for k in kinds:
        if k not in ("state", "pixel"):
            raise ValueError(f"unknown dream kind {k!r}; valid kinds: state, pixel")
    start = time.monotonic()
    for t in tasks:
        train_dreams(
            t,
            args.out,
            kinds=kinds,
            state_steps=args.state_steps,
            pixel_steps=args.pixel_steps,
            state_seconds=args.state_seconds,
            pixel_seconds=args.pixel_seconds,
            seed=args.seed,
            threads=args.threads,
        )
    print(f"trained {len(tasks)} task(s) in {(time.monotonic() - start) / 60:.1f} min")
    return 0


def _cmd_dream_check(args: argparse.Namespace) -> int:
    from twinsim.envs.dream_check import dream_check

    report = dream_check(
        args.env_id,
        episodes=args.episodes,
        steps=args.steps,
        tolerance=args.tolerance,
        policy=args.policy,
        seed=args.seed,
        checkpoint=args.checkpoint,
    )
    if args.json:
        from dataclasses import asdict

        print(json.dumps(asdict(report), indent=2))
    else:
        print(report.table())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the environment commands to the twinsim parser."""
    e = sub.add_parser("envs", help="list the registered gymnasium IDs (twinsim/...)")
    e.set_defaults(func=_cmd_envs)

    s = sub.add_parser(
        "env-spec",
        help="print an engine env's current scene as a SceneSpec (for twinsim render)",
        description="Reset ENV_ID with --seed, take --steps random actions, and write the "
        "scene as it stands then (bodies at their current poses and velocities) as spec JSON.",
    )
    s.add_argument("env_id", help="an engine env ID, e.g. twinsim/PushBlock-v0")
    s.add_argument("--seed", type=int, default=0, help="reset seed (0)")
    s.add_argument("--steps", type=int, default=0, help="random actions first (0)")
    s.add_argument("--duration", type=float, default=2.0, help="spec duration in s (2.0)")
    s.add_argument("--out", default=None, help="write to this file instead of stdout")
    s.set_defaults(func=_cmd_env_spec)

    t = sub.add_parser(
        "dream-train",
        help="collect engine rollouts and train state / pixel dreams",
        description="Collect engine data (half scripted-with-noise, half random episodes) for "
        "each task and train its state dream (MLP ensemble) and pixel dream (action-"
        "conditioned video model) into OUT/<Task>/. Defaults train all four tasks in about "
        "20 min on 2 cores (the bundled dreams were made so).",
    )
    t.add_argument("--tasks", default="all", help="comma-separated task names, or all")
    t.add_argument("--kinds", default="state,pixel", help="state, pixel or both (default)")
    t.add_argument("--out", default="assets/dreams", help="output root (assets/dreams)")
    t.add_argument("--state-steps", type=int, default=12_000, help="engine steps (12000)")
    t.add_argument("--pixel-steps", type=int, default=2_000, help="engine steps (2000)")
    t.add_argument("--state-seconds", type=float, default=60, help="training budget (60)")
    t.add_argument("--pixel-seconds", type=float, default=140, help="training budget (140)")
    t.add_argument("--seed", type=int, default=0, help="data and init seed (0)")
    t.add_argument("--threads", type=int, default=1, help="torch threads (1)")
    t.set_defaults(func=_cmd_dream_train)

    c = sub.add_parser(
        "dream-check",
        help="run the same actions in an engine env and its dream; per-step errors",
        description="ENV_ID: an engine ID (checks its state dream) or a dream ID. Prints the "
        "per-step observation error (and a hold-first-observation baseline), reward error, and "
        "how many leading steps each episode stayed within --tolerance.",
    )
    c.add_argument("env_id", help="e.g. twinsim/Catch-v0 or twinsim/Catch-dream-rgb-v0")
    c.add_argument("--episodes", type=int, default=5, help="action sequences (5)")
    c.add_argument("--steps", type=int, default=50, help="max steps per sequence (50)")
    c.add_argument("--tolerance", type=float, default=None, help="obs error bound (0.05)")
    c.add_argument("--policy", default="random", help="random (default) or scripted")
    c.add_argument("--seed", type=int, default=0, help="first episode seed (0)")
    c.add_argument("--checkpoint", default=None, help="dream root (default: bundled assets)")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.set_defaults(func=_cmd_dream_check)
