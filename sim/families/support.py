"""Containment and support: bodies dropped onto a table, or into an open tray on a table.

The solidity twin (``pass_through``) lets the first body fall through the table top from the
last frame before it would touch it (read from the possible scene's trace).
"""

from __future__ import annotations

import math

import numpy as np
from twinsim.sim.families._common import (
    FRAMING,
    OCCLUDER_COLORS,
    Built,
    Family,
    Parameter,
    camera,
    colors,
    light,
    quat_euler,
    rnd,
    world,
)
from twinsim.sim.families._settle import pass_through_at_touch, settle
from twinsim.sim.spec import ObjectSpec, SceneSpec

__all__ = ["FAMILIES"]

_TOP_HALF_THICK = 0.025
_SHAPES = ("sphere", "box")  # no cylinders: they roll on the table top for ever


def _static(name: str, half: tuple[float, float, float], pos, color) -> ObjectSpec:
    return ObjectSpec(
        name=name,
        shape="box",
        size=tuple(rnd(h) for h in half),
        mass=0.0,
        friction=0.7,
        restitution=0.2,
        color=color,
        position=tuple(rnd(v) for v in pos),
    )


def _table(rng: np.random.Generator, tray: bool) -> tuple[list[ObjectSpec], float, float, float]:
    """Table top, four legs and (``tray``) four rim walls; returns (bodies, top z, half x, y)."""
    tx, ty, h = rng.uniform(0.25, 0.35), rng.uniform(0.2, 0.28), rng.uniform(0.25, 0.4)
    color = OCCLUDER_COLORS[int(rng.integers(len(OCCLUDER_COLORS)))]
    t = _TOP_HALF_THICK
    bodies = [_static("table_top", (tx, ty, t), (0.0, 0.0, h - t), color)]
    leg = 0.025
    for i, (sx, sy) in enumerate(((-1, -1), (1, -1), (-1, 1), (1, 1))):
        pos = (sx * (tx - leg), sy * (ty - leg), (h - 2 * t) / 2)
        bodies.append(_static(f"leg{i}", (leg, leg, (h - 2 * t) / 2), pos, color))
    if tray:
        rim_h, rim_t = rng.uniform(0.05, 0.08), 0.012
        z = h + rim_h
        bodies += [
            _static("rim0", (tx, rim_t, rim_h), (0.0, -(ty - rim_t), z), color),
            _static("rim1", (tx, rim_t, rim_h), (0.0, ty - rim_t, z), color),
            _static("rim2", (rim_t, ty - 2 * rim_t, rim_h), (-(tx - rim_t), 0.0, z), color),
            _static("rim3", (rim_t, ty - 2 * rim_t, rim_h), (tx - rim_t, 0.0, z), color),
        ]
    return bodies, h, tx, ty


def _containment_draw(rng: np.random.Generator) -> Built:
    w = world(2.5)
    tray = bool(rng.random() < 0.5)
    table, top, tx, ty = _table(rng, tray)
    cam = camera(rng, eye=(0.0, -1.45, 1.15), target=(0.0, 0.0, 0.25))
    n = int(rng.integers(1, 3))
    cols = colors(rng, n)
    xs = [0.0] if n == 1 else [-tx / 2, tx / 2]
    objs = []
    for i in range(n):
        shape = str(rng.choice(_SHAPES))
        r = rng.uniform(0.05, 0.08)
        size = (r,) if shape == "sphere" else (r, r * 0.9, r * 0.8)
        size = tuple(rnd(v) for v in size)
        orn = (0.0, 0.0, 0.0, 1.0)
        if shape != "sphere":
            orn = quat_euler(*rng.uniform(-0.6, 0.6, 2), rng.uniform(-math.pi, math.pi))
        reach = max(0.0, tx / 2 - 0.08)
        x = xs[i] + rng.uniform(-reach, reach) * 0.3
        y = rng.uniform(-1, 1) * max(0.0, ty - 0.1)
        bottom = top + rng.uniform(0.3, 0.55)  # lowest point at the start
        z = bottom + max(size) * (1.0 if shape == "sphere" else 1.5)  # >= the lowest point
        objs.append(
            ObjectSpec(
                name=f"body{i}",
                shape=shape,
                size=size,
                mass=rnd(rng.uniform(0.1, 1.0)),
                friction=rnd(rng.uniform(0.5, 0.9)),
                restitution=rnd(rng.uniform(0.05, 0.4)),
                color=cols[i],
                position=(rnd(x), rnd(y), rnd(z)),
                orientation=orn,
            )
        )
    spec = SceneSpec(objects=(*table, *objs), cameras=(cam,), light=light(), world=w)
    return Built(spec, {})  # pass_through: from the trace (settle)


def _containment(rng: np.random.Generator, seed: int) -> Built:
    return settle(
        rng, "containment", _containment_draw, twins=pass_through_at_touch("body0", "table_top")
    )


FAMILIES = (
    Family(
        "containment",
        "One or two bodies dropped onto a table, or into an open tray on a table "
        "(support and containment).",
        _containment,
        ("pass_through",),
        (
            Parameter("variant", choices=("table", "tray")),
            Parameter("table half extents (x, y)", 0.2, 0.35, "m"),
            Parameter("table height", 0.25, 0.4, "m"),
            Parameter("tray rim height", 0.1, 0.16, "m"),
            Parameter("bodies", 1, 2),
            Parameter("body size", 0.05, 0.08, "m"),
            Parameter("drop height above the top", 0.3, 0.55, "m"),
            Parameter("mass", 0.1, 1.0, "kg"),
            *FRAMING,
        ),
    ),
)
