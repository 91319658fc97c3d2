"""Glass: a glass of juice is knocked off a table, spills, lands and shatters into shards.

The glass itself (pre-fractured fragments, brittle joints, juice) is built by
:mod:`twinsim.sim.families.glass_parts`; this module sets it on a table's edge, times the
scene's events and defines the family.

Impossible twins: ``no_shatter`` (the glass lands and stays whole), ``liquid_stays`` (the juice
stays inside the open glass as it overturns), ``reassemble`` (shards jump back into a whole glass
after the crash) and ``shards_vanish`` (the shards disappear after the crash). Their frames come
from a physics-only pre-run of the possible scene (see :func:`glass_events`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from twinsim.sim.families._common import (
    FRAMING,
    OCCLUDER_COLORS,
    Built,
    Family,
    Parameter,
    light,
    quat_axis_angle,
    quat_rotate,
    rnd,
    world,
)
from twinsim.sim.families._settle import settle
from twinsim.sim.families.glass_parts import (
    BREAK_FORCE_PER_KG,
    JUICE,
    WALL_HALF,
    glass_body,
    is_liquid,
    is_shard,
)
from twinsim.sim.families.trace import Trace
from twinsim.sim.spec import CameraSpec, ObjectSpec, SceneSpec, Violation

# The glass's builders are re-exported: ``glass`` was their home before glass_parts.
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
    axis0 = quat_rotate(base.orientation, np.array([0.0, 0.0, 1.0]))
    rim, top = 0.0, 0.0
    for o in spec.objects:
        if is_shard(o.name) and o.name != "glass_base":
            rel = np.subtract(o.position, base.position)
            along = float(rel @ axis0)
            rim = max(rim, float(np.linalg.norm(rel - along * axis0)) + WALL_HALF)
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
        axis = quat_rotate(tuple(trace.orientation[f, ib]), np.array([0.0, 0.0, 1.0]))
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
