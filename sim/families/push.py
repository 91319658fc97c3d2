"""The push family: a scripted impulse or force pushes a box or cylinder (low: it slides; high:
it topples), sometimes into an obstacle."""

from __future__ import annotations

import numpy as np
from twinsim.sim.families._common import (
    Built,
    Family,
    Parameter,
    camera,
    colors,
    half_height,
    light,
    rnd,
    world,
)
from twinsim.sim.families._settle import settle
from twinsim.sim.families.motion import BODY, G, body_size, vec
from twinsim.sim.spec import EventSpec, ObjectSpec, SceneSpec

__all__ = ["FAMILIES"]


def _draw(rng: np.random.Generator) -> Built:
    w = world(2.5)
    s = 1.0 if rng.random() < 0.5 else -1.0
    cam = camera(rng, eye=(0.0, -1.7, 0.85), target=(0.0, 0.0, 0.2))
    shape = str(rng.choice(("box", "cylinder")))
    if shape == "box":
        size = (
            rnd(rng.uniform(0.06, 0.1)),
            rnd(rng.uniform(0.08, 0.12)),
            rnd(rng.uniform(0.08, 0.2)),
        )
    else:
        size = (rnd(rng.uniform(0.06, 0.09)), rnd(rng.uniform(0.16, 0.4)))
    cols = colors(rng, 2)
    hh = half_height(shape, size)
    mass = rng.uniform(0.3, 1.5)
    pos = (-s * rng.uniform(0.3, 0.5), rng.uniform(-0.05, 0.05), hh)
    target = ObjectSpec(
        name="target",
        shape=shape,
        size=size,
        mass=rnd(mass),
        friction=rnd(rng.uniform(0.4, 0.8)),
        restitution=rnd(rng.uniform(0.1, 0.4)),
        color=cols[0],
        position=vec(pos),
    )
    objs = [target]
    if rng.random() < 0.6:  # something in the way
        bsize = body_size(rng, "box", 0.07, 0.11)
        objs.append(
            ObjectSpec(
                name="obstacle",
                shape="box",
                size=bsize,
                mass=rnd(rng.uniform(0.2, 1.0)),
                friction=rnd(rng.uniform(0.4, 0.8)),
                restitution=rnd(rng.uniform(0.1, 0.4)),
                color=cols[1],
                position=vec((s * rng.uniform(0.05, 0.25), pos[1], bsize[2])),
            )
        )
    t = rng.uniform(0.3, 0.8)
    lift = rng.uniform(0.0, 0.8) * hh  # pushing high topples tall bodies
    point = vec((pos[0], pos[1], pos[2] + lift))
    speed = rng.uniform(1.0, 2.0)
    if rng.random() < 0.5:
        event = EventSpec(t, "target", "impulse", (rnd(s * mass * speed), 0.0, 0.0), point)
    else:
        dur = rng.uniform(0.15, 0.35)
        force = s * mass * (speed / dur + 0.4 * G)
        event = EventSpec(rnd(t), "target", "force", (rnd(force), 0.0, 0.0), point, rnd(dur))
    spec = SceneSpec(objects=tuple(objs), cameras=(cam,), light=light(), world=w, events=(event,))
    return Built(spec, {})


def _push(rng: np.random.Generator, seed: int) -> Built:
    return settle(rng, "push", _draw)


FAMILIES = (
    Family(
        "push",
        "A scripted impulse or force pushes a box or cylinder (low: slides; high: topples), "
        "sometimes into an obstacle.",
        _push,
        (),
        (
            Parameter("shape", choices=("box", "cylinder")),
            Parameter("event", choices=("impulse", "force")),
            Parameter("event time", 0.3, 0.8, "s"),
            Parameter("resulting speed", 1.0, 2.0, "m/s"),
            Parameter("push height above the centre (fraction of half height)", 0.0, 0.8),
            *BODY,
        ),
    ),
)
