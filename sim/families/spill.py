"""Spill: an open container held in the air tips over and pours out many small balls.

The container is five kinematic panels (base and four walls) that rotate together about the
container's middle; their keyframed paths sample the rotation every 50 ms so the linear
interpolation between keyframes stays within a millimetre of the arc.
"""

from __future__ import annotations

import math

import numpy as np
from twinsim.sim.families._common import (
    FRAMING,
    PALETTE,
    Built,
    Family,
    Parameter,
    camera,
    light,
    quat_axis_angle,
    rnd,
    world,
)
from twinsim.sim.families._settle import settle
from twinsim.sim.spec import Keyframe, ObjectSpec, SceneSpec

__all__ = ["FAMILIES"]

_KEY_DT = 0.05  # s between keyframes of the tipping motion
_T = 0.006  # panel half thickness, m


def _rot_y(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _spill_draw(rng: np.random.Generator) -> Built:
    w = world(3.0)
    s = 1.0 if rng.random() < 0.5 else -1.0
    a, b = rng.uniform(0.12, 0.15), rng.uniform(0.12, 0.15)  # inner half extents
    hw = rng.uniform(0.14, 0.18)  # wall height
    cx, zb = -s * rng.uniform(0.05, 0.2), rng.uniform(0.25, 0.4)
    cam = camera(rng, eye=(cx + s * 0.15, -1.4, 0.85), target=(cx + s * 0.15, 0.0, 0.2))
    phi = math.radians(rng.uniform(100.0, 130.0))
    t0 = rng.uniform(0.3, 0.5)
    t1 = t0 + rng.uniform(0.6, 1.0)
    order = rng.permutation(len(PALETTE))
    box_col, ncol = PALETTE[order[0]], int(rng.integers(1, 3))
    ball_cols = [PALETTE[i] for i in order[1 : 1 + ncol]]
    r = rng.uniform(0.025, 0.03)
    n_balls = int(rng.integers(20, 33))

    h = hw / 2 + _T
    panels = {  # name: (centre in the container frame, half extents)
        "container_base": ((0.0, 0.0, 0.0), (a + 2 * _T, b + 2 * _T, _T)),
        "container_wall_x0": ((-(a + _T), 0.0, h), (_T, b, hw / 2)),
        "container_wall_x1": ((a + _T, 0.0, h), (_T, b, hw / 2)),
        "container_wall_y0": ((0.0, -(b + _T), h), (a + 2 * _T, _T, hw / 2)),
        "container_wall_y1": ((0.0, b + _T, h), (a + 2 * _T, _T, hw / 2)),
    }
    centre = np.array([cx, 0.0, zb])
    pivot = centre + np.array([0.0, 0.0, (_T + hw) / 2])  # tip about the middle
    k = math.ceil((t1 - t0) / _KEY_DT)
    times = [0.0, t0] + [t0 + (t1 - t0) * i / k for i in range(1, k + 1)]
    fracs = [0.0, 0.0] + [0.5 - 0.5 * math.cos(math.pi * i / k) for i in range(1, k + 1)]
    objs = []
    for name, (local, half) in panels.items():
        path = []
        for t, u in zip(times, fracs, strict=True):
            angle = s * phi * u
            pos = pivot + _rot_y(angle) @ (centre + np.asarray(local) - pivot)
            orn = tuple(rnd(q, 6) for q in quat_axis_angle((0.0, 1.0, 0.0), angle))
            path.append(Keyframe(rnd(t), tuple(rnd(v) for v in pos), orn))
        objs.append(
            ObjectSpec(
                name=name,
                shape="box",
                size=tuple(rnd(v) for v in half),
                mass=0.0,
                friction=0.4,
                restitution=0.1,
                color=box_col,
                position=path[0].position,
                path=tuple(path),
            )
        )
    d = 2 * r + 0.006
    nx, ny = int(2 * a // d), int(2 * b // d)
    for i in range(n_balls):
        layer, rest = divmod(i, nx * ny)
        ix, iy = divmod(rest, ny)
        jitter = rng.uniform(-0.002, 0.002, 2)
        pos = (
            cx - a + d / 2 + ix * d + jitter[0],
            -b + d / 2 + iy * d + jitter[1],
            zb + _T + r + 0.002 + layer * d,
        )
        objs.append(
            ObjectSpec(
                name=f"ball{i}",
                shape="sphere",
                size=(rnd(r),),
                mass=rnd(rng.uniform(0.01, 0.03)),
                friction=rnd(rng.uniform(0.4, 0.7)),
                restitution=rnd(rng.uniform(0.3, 0.6)),
                color=ball_cols[i % ncol],
                position=tuple(rnd(v) for v in pos),
            )
        )
    spec = SceneSpec(objects=tuple(objs), cameras=(cam,), light=light(), world=w)
    return Built(spec, {})


def _spill(rng: np.random.Generator, seed: int) -> Built:
    return settle(rng, "spill", _spill_draw)


FAMILIES = (
    Family(
        "spill",
        "An open container held in the air tips over and pours out 20 to 32 small balls.",
        _spill,
        (),
        (
            Parameter("balls", 20, 32),
            Parameter("ball radius", 0.025, 0.03, "m"),
            Parameter("container inner half extents", 0.12, 0.15, "m"),
            Parameter("container wall height", 0.14, 0.18, "m"),
            Parameter("container height above the floor", 0.25, 0.4, "m"),
            Parameter("tip angle", 100.0, 130.0, "deg"),
            Parameter("tip start", 0.3, 0.5, "s"),
            Parameter("tip duration", 0.6, 1.0, "s"),
            Parameter("ball restitution", 0.3, 0.6),
            *FRAMING,
        ),
    ),
)
