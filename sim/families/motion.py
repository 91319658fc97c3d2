"""Motion families: drop and bounce, collisions, rolling down a ramp, projectiles (pushes:
:mod:`twinsim.sim.families.push`).

Continuity twins (``teleport``) jump a moving body at a frame computed from its ballistic or
rolling motion; the ramp's solidity twin (``pass_through``) lets the ball roll through the wall
at its foot from the last frame before it would touch it (read from the possible scene's trace).
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
    half_height,
    light,
    quat_axis_angle,
    quat_euler,
    rnd,
    world,
)
from twinsim.sim.families._settle import pass_through_at_touch, settle
from twinsim.sim.spec import ObjectSpec, SceneSpec, Violation

__all__ = ["BODY", "FAMILIES", "G", "body_size", "vec"]

G = 9.81
# A rug-like floor for families whose balls land or are launched fast: they must stop in view
# within the clip (0.01 m, the default, lets a ball thrown at 1.6 m/s roll out of the frame).
ROLLING_RUG = 0.03
_SHAPES = ("sphere", "box", "cylinder")


def body_size(rng: np.random.Generator, shape: str, lo: float, hi: float) -> tuple[float, ...]:
    """Size of a compact body whose half extents lie in [lo, hi] m."""
    if shape == "sphere":
        return (rnd(rng.uniform(lo, hi)),)
    if shape == "box":
        a = rng.uniform(lo, hi)
        return tuple(rnd(min(hi, a * f)) for f in rng.uniform(0.8, 1.15, 3))
    return (rnd(rng.uniform(lo, hi * 0.85)), rnd(2 * rng.uniform(lo, hi)))


def _frame(t: float, n: int, fps: float = 24.0) -> int:
    """The frame at ``t`` s clamped to [1, n - 1] (frame 0 is always possible)."""
    return int(min(n - 1, max(1, round(t * fps))))


def vec(v) -> tuple[float, float, float]:
    return tuple(rnd(x) for x in v)


# -- drop --------------------------------------------------------------------------------------


def _drop_draw(rng: np.random.Generator) -> Built:
    w = world(2.5, floor_restitution=0.6)
    cam = camera(rng, eye=(0.0, -1.9, 1.0), target=(0.0, 0.0, 0.4))
    n = int(rng.integers(1, 4))
    cols = colors(rng, n)
    xs = np.linspace(-0.4, 0.4, n) if n > 1 else np.zeros(1)
    objs = []
    for i in range(n):
        shape = str(rng.choice(_SHAPES))
        size = body_size(rng, shape, 0.08, 0.14)
        height = rng.uniform(0.4, 0.9)
        orn = (0.0, 0.0, 0.0, 1.0)
        if shape != "sphere":
            orn = quat_euler(*rng.uniform(-math.pi, math.pi, 3))
        bouncy = rng.uniform(0.5, 0.9) if shape == "sphere" else rng.uniform(0.1, 0.5)
        objs.append(
            ObjectSpec(
                name=f"body{i}",
                shape=shape,
                size=size,
                mass=rnd(rng.uniform(0.2, 2.0)),
                friction=rnd(rng.uniform(0.4, 0.9)),
                restitution=rnd(bouncy),
                color=cols[i],
                position=vec(
                    (xs[i] + rng.uniform(-0.06, 0.06), rng.uniform(-0.15, 0.15), height + 0.15)
                ),
                orientation=orn,
            )
        )
    up = rng.uniform(0.25, 0.4)
    spec = SceneSpec(objects=tuple(objs), cameras=(cam,), light=light(), world=w)
    o = objs[0]
    t_mid = 0.5 * math.sqrt(2 * o.position[2] / G)
    f = _frame(t_mid, w.num_frames)
    return Built(spec, {"teleport": Violation("teleport", o.name, f, offset=(0.0, 0.0, rnd(up)))})


# -- collide -----------------------------------------------------------------------------------


def _moving(name, rng, shape, size, x, vx, color) -> ObjectSpec:
    """A body on the floor at ``x`` moving along x at ``vx`` (balls already rolling)."""
    ang = (0.0, rnd(vx / size[0]), 0.0) if shape == "sphere" else (0.0, 0.0, 0.0)
    return ObjectSpec(
        name=name,
        shape=shape,
        size=size,
        mass=rnd(rng.uniform(0.3, 2.0)),
        friction=rnd(rng.uniform(0.3, 0.6) if shape == "sphere" else rng.uniform(0.25, 0.5)),
        restitution=rnd(rng.uniform(0.2, 0.7)),
        color=color,
        position=vec((x, rng.uniform(-0.04, 0.04), half_height(shape, size))),
        linear_velocity=(rnd(vx), 0.0, 0.0),
        angular_velocity=ang,
    )


def _collide_draw(rng: np.random.Generator) -> Built:
    w = world(2.5)
    cam = camera(rng, eye=(0.0, -1.8, 0.9), target=(0.0, 0.0, 0.15))
    n = int(rng.integers(2, 4))
    cols = colors(rng, n)
    head_on = n == 2 and rng.random() < 0.4
    s = 1.0 if rng.random() < 0.5 else -1.0  # mirror the layout
    shapes = [str(rng.choice(("sphere", "box"))) for _ in range(n)]
    sizes = [body_size(rng, sh, 0.08, 0.13) for sh in shapes]
    speed = rng.uniform(1.2, 1.8)
    x_a = -rng.uniform(0.6, 0.75)
    objs = [_moving("body0", rng, shapes[0], sizes[0], s * x_a, s * speed, cols[0])]
    x = rng.uniform(-0.2, 0.1)
    for i in range(1, n):
        v = -s * rng.uniform(0.8, 1.5) if head_on else 0.0
        objs.append(_moving(f"body{i}", rng, shapes[i], sizes[i], s * x, v, cols[i]))
        x += 2 * max(sizes[i][0], sizes[i][-1]) + rng.uniform(0.02, 0.15)
    gap = abs(objs[1].position[0] - objs[0].position[0]) - 0.25
    f = _frame(0.5 * gap / speed, w.num_frames)
    back = -s * rng.uniform(0.25, 0.4)
    spec = SceneSpec(objects=tuple(objs), cameras=(cam,), light=light(), world=w)
    return Built(
        spec, {"teleport": Violation("teleport", "body0", f, offset=(rnd(back), 0.0, 0.0))}
    )


# -- ramp --------------------------------------------------------------------------------------


def _ramp_draw(rng: np.random.Generator) -> Built:
    w = world(3.0)
    s = 1.0 if rng.random() < 0.5 else -1.0
    theta = math.radians(rng.uniform(15.0, 28.0))
    length, width, thick = rng.uniform(0.7, 0.95), rng.uniform(0.3, 0.45), 0.04
    x_low = s * rng.uniform(-0.1, 0.1)
    cx = x_low - s * (length / 2) * math.cos(theta)
    cz = (length / 2) * math.sin(theta) - (thick / 2) * math.cos(theta)  # low edge flush
    ball_col, ramp_col = colors(rng, 2)
    wall_col = OCCLUDER_COLORS[int(rng.integers(len(OCCLUDER_COLORS)))]
    ramp = ObjectSpec(
        name="ramp",
        shape="box",
        size=(rnd(length / 2), rnd(width / 2), thick / 2),
        mass=0.0,
        friction=0.8,
        restitution=0.1,
        color=ramp_col,
        position=vec((cx, 0.0, cz)),
        orientation=quat_axis_angle((0.0, s, 0.0), theta),
    )
    shape = str(rng.choice(("sphere", "cylinder")))
    if shape == "sphere":
        size = (rnd(rng.uniform(0.09, 0.13)),)
        orn, k_roll = (0.0, 0.0, 0.0, 1.0), 5 / 7
    else:
        size = (rnd(rng.uniform(0.08, 0.11)), rnd(rng.uniform(0.15, min(0.3, width - 0.04))))
        orn, k_roll = quat_axis_angle((1.0, 0.0, 0.0), math.pi / 2), 2 / 3
    r = size[0]
    up = np.array([-s * math.cos(theta), 0.0, math.sin(theta)])  # along the slope, uphill
    normal = np.array([s * math.sin(theta), 0.0, math.cos(theta)])
    d = length / 2 - r - 0.05
    pos = np.array([cx, 0.0, cz]) + up * d + normal * (thick / 2 + r + 0.002)
    ball = ObjectSpec(
        name="ball",
        shape=shape,
        size=size,
        mass=rnd(rng.uniform(0.2, 1.5)),
        friction=rnd(rng.uniform(0.5, 0.9)),
        restitution=rnd(rng.uniform(0.05, 0.3)),
        color=ball_col,
        position=vec(pos),
        orientation=orn,
    )
    wall_x = x_low + s * rng.uniform(0.3, 0.5)
    mid = (cx - s * (length / 2) * math.cos(theta) + wall_x) / 2  # frame ramp and wall
    cam = camera(rng, eye=(mid, -1.8, 0.95), target=(mid, 0.0, 0.22))
    wall_h = rng.uniform(0.12, 0.2)
    wall = ObjectSpec(
        name="wall",
        shape="box",
        size=(0.04, rnd(rng.uniform(0.3, 0.4)), rnd(wall_h)),
        mass=0.0,
        friction=0.6,
        restitution=0.05,
        color=wall_col,
        position=vec((wall_x, 0.0, wall_h)),
    )
    accel = k_roll * G * math.sin(theta)
    travel = length / 2 + d  # from the start to the foot of the ramp
    t_mid = math.sqrt(travel / accel)
    back = up * rng.uniform(0.15, 0.25)
    spec = SceneSpec(objects=(ramp, wall, ball), cameras=(cam,), light=light(), world=w)
    teleport = Violation("teleport", "ball", _frame(t_mid, w.num_frames), offset=vec(back))
    return Built(spec, {"teleport": teleport})  # pass_through: from the trace (settle)


# -- projectile ---------------------------------------------------------------------------------


def _projectile_draw(rng: np.random.Generator) -> Built:
    w = world(2.5, rolling=ROLLING_RUG)
    s = 1.0 if rng.random() < 0.5 else -1.0
    cam = camera(rng, eye=(0.0, -1.9, 0.95), target=(0.0, 0.0, 0.42), fov=55.0)
    shape = str(rng.choice(("sphere", "box")))
    size = body_size(rng, shape, 0.1, 0.14)
    vx, vz = rng.uniform(1.0, 1.6), rng.uniform(2.5, 3.2)
    z0 = half_height(shape, size) + rng.uniform(0.0, 0.2)
    spin = rng.uniform(-3, 3, 3) if shape == "box" else np.zeros(3)
    (col,) = colors(rng, 1)
    body = ObjectSpec(
        name="projectile",
        shape=shape,
        size=size,
        mass=rnd(rng.uniform(0.2, 1.5)),
        friction=rnd(rng.uniform(0.5, 0.9)),
        restitution=rnd(rng.uniform(0.1, 0.5)),
        color=col,
        position=vec((-s * rng.uniform(0.7, 0.85), rng.uniform(-0.1, 0.1), z0)),
        linear_velocity=vec((s * vx, 0.0, vz)),
        angular_velocity=vec(spin),
    )
    offset = (rnd(-s * rng.uniform(0.2, 0.35)), 0.0, rnd(rng.uniform(0.0, 0.15)))
    f = _frame(vz / G, w.num_frames)  # the apex
    spec = SceneSpec(objects=(body,), cameras=(cam,), light=light(), world=w)
    return Built(spec, {"teleport": Violation("teleport", "projectile", f, offset=offset)})


BODY = (
    Parameter("mass", 0.2, 2.0, "kg"),
    Parameter("friction", 0.25, 0.9),
    Parameter("restitution", 0.05, 0.9),
    *FRAMING,
)


def _drop(rng: np.random.Generator, seed: int) -> Built:
    return settle(rng, "drop", _drop_draw)


def _collide(rng: np.random.Generator, seed: int) -> Built:
    return settle(rng, "collide", _collide_draw)


def _ramp(rng: np.random.Generator, seed: int) -> Built:
    return settle(rng, "ramp", _ramp_draw, twins=pass_through_at_touch("ball", "wall"))


def _projectile(rng: np.random.Generator, seed: int) -> Built:
    return settle(rng, "projectile", _projectile_draw)


FAMILIES = (
    Family(
        "drop",
        "One to three bodies dropped from rest at random orientations bounce on the floor.",
        _drop,
        ("teleport",),
        (
            Parameter("bodies", 1, 3),
            Parameter("shape", choices=_SHAPES),
            Parameter("half extent / radius", 0.08, 0.14, "m"),
            Parameter("drop height", 0.55, 1.05, "m"),
            Parameter("floor restitution", 0.6, 0.6),
            Parameter("teleport (upwards, mid-fall)", 0.25, 0.4, "m"),
            *BODY,
        ),
    ),
    Family(
        "collide",
        "A ball or box slides or rolls into one or two others (sometimes head-on).",
        _collide,
        ("teleport",),
        (
            Parameter("bodies", 2, 3),
            Parameter("shape", choices=("sphere", "box")),
            Parameter("half extent / radius", 0.08, 0.13, "m"),
            Parameter("speed", 1.2, 1.8, "m/s"),
            Parameter("teleport (backwards, mid-approach)", 0.25, 0.4, "m"),
            *BODY,
        ),
    ),
    Family(
        "ramp",
        "A ball or cylinder rolls down a static ramp and stops against a wall at its foot.",
        _ramp,
        ("teleport", "pass_through"),
        (
            Parameter("rolling body", choices=("sphere", "cylinder")),
            Parameter("ramp angle", 15.0, 28.0, "deg"),
            Parameter("ramp length", 0.7, 0.95, "m"),
            Parameter("ball radius", 0.08, 0.13, "m"),
            Parameter("wall distance from the ramp's foot", 0.3, 0.5, "m"),
            Parameter("teleport (uphill, mid-ramp)", 0.15, 0.25, "m"),
            *BODY,
        ),
    ),
    Family(
        "projectile",
        "A ball or spinning box is thrown in a ballistic arc, lands and slides to rest.",
        _projectile,
        ("teleport",),
        (
            Parameter("shape", choices=("sphere", "box")),
            Parameter("launch speed, horizontal", 1.0, 1.6, "m/s"),
            Parameter("launch speed, vertical", 2.5, 3.2, "m/s"),
            Parameter("half extent / radius", 0.1, 0.14, "m"),
            Parameter("teleport (at the apex, backwards)", 0.2, 0.35, "m"),
            Parameter("floor rolling resistance (a rug: the ball stops in view)", 0.03, 0.03, "m"),
            *BODY,
        ),
    ),
)
