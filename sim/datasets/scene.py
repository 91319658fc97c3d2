"""The dataset plan and the per-scene task: which scenes exist, and simulating one of them.

Everything about scene ``i`` derives from ``(config.seed, i)`` alone: its family
(``families[i % F]``), its split draw, whether it is an impossible-twin pair (an exact,
evenly spread fraction within its family) and which violation kind (round-robin over the
family's kinds), and the spec seed of each attempt. So the data never depend on worker count,
backend, order of completion or restarts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from twinsim.sim.datasets.config import DatasetConfig, DatasetError
from twinsim.sim.rollout import rollout_arrays
from twinsim.sim.simulation import simulate
from twinsim.sim.spec import SceneSpec, with_image_size

__all__ = [
    "ClipResult",
    "SceneTask",
    "UnitResult",
    "check_clip_length",
    "clip_spec",
    "plan_scenes",
    "run_scene",
    "scene_seed",
]

_SPLIT_KEY, _SEED_KEY = 0, 1  # SeedSequence spawn-key namespaces


@dataclass(frozen=True)
class SceneTask:
    """One planned scene (a single clip, or a possible + impossible pair)."""

    index: int
    family: str
    split: str
    violation: str | None  # kind of the impossible twin; None: one possible clip
    ood: bool  # planned OOD-ness; retries must keep it so the split stays valid


@dataclass
class ClipResult:
    """One stored clip: JSON metadata plus its arrays (no leading scene axis)."""

    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]


@dataclass
class UnitResult:
    """What a scene task returns: its clips (empty if every attempt failed) and failures."""

    task: SceneTask
    clips: list[ClipResult] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)


def scene_seed(dataset_seed: int, index: int, attempt: int) -> int:
    """The spec seed of scene ``index``'s ``attempt``-th try (a 63-bit non-negative int)."""
    ss = np.random.SeedSequence(dataset_seed, spawn_key=(_SEED_KEY, index, attempt))
    a, b = (int(x) for x in ss.generate_state(2, np.uint32))
    return ((a << 32) | b) >> 1


def _split_draw(dataset_seed: int, index: int) -> float:
    ss = np.random.SeedSequence(dataset_seed, spawn_key=(_SPLIT_KEY, index))
    return float(np.random.default_rng(ss).random())


def clip_spec(spec: SceneSpec, frames: int, size: int) -> SceneSpec:
    """``spec`` cut to ``frames`` frames with every camera ``size`` x ``size`` pixels.

    Raises:
        SpecError: when the spec's violation falls after the clip's last frame.
    """
    world = dataclasses.replace(spec.world, duration=(frames - 1) / spec.world.fps)
    out = with_image_size(dataclasses.replace(spec, world=world), size)
    assert out.world.num_frames == frames  # duration is chosen for exactly this
    return out


def _violations(family: str) -> tuple[str, ...]:
    from twinsim.sim.families import family_info

    return tuple(family_info(family).violations)


def _sample(task: SceneTask, config: DatasetConfig, attempt: int) -> tuple[SceneSpec, int]:
    from twinsim.sim.families import sample_scene

    seed = scene_seed(config.seed, task.index, attempt)
    spec = sample_scene(task.family, seed, impossible=task.violation)
    return clip_spec(spec, config.frames, config.size), seed


def check_clip_length(config: DatasetConfig, probes: int = 8) -> None:
    """Refuse a clip length too short to show the asked-for violations.

    Each family places its violation at a frame of its own (occlusion waits for the occluder,
    around frame 37); a clip that ends earlier cannot hold an impossible twin.

    Raises:
        DatasetError: naming the family, the violation frame and the shortest usable ``frames``.
    """
    from twinsim.sim.families import sample_scene

    if config.impossible_fraction <= 0:
        return
    for fam in config.families:
        for kind in _violations(fam):
            last = max(sample_scene(fam, s, impossible=kind).violation.frame for s in range(probes))
            if last + 2 > config.frames:
                raise DatasetError(
                    f"--frames {config.frames} is too short for family {fam!r}: its {kind!r} "
                    f"violation happens as late as frame {last}; use --frames >= {last + 2} "
                    "or --impossible-fraction 0"
                )


def plan_scenes(config: DatasetConfig) -> list[SceneTask]:
    """The deterministic list of scene tasks (specs are sampled to apply the OOD rule)."""
    nfam = len(config.families)
    kinds = {f: _violations(f) for f in config.families}
    rule = config.ood_rule
    fr = config.split_fractions
    tasks = []
    for i in range(config.scenes):
        fam = config.families[i % nfam]
        j = i // nfam  # index within the family
        violation = None
        frac = config.impossible_fraction
        if kinds[fam] and math.floor((j + 1) * frac + 1e-9) > math.floor(j * frac + 1e-9):
            done = math.floor(j * frac + 1e-9)  # pairs of this family before this one
            violation = kinds[fam][done % len(kinds[fam])]
        ood = False
        if rule is not None:
            task = SceneTask(i, fam, "train", violation, False)
            for attempt in range(config.max_attempts):
                try:
                    spec, _ = _sample(task, config, attempt)
                except Exception:
                    continue
                ood = rule.matches(spec)
                break
        u = _split_draw(config.seed, i)
        split = "ood" if ood else "train" if u < fr[0] else "val" if u < fr[0] + fr[1] else "test"
        tasks.append(SceneTask(i, fam, split, violation, ood))
    return tasks


def _check_finite(arrays: dict[str, np.ndarray]) -> None:
    for name, a in arrays.items():
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise FloatingPointError(f"non-finite values (NaN/inf) in {name}")


def _clip(
    task: SceneTask, spec: SceneSpec, seed: int, attempt: int, role: str, config: DatasetConfig
) -> ClipResult:
    rollout = simulate(spec, renderer=config.renderer, labels=config.labels)
    arrays = rollout_arrays(rollout, config.labels)
    _check_finite(arrays)
    v = spec.violation
    meta = {
        "scene": task.index,
        "role": role,
        "family": task.family,
        "split": task.split,
        "seed": seed,
        "attempt": attempt,
        "pair_id": task.index if task.violation else -1,
        "violation": None if v is None else {"kind": v.kind, "body": v.body, "frame": v.frame},
        "names": list(spec.names),
        "spec": spec.to_dict(),
    }
    return ClipResult(meta, arrays)


def run_scene(task: SceneTask, config: DatasetConfig) -> UnitResult:
    """Sample, clip and simulate one scene (and its impossible twin), retrying failures.

    A failed attempt (sampling error, engine exception, NaN/inf in the state) is recorded and
    the scene is retried with the next sub-seed, up to ``config.max_attempts`` times. A retry
    whose spec would change the scene's OOD-ness is also skipped, keeping the split valid.
    """
    result = UnitResult(task)
    rule = config.ood_rule
    for attempt in range(config.max_attempts):
        seed = scene_seed(config.seed, task.index, attempt)
        try:
            spec, seed = _sample(task, config, attempt)
            if rule is not None and rule.matches(spec) != task.ood:
                raise ValueError(f"resampled spec changes OOD-ness under rule {rule.text!r}")
            if task.violation is None:
                clips = [_clip(task, spec, seed, attempt, "single", config)]
            else:
                clips = [
                    _clip(task, spec.possible_twin(), seed, attempt, "possible", config),
                    _clip(task, spec, seed, attempt, "impossible", config),
                ]
        except Exception as exc:
            result.failures.append(
                {
                    "scene": task.index,
                    "attempt": attempt,
                    "seed": seed,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            )
            continue
        result.clips = clips
        return result
    return result
