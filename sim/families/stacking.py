"""Stacking families: towers that may topple, and domino chains set off by a push."""

from __future__ import annotations

import numpy as np
from twinsim.sim.families._common import (
    FRAMING,
    PALETTE,
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
from twinsim.sim.families._settle import settle
from twinsim.sim.spec import EventSpec, ObjectSpec, SceneSpec

__all__ = ["FAMILIES"]


def _tower_draw(rng: np.random.Generator) -> Built:
    w = world(3.0)
    n = int(rng.integers(3, 7))
    cam = camera(rng, eye=(0.0, -1.7, 1.0), target=(0.0, 0.0, 0.4))
    cols = colors(rng, n)
    lean = rng.uniform(0.0, 0.6)  # lateral drift per level, fraction of the block below
    lean_dir = 1.0 if rng.random() < 0.5 else -1.0
    x = rng.uniform(-0.1, 0.1) - lean_dir * lean * 0.09 * (n - 1) / 2  # centre the lean
    y, z, prev = rng.uniform(-0.05, 0.05), 0.0, None
    objs = []
    for i in range(n):
        half = (rng.uniform(0.07, 0.11), rng.uniform(0.07, 0.11), rng.uniform(0.05, 0.08))
        if prev is not None:
            x += (lean_dir * lean + rng.uniform(-0.1, 0.1)) * prev[0]
            y += rng.uniform(-0.1, 0.1) * prev[1]
        z += half[2] + 0.001  # z was the top of the block below
        objs.append(
            ObjectSpec(
                name=f"block{i}",
                shape="box",
                size=tuple(rnd(h) for h in half),
                mass=rnd(rng.uniform(0.2, 1.0)),
                friction=rnd(rng.uniform(0.5, 0.9)),
                restitution=rnd(rng.uniform(0.05, 0.2)),
                color=cols[i],
                position=(rnd(x), rnd(y), rnd(z)),
                orientation=quat_euler(0.0, 0.0, rng.uniform(-0.2, 0.2)),
            )
        )
        z += half[2]
        prev = half
    spec = SceneSpec(objects=tuple(objs), cameras=(cam,), light=light(), world=w)
    return Built(spec, {})


def _dominoes_draw(rng: np.random.Generator) -> Built:
    w = world(3.0)
    n = int(rng.integers(5, 9))
    s = 1.0 if rng.random() < 0.5 else -1.0
    cam = camera(rng, eye=(-s * 0.95, -1.25, 0.85), target=(0.0, 0.0, 0.1))
    thick, width, height = (
        rng.uniform(0.015, 0.022),
        rng.uniform(0.06, 0.09),
        rng.uniform(0.1, 0.14),
    )
    spacing = rng.uniform(0.5, 0.7) * 2 * height
    ncol = int(rng.integers(1, 4))
    cols = [PALETTE[i] for i in rng.permutation(len(PALETTE))[:ncol]]
    x0 = -s * (n - 1) * spacing / 2
    objs = []
    for i in range(n):
        objs.append(
            ObjectSpec(
                name=f"domino{i}",
                shape="box",
                size=(rnd(thick), rnd(width), rnd(height)),
                mass=rnd(rng.uniform(0.05, 0.15)),
                friction=rnd(rng.uniform(0.5, 0.8)),
                restitution=rnd(rng.uniform(0.0, 0.15)),
                color=cols[i % ncol],
                position=(
                    rnd(x0 + s * i * spacing),
                    rnd(rng.uniform(-0.01, 0.01)),
                    rnd(height + 0.0005),
                ),
                orientation=quat_euler(0.0, 0.0, rng.uniform(-0.05, 0.05)),
            )
        )
    first = objs[0]
    push = first.mass * rng.uniform(0.5, 0.8)  # N s at the top edge
    point = (first.position[0], first.position[1], rnd(first.position[2] + 0.9 * height))
    event = EventSpec(
        rnd(rng.uniform(0.2, 0.5)), first.name, "impulse", (rnd(s * push), 0, 0), point
    )
    spec = SceneSpec(objects=tuple(objs), cameras=(cam,), light=light(), world=w, events=(event,))
    return Built(spec, {})


def _tower(rng: np.random.Generator, seed: int) -> Built:
    return settle(rng, "tower", _tower_draw)


def _dominoes(rng: np.random.Generator, seed: int) -> Built:
    return settle(rng, "dominoes", _dominoes_draw)


FAMILIES = (
    Family(
        "tower",
        "A stack of three to six blocks with random offsets: stable or toppling.",
        _tower,
        (),
        (
            Parameter("blocks", 3, 6),
            Parameter("block half extents (x, y)", 0.07, 0.11, "m"),
            Parameter("block half height", 0.05, 0.08, "m"),
            Parameter("lean: drift per level (fraction of the block below)", 0.0, 0.6),
            Parameter("mass", 0.2, 1.0, "kg"),
            Parameter("friction", 0.5, 0.9),
            *FRAMING,
        ),
    ),
    Family(
        "dominoes",
        "A line of five to eight dominoes; an impulse on the first topples the chain.",
        _dominoes,
        (),
        (
            Parameter("dominoes", 5, 8),
            Parameter("half thickness", 0.015, 0.022, "m"),
            Parameter("half width", 0.06, 0.09, "m"),
            Parameter("half height", 0.1, 0.14, "m"),
            Parameter("spacing (fraction of height)", 0.5, 0.7),
            Parameter("push impulse per kg", 0.5, 0.8, "N s/kg"),
            Parameter("push time", 0.2, 0.5, "s"),
            *FRAMING,
        ),
    ),
)
