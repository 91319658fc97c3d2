"""Glass: a glass of juice is knocked off a table, spills, lands and shatters into shards.

The glass is pre-fractured: a base disc plus a wall cut into ``columns`` x 2-3 curved-ish panels
(each column split at its own random heights, so the cracks are staggered like real fracture
lines), every panel joined to its neighbours and the base by fixed joints that break when the
force they must transmit exceeds ``BREAK_FORCE_PER_KG`` x the glass's mass (N). Resting on the
table or tipping over its edge the joints carry well under 1 N per kg; a landing from the table
asks 20-200 times more, so every landing tears the glass into many shards. The juice is a heap of
small, slippery, non-bouncy spheres that pour out as the glass tips and spread on the floor.

Impossible twins: ``no_shatter`` (the glass lands and stays whole), ``liquid_stays`` (the juice
stays inside the open glass as it overturns), ``reassemble`` (shards jump back into a whole glass
after the crash) and ``shards_vanish`` (the shards disappear after the crash). Their frames come
from a physics-only pre-run of the possible scene (see :func:`glass_events`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import numpy as np
from twinsim.sim.families._common import (
    FRAMING,
    GLASS,
    OCCLUDER_COLORS,
    Built,
    Family,
    Parameter,
    light,
    quat_axis_angle,
    rnd,
    world,
)
from twinsim.sim.families._settle import settle
from twinsim.sim.families.trace import Trace
from twinsim.sim.spec import CameraSpec, JointSpec, ObjectSpec, SceneSpec, Violation

__all__ = [
    "BREAK_FORCE_PER_KG",
    "FAMILIES",
    "JUICE",
    "GlassEvents",
    "glass_body",
    "glass_events",
    "glass_scene",
    "glass_twins",
    "is_liquid",
    "is_shard",
]

BREAK_FORCE_PER_KG = 40.0  # N per kg of glass a joint may transmit before it breaks
JUICE = (0.95, 0.55, 0.05, 1.0)  # orange juice
_T = 0.004  # wall half thickness, m
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
    half_w = (apothem - _T) * math.tan(math.pi / n)  # inner faces meet: no overlap
    parts = [
        _Part(
            "glass_base",
            "cylinder",
            (apothem - 2 * _T, 2 * _BASE_H),
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
            parts.append(_Part(f"shard{k}", "box", (_T, half_w, h / 2), c, q, 2 * half_w * h))
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


def _mul(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def _rotate(q: tuple[float, ...], v: np.ndarray) -> np.ndarray:
    x, y, z, w = q
    u = np.array([x, y, z])
    return v + 2 * np.cross(u, np.cross(u, v) + w * v)


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
        pos = origin + _rotate(orientation, c)
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
                orientation=tuple(rnd(v, 6) for v in _mul(orientation, p.orientation)),
                linear_velocity=vel,
                angular_velocity=ang,
            )
        )
    if fill > 0:
        r = rng.uniform(0.009, 0.011)
        inner = radius * math.cos(math.pi / 8) - 2 * _T - r - 0.002  # 8+ columns
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


@dataclass(frozen=True)
class GlassEvents:
    """When things happen in a glass scene (frames at the scene's fps; None: never)."""

    first_break: int | None  # the first frame after which a joint has broken
    impact: int | None  # the first frame after the glass touched the floor
    tipped: int | None  # the first frame at which the glass leans past 45 degrees
    escape: int | None  # the first frame at which a drop has left the glass


def glass_events(trace: Trace) -> GlassEvents:
    """Time a glass scene's events from its (possible scene's) trace."""
    spec = trace.spec
    names = spec.names
    drops = [i for i, n in enumerate(names) if is_liquid(n)]
    ib = trace.index("glass_base")
    base = spec.objects[ib]
    axis0 = _rotate(base.orientation, np.array([0.0, 0.0, 1.0]))
    rim, top = 0.0, 0.0
    for o in spec.objects:
        if is_shard(o.name) and o.name != "glass_base":
            rel = np.subtract(o.position, base.position)
            along = float(rel @ axis0)
            rim = max(rim, float(np.linalg.norm(rel - along * axis0)) + _T)
            top = max(top, along + o.size[2])
    first_break = min(trace.broken.values(), default=None)
    hits = [
        f
        for (a, b), f in trace.first_touch.items()
        if "floor" in (a, b) and (is_shard(a) or is_shard(b))
    ]
    impact = min(hits, default=None)
    tipped = escape = None
    for f in range(trace.position.shape[0]):
        axis = _rotate(tuple(trace.orientation[f, ib]), np.array([0.0, 0.0, 1.0]))
        if tipped is None and axis[2] < math.cos(math.radians(45)):
            tipped = f
        if escape is None and drops:
            rel = trace.position[f, drops] - trace.position[f, ib]
            along = rel @ axis
            radial = np.linalg.norm(rel - along[:, None] * axis, axis=1)
            if ((radial > rim + 0.005) | (along < -0.005) | (along > top + 0.005)).any():
                escape = f
    return GlassEvents(first_break, impact, tipped, escape)


def _table(rng: np.random.Generator, s: float) -> tuple[list[ObjectSpec], float]:
    """A table whose edge runs along x = 0 with its top on the -s side; returns (bodies, top z)."""
    tx, ty, h = rng.uniform(0.2, 0.28), rng.uniform(0.18, 0.25), rng.uniform(0.45, 0.6)
    color = OCCLUDER_COLORS[int(rng.integers(len(OCCLUDER_COLORS)))]
    t, leg = 0.02, 0.02
    cx = -s * tx

    def box(name, half, pos) -> ObjectSpec:
        return ObjectSpec(
            name=name,
            shape="box",
            size=tuple(rnd(v) for v in half),
            mass=0.0,
            friction=0.2,  # a glazed top: the glass slides off without snagging
            restitution=0.1,
            color=color,
            position=tuple(rnd(v) for v in pos),
        )

    bodies = [box("table_top", (tx, ty, t), (cx, 0.0, h - t))]
    for i, (sx, sy) in enumerate(((-1, -1), (1, -1), (-1, 1), (1, 1))):
        pos = (cx + sx * (tx - leg), sy * (ty - leg), (h - 2 * t) / 2)
        bodies.append(box(f"table_leg{i}", (leg, leg, (h - 2 * t) / 2), pos))
    return bodies, h


def glass_scene(rng: np.random.Generator, fill: float | None = None) -> SceneSpec:
    """A glass (with juice when ``fill`` > 0, drawn when None) knocked off a table's edge.

    The glass stands with its centre 0-40 % of its radius past the edge and is given the
    push of a hand sweeping it off: 0.3-0.7 m/s outwards and 2-5 rad/s of tipping.
    """
    w = world(2.0)
    s = 1.0 if rng.random() < 0.5 else -1.0
    table, top = _table(rng, s)
    if fill is None:
        fill = rng.uniform(0.55, 0.8)
    over = rng.uniform(0.0, 0.4)
    speed, tip = rng.uniform(0.4, 0.8), rng.uniform(0.0, 1.0)
    origin = np.array([0.0, rng.uniform(-0.05, 0.05), top])
    glass_mass = rng.uniform(0.15, 0.25)
    yaw = quat_axis_angle((0.0, 0.0, 1.0), rng.uniform(-math.pi, math.pi))
    bodies, joints, radius = glass_body(
        rng,
        origin,
        yaw,
        np.array([s * speed, 0.0, 0.0]),
        np.array([0.0, s * tip, 0.0]),
        fill,
        glass_mass,
    )
    shift = s * (over - 1.0) * radius + 0.0  # centre ``over`` radii past the edge at x = 0
    bodies = [
        dataclasses.replace(o, position=(rnd(o.position[0] + shift, 5), *o.position[1:]))
        for o in bodies
    ]
    return SceneSpec(
        objects=(*table, *bodies),
        cameras=(CameraSpec(),),
        light=light(),
        world=w,
        joints=tuple(joints),
    )


def glass_twins(trace: Trace) -> dict[str, Violation]:
    """The four impossible twins, timed from the possible scene's trace."""
    spec = trace.spec
    ev = glass_events(trace)
    n = spec.world.num_frames
    shards = tuple(o.name for o in spec.objects if is_shard(o.name) and o.name != "glass_base")
    drops = tuple(o.name for o in spec.objects if is_liquid(o.name))
    impact = ev.impact if ev.impact is not None else n // 2

    def clip(f: int) -> int:
        return int(min(n - 1, max(1, f)))

    # Violations apply after the step that reaches their frame, before the next frame's steps:
    # a twin whose frame is one before the first break / escape agrees up to that frame.
    out = {
        "no_shatter": Violation("no_shatter", "glass_base", clip((ev.first_break or impact) - 1)),
        "reassemble": Violation("reassemble", "glass_base", clip(impact + 8), group=shards),
        "shards_vanish": Violation("shards_vanish", "glass_base", clip(impact + 6), group=shards),
    }
    if drops:
        pour = min(f for f in (ev.tipped, ev.escape, impact) if f is not None)
        out["liquid_stays"] = Violation("liquid_stays", "glass_base", clip(pour - 1), group=drops)
    return out


def _glass(rng: np.random.Generator, seed: int) -> Built:
    return settle(
        rng,
        "glass",
        lambda g: Built(glass_scene(g), {}),
        crowd=is_liquid,
        twins=glass_twins,
    )


FAMILIES = (
    Family(
        "glass",
        "A glass of juice is knocked off a table: it tips, falls, shatters into 15-30 shards "
        "and the juice spills and spreads on the floor.",
        _glass,
        ("no_shatter", "liquid_stays", "reassemble", "shards_vanish"),
        (
            Parameter("table height", 0.45, 0.6, "m"),
            Parameter("glass radius", 0.05, 0.065, "m"),
            Parameter("glass height", 0.13, 0.17, "m"),
            Parameter("glass mass", 0.15, 0.25, "kg"),
            Parameter("wall columns (each cut into 2-3 shards)", 8, 10),
            Parameter(
                "joint strength (force per kg of glass)",
                BREAK_FORCE_PER_KG,
                BREAK_FORCE_PER_KG,
                "N/kg",
            ),
            Parameter("juice fill (fraction of the height)", 0.55, 0.8),
            Parameter("juice drop radius", 0.009, 0.011, "m"),
            Parameter("overhang of the glass centre past the edge (fraction of radius)", 0.0, 0.4),
            Parameter("knock: outward speed", 0.3, 0.7, "m/s"),
            Parameter("knock: tipping rate", 2.0, 5.0, "rad/s"),
            *FRAMING,
        ),
    ),
)
