"""Shatter: a glass made of fragments held by breakable fixed joints falls and breaks into shards.

The glass is a thin base disc plus a ring of thin wall panels (their inner faces meet exactly, so
no two fragments overlap once the joints let go). Each panel is joined to the base and to its
neighbour; a joint breaks when a contact impulse on either fragment exceeds ``break_impulse``,
which is tuned so a hard fall (0.5 m and more) breaks it and a gentle set-down does not.
"""

from __future__ import annotations

import math

import numpy as np
from twinsim.sim.families._common import (
    GLASS,
    Built,
    Family,
    Parameter,
    camera,
    light,
    quat_axis_angle,
    quat_euler,
    rnd,
    world,
)
from twinsim.sim.spec import JointSpec, ObjectSpec, SceneSpec

__all__ = ["BREAK_BASE_PER_KG", "BREAK_RING_PER_KG", "FAMILIES", "glass_scene"]

# Joint strength per kg of glass: the threshold scales with the glass's weight so the same
# fall breaks heavy and light glasses alike. Measured with the engine's per-step contact
# impulse: a 3 cm set-down peaks at 0.4-0.7 N s/kg on a fragment, a 0.6-1 m fall at 0.9-3.
BREAK_BASE_PER_KG = 0.8  # N s / kg, base-to-wall joints
BREAK_RING_PER_KG = 0.4  # wall-to-wall joints: later, softer impacts split the ring too


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


def glass_scene(
    rng: np.random.Generator,
    drop: float,
    tilt: float = 1.0,
    spin: float = 2.0,
    duration: float = 2.5,
) -> SceneSpec:
    """A glass whose lowest point starts ``drop`` m above the floor, tilted and spinning a little.

    Args:
        rng: the sampler's random generator.
        drop: fall height of the lowest point, m (the family samples 0.5-0.8 m).
        tilt: largest roll / pitch at the start, rad (lands on its rim when large).
        spin: largest initial angular speed per axis, rad/s.
        duration: scene length, s.
    """
    w = world(duration)
    cam = camera(rng, eye=(0.0, -1.6, 0.8), target=(0.0, 0.0, 0.38))
    n = int(rng.integers(8, 11))
    radius, height = rng.uniform(0.09, 0.13), rng.uniform(0.18, 0.26)
    t = rng.uniform(0.004, 0.006)  # panel half thickness
    base_h = 0.006
    apothem = radius * math.cos(math.pi / n)
    half_w = (apothem - t) * math.tan(math.pi / n)  # inner faces meet: no overlap
    m_panel, m_base = rng.uniform(0.02, 0.04), rng.uniform(0.05, 0.08)
    tilt_q = quat_euler(*rng.uniform(-tilt, tilt, 2), rng.uniform(-math.pi, math.pi))
    yaw0 = rng.uniform(0, 2 * math.pi / n)
    omega = rng.uniform(-spin, spin, 3)
    x0, y0 = rng.uniform(-0.1, 0.1), rng.uniform(-0.05, 0.05)
    parts: list[tuple[str, str, tuple, np.ndarray, tuple, float]] = [
        ("base", "cylinder", (apothem - 2 * t, 2 * base_h), np.zeros(3), (0, 0, 0, 1), m_base)
    ]
    for i in range(n):
        ang = yaw0 + 2 * math.pi * i / n
        c = np.array([apothem * math.cos(ang), apothem * math.sin(ang), base_h + height / 2])
        q = quat_axis_angle((0.0, 0.0, 1.0), ang)  # local x: radial (thickness)
        parts.append((f"shard{i}", "box", (t, half_w, height / 2), c, q, m_panel))
    # Lowest point after the tilt, to start exactly ``drop`` above the floor.
    lows = []
    for _, _, size, c, q, _ in parts:
        corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
        ext = np.asarray(size[:3] if len(size) == 3 else (size[0], size[0], size[1] / 2))
        local = np.array([_rotate(q, k * ext) for k in corners]) + c
        lows.append(min(_rotate(tilt_q, p)[2] for p in local))
    z0 = drop - min(lows)
    objs = []
    for name, shape, size, c, q, mass in parts:
        pos = _rotate(tilt_q, c) + np.array([x0, y0, z0])
        objs.append(
            ObjectSpec(
                name=name,
                shape=shape,
                size=tuple(rnd(v, 5) for v in size),
                mass=rnd(mass),
                friction=0.5,
                restitution=0.1,
                color=GLASS,
                position=tuple(rnd(v, 5) for v in pos),
                orientation=tuple(rnd(v, 6) for v in _mul(tilt_q, q)),
                angular_velocity=tuple(rnd(v) for v in omega),
            )
        )
    total = m_base + n * m_panel
    base_j, ring_j = rnd(BREAK_BASE_PER_KG * total, 5), rnd(BREAK_RING_PER_KG * total, 5)
    joints = [JointSpec("base", f"shard{i}", base_j) for i in range(n)]
    joints += [JointSpec(f"shard{i}", f"shard{(i + 1) % n}", ring_j) for i in range(n)]
    return SceneSpec(
        objects=tuple(objs), cameras=(cam,), light=light(), world=w, joints=tuple(joints)
    )


def _shatter(rng: np.random.Generator, seed: int) -> Built:
    drop = rng.uniform(0.5, 0.8)
    return Built(glass_scene(rng, drop), {})


FAMILIES = (
    Family(
        "shatter",
        "A glass of fragments held by breakable joints falls and shatters into shards.",
        _shatter,
        (),
        (
            Parameter("fall height", 0.5, 0.8, "m"),
            Parameter("glass radius", 0.09, 0.13, "m"),
            Parameter("glass height", 0.18, 0.26, "m"),
            Parameter("wall panels (shards)", 8, 10),
            Parameter("tilt (roll, pitch)", -1.0, 1.0, "rad"),
            Parameter("break impulse per kg of glass (ring / base joints)", 0.4, 0.8, "N s/kg"),
            Parameter("camera jitter", 0.0, 0.08, "m"),
        ),
    ),
)
