"""Minimal engine scenes used only when ``twinsim.sim.families`` is not importable.

Lets ``twinsim train`` run on a checkout where the scenario families are missing; the real
families (docs/families.md) are always preferred. Three kinds, each seeded:
``occlusion`` (a resting object and a kinematic board sliding in front of it), ``drop`` and
``collide``.
"""

from __future__ import annotations

import numpy as np
from twinsim.sim.spec import Keyframe, ObjectSpec, SceneSpec, WorldSpec

__all__ = ["FALLBACK_FAMILIES", "fallback_scene"]

FALLBACK_FAMILIES = ("occlusion", "drop", "collide")


def _obj(rng: np.random.Generator, name: str, pos: tuple[float, float, float]) -> ObjectSpec:
    shape = str(rng.choice(["sphere", "box", "cylinder"]))
    r = float(rng.uniform(0.1, 0.2))
    size = {"sphere": (r,), "box": (r, r, r), "cylinder": (r, 2 * r)}[shape]
    color = (*rng.uniform(0.1, 1.0, 3).tolist(), 1.0)
    z = pos[2] if pos[2] > 0 else r  # resting on the floor
    return ObjectSpec(name, shape, size, color=color, position=(pos[0], pos[1], z))  # type: ignore[arg-type]


def fallback_scene(family: str, seed: int) -> SceneSpec:
    """A seeded scene of one of :data:`FALLBACK_FAMILIES` (2 s at 24 fps)."""
    rng = np.random.default_rng([seed, FALLBACK_FAMILIES.index(family)])
    world = WorldSpec(duration=2.0)
    if family == "occlusion":
        x = float(rng.uniform(-0.4, 0.4))
        target = _obj(rng, "target", (x, 0.0, 0.0))
        side = 1 if rng.random() < 0.5 else -1
        t0, t1 = float(rng.uniform(0.0, 0.4)), float(rng.uniform(1.4, 2.0))
        board = ObjectSpec(
            "occluder",
            "box",
            (0.22, 0.02, 0.5),
            mass=0.0,
            color=(*rng.uniform(0.0, 0.5, 3).tolist(), 1.0),  # type: ignore[arg-type]
            position=(-1.6 * side, -0.8, 0.5),
            path=(
                Keyframe(t0, (-1.6 * side, -0.8, 0.5)),
                Keyframe(t1, (1.6 * side, -0.8, 0.5)),
            ),
        )
        objects = (target, board)
    elif family == "drop":
        objects = tuple(
            _obj(
                rng, f"body{i}", (float(rng.uniform(-0.6, 0.6)), 0.0, float(rng.uniform(0.6, 1.4)))
            )
            for i in range(int(rng.integers(1, 3)))
        )
    elif family == "collide":
        a = _obj(rng, "left", (-0.8, 0.0, 0.0))
        b = _obj(rng, "right", (0.8, 0.0, 0.0))
        va, vb = float(rng.uniform(0.5, 1.5)), float(rng.uniform(0.5, 1.5))
        objects = (
            ObjectSpec(**{**a.__dict__, "linear_velocity": (va, 0.0, 0.0)}),
            ObjectSpec(**{**b.__dict__, "linear_velocity": (-vb, 0.0, 0.0)}),
        )
    else:
        from twinsim.sim.errors import UnknownNameError

        raise UnknownNameError("fallback family", family, FALLBACK_FAMILIES)
    return SceneSpec(objects=objects, world=world, family=family, seed=seed)
