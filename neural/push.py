"""A push still acting when the clip ends: found, played on, and redrawn with the materials.

Nothing on a level floor speeds a body up but a push or a blow. A body on the floor that the
window's joint fit finds speeding up, with no other movable body within reach of it (that
would be a blow), is being pushed, and the push is taken to act on: as long again as it has
been seen acting (how long a push lasts is not in the frames; what was seen of it is the one
measure there is). The estimate plays it as a force event from the last frame that gives the
body the acceleration seen, against the friction the rollout applies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from twinsim.neural.kinematics import G
from twinsim.neural.support import reach
from twinsim.sim.spec import EventSpec, ObjectSpec

__all__ = ["MIN_ACCEL", "HeldPush", "held_push", "push_events", "same_push"]

# m/s^2: on the development push seeds the floor line's fitted speed-up of bodies sliding
# freely was 0.9 at the most, of the three pushed at the last frame 3.7-6.3
MIN_ACCEL = 2.0
_BLOW_GAP = 0.03  # m: another movable body this near a body speeding up may have struck it


@dataclass(frozen=True)
class HeldPush:
    """A push acting on a body at the last observed frame.

    Attributes:
        acceleration: (3,) m/s^2 it gives the body net of friction (level, along its motion).
        seconds: how much longer it is taken to act (as long as it was seen acting).
    """

    acceleration: np.ndarray
    seconds: float


def held_push(
    velocity: np.ndarray, speedup: float, times: np.ndarray, onset: int
) -> HeldPush | None:
    """The push on a body on the floor moving at ``velocity`` (3,) and speeding up by
    ``speedup`` m/s^2 over its frames at ``times`` (s), the first of them it moved in being
    ``onset`` (an index; 0 where it moved throughout); None below :data:`MIN_ACCEL`."""
    speed = float(np.linalg.norm(velocity[:2]))
    if speedup <= MIN_ACCEL or speed < 1e-6:
        return None
    direction = np.array([velocity[0], velocity[1], 0.0]) / speed
    seen = float(times[-1] - times[max(onset - 1, 0)])
    return HeldPush(direction * speedup, seen)


def push_events(
    pushes: Mapping[str, HeldPush],
    bodies: Sequence[ObjectSpec],
    paths: Mapping[str, Mapping[int, np.ndarray]],
    floor_friction: float,
) -> tuple[EventSpec, ...]:
    """A force event from t = 0 for each body in ``pushes`` that no other movable body of
    ``bodies`` came within reach of in a frame both were fitted in (``paths``: name -> frame ->
    position), giving it the push's acceleration against its friction on the floor."""
    events = []
    for name, push in pushes.items():
        me = next(b for b in bodies if b.name == name)
        if any(_within_reach(me, other, paths) for other in bodies if other is not me):
            continue
        force = _force(me, push.acceleration, floor_friction)
        events.append(EventSpec(0.0, name, "force", force, None, push.seconds))
    return tuple(events)


def _within_reach(me: ObjectSpec, other: ObjectSpec, paths) -> bool:
    if other.mass == 0 or other.name not in paths:
        return False
    near = reach(me.shape, me.size) + reach(other.shape, other.size) + _BLOW_GAP
    mine, theirs = paths[me.name], paths[other.name]
    return any(
        np.linalg.norm(np.asarray(mine[t])[:2] - np.asarray(theirs[t])[:2]) < near
        for t in set(mine) & set(theirs)
    )


def same_push(
    event: EventSpec, old: ObjectSpec, new: ObjectSpec, floor_friction: float
) -> EventSpec:
    """``event`` for ``new``, the body ``old`` with other materials: a force keeps the
    acceleration it gives the body net of the floor's friction (what was measured of a push),
    so a heavier or rougher draw is pushed harder."""
    force = np.asarray(event.vector, float)
    size = float(np.linalg.norm(force))
    if event.kind != "force" or size == 0 or old.mass == 0 or new == old:
        return event
    accel = force / old.mass - old.friction * floor_friction * G * force / size
    return dataclasses.replace(event, vector=_force(new, accel, floor_friction))


def _force(body: ObjectSpec, accel: np.ndarray, floor_friction: float) -> tuple[float, ...]:
    """The level force that gives ``body`` sliding on the floor the net acceleration ``accel``
    (3,) against its friction there (the body's times the floor's, as Bullet applies it)."""
    direction = accel / np.linalg.norm(accel)
    force = body.mass * (accel + body.friction * floor_friction * G * direction)
    return tuple(map(float, force))
