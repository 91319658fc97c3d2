"""Bodies that stayed in touch over the last frames, all moving one way, move on as one.

Two boxes pushed along together, or a row of them struck one after another, slide at one
speed while they touch; their fits do not say so. Where bodies meet their pixels merge and a
body's sides are hidden by its neighbour, so each is fitted alone a centimetre or more off and
read at its own speed (development collide seed 5 000 023: two boxes sliding together at 0.10
and 0.16 m/s were read at 0.08 and 0.35 and played on so). A velocity shared
by the bodies in touch, weighted by how well each was measured, uses them all.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
from twinsim.neural.estimate_types import STILL_SPEED, ObjectEstimate
from twinsim.neural.settle import held
from twinsim.sim.graph import connected
from twinsim.sim.spec import ObjectSpec, SceneSpec

__all__ = ["moving_together", "touching_groups"]

# fits this close (m) count as touching: about their error where two bodies' edges merge
_TOUCH = 0.01
# in touch in each of the last frames this many, they move as one (an impact in the last
# frame or two leaves them different speeds: the struck body has not caught up yet)
_FRAMES = 3
_LEVEL = 0.05  # m/s: a body sliding on a support moves this little, or less, up or down
_SAME_WAY = math.cos(math.radians(45.0))  # their directions within this of one another
_SE_FLOOR = 0.005  # m/s: standard errors below this are not trusted to weigh more


def _candidate(o: ObjectEstimate) -> bool:
    """A box or cylinder on a support, in view (a ball rolls off what it meets)."""
    s = o.spec
    return (
        o.role == "dynamic"
        and o.frames_hidden == 0
        and s.shape in ("box", "cylinder")
        and abs(s.linear_velocity[2]) < _LEVEL
    )


def touching_groups(results: list[ObjectEstimate]) -> list[list[int]]:
    """Indices into ``results`` of each set of two or more boxes or cylinders on a support,
    in view, whose fits touched (within :data:`_TOUCH`) in each of the last
    :data:`_FRAMES` frames fitted for both, linked pairwise (a row is one set)."""
    from twinsim.sim import World

    cand = [i for i, o in enumerate(results) if _candidate(o)]
    pairs = []
    for i, j in itertools.combinations(cand, 2):
        common = sorted(set(results[i].positions) & set(results[j].positions))
        if len(common) >= _FRAMES:
            pairs.append((i, j, common[-_FRAMES:]))
    frames = sorted({t for *_, ts in pairs for t in ts})
    touching = {(i, j): True for i, j, _ in pairs}
    for t in frames:
        at_t = [(i, j) for i, j, ts in pairs if t in ts and touching[(i, j)]]
        if not at_t:
            continue
        names = sorted({k for pair in at_t for k in pair})
        placed = [_at(results[k].spec, results[k].positions[t]) for k in names]
        with World(SceneSpec(objects=tuple(placed))) as world:
            for i, j in at_t:
                gap = world.separation(results[i].spec.name, results[j].spec.name, _TOUCH)
                touching[(i, j)] = gap is not None
    linked = [pair for pair, touch in touching.items() if touch]
    return [g for g in connected(cand, linked) if len(g) > 1]


def moving_together(results: list[ObjectEstimate]) -> None:
    """Give every set of :func:`touching_groups` whose bodies all move one way
    (:func:`_one_way`) one level velocity: the mean of theirs, each weighted by the inverse
    square of its standard error (``velocity_sigma``). Changes ``results`` in place; vertical
    velocity, spin and everything else stay."""
    for group in touching_groups(results):
        vel = np.array([results[i].spec.linear_velocity for i in group], float)[:, :2]
        if not _one_way(vel):
            continue
        se = np.array([max(results[i].velocity_sigma, _SE_FLOOR) for i in group])
        w = 1.0 / se**2
        shared = (w[:, None] * vel).sum(0) / w.sum()
        for i in group:
            s = results[i].spec
            v = (float(shared[0]), float(shared[1]), float(s.linear_velocity[2]))
            results[i].spec = dataclasses.replace(s, linear_velocity=v)


def _one_way(vel: np.ndarray) -> bool:
    """Whether every level velocity of ``vel`` (N, 2) m/s moves (``STILL_SPEED`` or more, as
    :func:`~twinsim.neural.estimate.estimate_scene` reads it) and within :data:`_SAME_WAY` of
    the others' direction. A body read at rest beside a moving one may be right (push seed
    3 000 017: a box fitted sliding at 15 cm/s had come to a stop against the one read at rest;
    shared, both slid on), so only bodies all read moving together are made one."""
    speed = np.linalg.norm(vel, axis=1)
    if speed.min() < STILL_SPEED:
        return False
    unit = vel / speed[:, None]
    return bool((unit @ unit.T).min() >= _SAME_WAY)


def _at(o: ObjectSpec, position) -> ObjectSpec:
    """``o`` held at ``position`` (a fitted frame's), to measure gaps."""
    return held(dataclasses.replace(o, position=tuple(float(x) for x in position)))
