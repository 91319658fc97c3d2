"""Shatter: an empty pre-fractured glass slips from a hand, falls and shatters into shards.

The glass is :func:`twinsim.sim.families.glass_parts.glass_body` without juice: a base and
14-27 wall panels held by brittle joints that break when they must transmit more than
``glass_parts.BREAK_FORCE_PER_KG`` N per kg of glass; a fall from 0.5 m and more tears it into
15+ shards, none keeping a third of the glass, while a set-down from a few millimetres leaves it
whole.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from twinsim.sim.families._common import (
    FRAMING,
    Built,
    Family,
    Parameter,
    light,
    quat_euler,
    rnd,
    world,
)
from twinsim.sim.families._settle import settle
from twinsim.sim.families.glass_parts import BREAK_FORCE_PER_KG, glass_body
from twinsim.sim.families.stories import rotation
from twinsim.sim.spec import CameraSpec, ObjectSpec, SceneSpec

__all__ = ["FAMILIES", "glass_scene"]


def glass_scene(
    rng: np.random.Generator,
    drop: float,
    tilt: float = 1.0,
    spin: float = 2.0,
    duration: float = 2.5,
) -> SceneSpec:
    """An empty glass whose lowest point starts about ``drop`` m above the floor, tilted and
    spinning a little.

    Args:
        rng: the sampler's random generator.
        drop: fall height of the lowest point, m (the family samples 0.5-0.8 m).
        tilt: largest roll / pitch at the start, rad (lands on its rim when large).
        spin: largest initial angular speed per axis, rad/s.
        duration: scene length, s.
    """
    w = world(duration)
    tilt_q = quat_euler(*rng.uniform(-tilt, tilt, 2), rng.uniform(-math.pi, math.pi))
    omega = rng.uniform(-spin, spin, 3)
    x0, y0 = rng.uniform(-0.1, 0.1), rng.uniform(-0.05, 0.05)
    mass = rng.uniform(0.15, 0.25)
    bodies, joints, _ = glass_body(
        rng, np.array([x0, y0, 0.0]), tilt_q, np.zeros(3), omega, 0.0, mass
    )
    # Lift so the lowest point (of each fragment's bounding sphere) sits ``drop`` up.
    low = min(o.position[2] - _low_extent(o) for o in bodies)
    dz = drop - low
    bodies = [
        dataclasses.replace(o, position=(*o.position[:2], rnd(o.position[2] + dz, 5)))
        for o in bodies
    ]
    return SceneSpec(
        objects=tuple(bodies),
        cameras=(CameraSpec(),),
        light=light(),
        world=w,
        joints=tuple(joints),
    )


def _low_extent(o: ObjectSpec) -> float:
    """How far below its centre a box or cylinder fragment reaches at its orientation."""
    zrow = np.abs(rotation(np.asarray(o.orientation))[2])  # |z component| of each body axis
    if o.shape == "box":
        return float(zrow @ np.asarray(o.size))
    half, r = o.size[1] / 2, o.size[0]
    return float(half * zrow[2] + r * math.sqrt(max(0.0, 1.0 - zrow[2] ** 2)))


def _shatter_draw(rng: np.random.Generator) -> Built:
    drop = rng.uniform(0.5, 0.8)
    return Built(glass_scene(rng, drop), {})


def _shatter(rng: np.random.Generator, seed: int) -> Built:
    return settle(rng, "shatter", _shatter_draw)


FAMILIES = (
    Family(
        "shatter",
        "An empty glass of 15-28 pre-fractured fragments falls and shatters into shards.",
        _shatter,
        (),
        (
            Parameter("fall height", 0.5, 0.8, "m"),
            Parameter("glass radius", 0.05, 0.065, "m"),
            Parameter("glass height", 0.13, 0.17, "m"),
            Parameter("glass mass", 0.15, 0.25, "kg"),
            Parameter("wall columns (each cut into 2-3 shards)", 8, 10),
            Parameter("tilt (roll, pitch)", -1.0, 1.0, "rad"),
            Parameter("spin per axis", -2.0, 2.0, "rad/s"),
            Parameter(
                "joint strength (force per kg of glass)",
                BREAK_FORCE_PER_KG,
                BREAK_FORCE_PER_KG,
                "N/kg",
            ),
            *FRAMING,
        ),
    ),
)
