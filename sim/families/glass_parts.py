"""The pre-fractured glass of the ``glass`` and ``shatter`` families: fragments, joints, juice.

A base disc plus a wall cut into ``columns`` x 2-3 curved-ish panels (each column split at its
own random heights, so the cracks are staggered like real fracture lines), every panel joined to
its neighbours and the base by fixed joints that break when the force they must transmit exceeds
``BREAK_FORCE_PER_KG`` x the glass's mass (N). Resting on a table or tipping over its edge the
joints carry well under 1 N per kg; a landing from a table asks 20-200 times more, so every
landing tears the glass into many shards. The juice is a heap of small, slippery, non-bouncy
spheres that pour out as the glass tips and spread on the floor.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from twinsim.sim.families._common import (
    GLASS,
    quat_axis_angle,
    quat_multiply,
    quat_rotate,
    rnd,
)
from twinsim.sim.spec import JointSpec, ObjectSpec

__all__ = [
    "BREAK_FORCE_PER_KG",
    "JUICE",
    "WALL_HALF",
    "glass_body",
    "is_liquid",
    "is_shard",
]

BREAK_FORCE_PER_KG = 40.0  # N per kg of glass a joint may transmit before it breaks
JUICE = (0.95, 0.55, 0.05, 1.0)  # orange juice
WALL_HALF = 0.004  # wall half thickness, m
_BASE_H = 0.005  # base disc half height, m


def is_shard(name: str) -> bool:
    """True for a glass fragment's name (``glass_base`` and ``shard*``)."""
    return name == "glass_base" or name.startswith("shard")


def is_liquid(name: str) -> bool:
    """True for a liquid particle's name (``drop*``)."""
    return name.startswith("drop")


@dataclass(frozen=True)
class _Part:
    name: str
    shape: str
    size: tuple[float, ...]
    centre: np.ndarray  # in the glass frame (z up, base bottom at z = 0)
    orientation: tuple[float, ...]
    area: float  # m^2 of glass, for the mass


def _parts(rng: np.random.Generator, radius: float, height: float) -> list[_Part]:
    """Base and staggered wall panels of an upright glass (glass frame)."""
    n = int(rng.integers(8, 11))
    apothem = radius * math.cos(math.pi / n)
    half_w = (apothem - WALL_HALF) * math.tan(math.pi / n)  # inner faces meet: no overlap
    parts = [
        _Part(
            "glass_base",
            "cylinder",
            (apothem - 2 * WALL_HALF, 2 * _BASE_H),
            np.array([0.0, 0.0, _BASE_H]),
            (0.0, 0.0, 0.0, 1.0),
            math.pi * radius**2,
        )
    ]
    yaw0 = rng.uniform(0, 2 * math.pi / n)
    k = 0
    for i in range(n):
        rows = int(rng.integers(2, 4))
        cuts = np.sort(rng.uniform(0.25, 0.75, rows - 1))
        edges = [0.0, *cuts, 1.0]
        ang = yaw0 + 2 * math.pi * i / n
        q = quat_axis_angle((0.0, 0.0, 1.0), ang)  # local x: radial (thickness)
        for lo, hi in itertools.pairwise(edges):
            h = (hi - lo) * height
            z = 2 * _BASE_H + (lo + hi) / 2 * height
            c = np.array([apothem * math.cos(ang), apothem * math.sin(ang), z])
            parts.append(
                _Part(f"shard{k}", "box", (WALL_HALF, half_w, h / 2), c, q, 2 * half_w * h)
            )
            k += 1
    return parts


def _joints(parts: list[_Part], force: float) -> list[JointSpec]:
    """Base to every bottom panel, panels to the panel above and to overlapping side neighbours."""
    base, walls = parts[0], parts[1:]
    cols: dict[float, list[_Part]] = {}
    for w in walls:
        cols.setdefault(round(math.atan2(w.centre[1], w.centre[0]), 6), []).append(w)
    keys = list(cols)
    out = []
    for ci, key in enumerate(keys):
        col = sorted(cols[key], key=lambda w: w.centre[2])
        out.append(JointSpec(base.name, col[0].name, break_force=force))
        out += [JointSpec(a.name, b.name, break_force=force) for a, b in itertools.pairwise(col)]
        nxt = sorted(cols[keys[(ci + 1) % len(keys)]], key=lambda w: w.centre[2])
        for a in col:
            for b in nxt:
                a_lo, a_hi = a.centre[2] - a.size[2], a.centre[2] + a.size[2]
                b_lo, b_hi = b.centre[2] - b.size[2], b.centre[2] + b.size[2]
                if min(a_hi, b_hi) - max(a_lo, b_lo) > 0.01:  # they share a crack edge
                    out.append(JointSpec(a.name, b.name, break_force=force))
    return out


def glass_body(
    rng: np.random.Generator,
    origin: np.ndarray,
    orientation: tuple[float, ...],
    velocity: np.ndarray,
    omega: np.ndarray,
    fill: float,
    glass_mass: float,
    color: tuple[float, ...] = GLASS,
) -> tuple[list[ObjectSpec], list[JointSpec], float]:
    """The fragments, joints and (``fill`` > 0) juice of one glass.

    Args:
        rng: the sampler's generator (draws the glass's size and fracture pattern).
        origin: world position of the centre of the base's bottom face.
        orientation: the glass's orientation (upright: identity).
        velocity, omega: rigid initial motion (m/s at ``origin``, rad/s).
        fill: juice height as a fraction of the glass height (0: empty glass).
        glass_mass: kg of glass, spread over the fragments by area.

    Returns:
        (bodies, joints, glass radius).
    """
    radius, height = rng.uniform(0.05, 0.065), rng.uniform(0.13, 0.17)
    parts = _parts(rng, radius, height)
    area = sum(p.area for p in parts)
    force = rnd(BREAK_FORCE_PER_KG * glass_mass, 4)

    def place(c: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
        pos = origin + quat_rotate(orientation, c)
        vel = velocity + np.cross(omega, pos - origin)
        return tuple(rnd(v, 5) for v in pos), tuple(rnd(v, 5) for v in vel)

    objs = []
    ang = tuple(rnd(v, 5) for v in omega)
    for p in parts:
        pos, vel = place(p.centre)
        objs.append(
            ObjectSpec(
                name=p.name,
                shape=p.shape,
                size=tuple(rnd(v, 5) for v in p.size),
                mass=rnd(glass_mass * p.area / area, 5),
                friction=0.4,
                restitution=0.05,
                color=color,
                position=pos,
                orientation=tuple(rnd(v, 6) for v in quat_multiply(orientation, p.orientation)),
                linear_velocity=vel,
                angular_velocity=ang,
            )
        )
    if fill > 0:
        r = rng.uniform(0.009, 0.011)
        inner = radius * math.cos(math.pi / 8) - 2 * WALL_HALF - r - 0.002  # 8+ columns
        d = 2 * r + 0.0015
        grid = [
            (x, y)
            for x in np.arange(-inner, inner + 1e-9, d)
            for y in np.arange(-inner, inner + 1e-9, d)
            if x * x + y * y <= inner * inner
        ]
        layers = max(1, int(fill * height / (2 * r)))
        k = 0
        for layer in range(layers):
            for x, y in grid:
                jitter = rng.uniform(-0.0007, 0.0007, 2)
                c = np.array(
                    [x + jitter[0], y + jitter[1], 2 * _BASE_H + r + 1e-4 + layer * (2 * r + 1e-4)]
                )
                pos, vel = place(c)
                objs.append(
                    ObjectSpec(
                        name=f"drop{k}",
                        shape="sphere",
                        size=(rnd(r, 5),),
                        mass=0.004,
                        friction=0.3,
                        restitution=0.0,
                        color=JUICE,
                        position=pos,
                        linear_velocity=vel,
                        damping=0.5,  # viscosity: a puddle, not marbles
                    )
                )
                k += 1
    return objs, _joints(parts, force), radius
