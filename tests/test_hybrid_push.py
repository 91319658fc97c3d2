"""A push still acting when the clip ends (:mod:`twinsim.neural.push`): read from a body speeding
up on the floor, not from one struck by another, and redrawn with its body's materials."""

from __future__ import annotations

import numpy as np
import pytest
from twinsim.neural.materials import MaterialPrior, sample_materials
from twinsim.neural.push import MIN_ACCEL, HeldPush, held_push, push_events, same_push
from twinsim.sim import ObjectSpec, SceneSpec, WorldSpec
from twinsim.sim.spec import EventSpec

TIMES = np.arange(6) / 24.0


def _box(name: str, x: float, mass: float = 1.0, friction: float = 0.5) -> ObjectSpec:
    return ObjectSpec(name, "box", (0.05, 0.05, 0.05), mass=mass, friction=friction,
                      position=(x, 0.0, 0.05))  # fmt: skip


def test_held_push_needs_a_clear_speed_up_and_lasts_as_long_as_it_was_seen():
    v = np.array([0.6, 0.8, 0.0])
    assert held_push(v, MIN_ACCEL * 0.9, TIMES, 0) is None  # fits' scatter, or friction
    assert held_push(np.zeros(3), 5.0, TIMES, 0) is None  # no direction to push along
    push = held_push(v, 5.0, TIMES, 0)
    assert push.acceleration == pytest.approx([3.0, 4.0, 0.0])
    assert push.seconds == pytest.approx(TIMES[-1])  # moving in every frame: seen for the window
    assert held_push(v, 5.0, TIMES, 3).seconds == pytest.approx(TIMES[-1] - TIMES[2])


def test_push_events_give_the_acceleration_against_friction_unless_another_body_is_near():
    pushed, far, near = _box("pushed", 0.0, mass=2.0), _box("far", 0.5), _box("near", 0.13)
    push = HeldPush(np.array([3.0, 0.0, 0.0]), 0.2)
    paths = {b.name: {0: np.array(b.position), 1: np.array(b.position)} for b in (pushed, far)}
    (event,) = push_events({"pushed": push}, (pushed, far), paths, floor_friction=0.5)
    assert event.body == "pushed" and event.kind == "force" and event.duration == 0.2
    assert event.vector == pytest.approx((2.0 * (3.0 + 0.25 * 9.81), 0.0, 0.0))
    paths["near"] = {1: np.array(near.position)}  # within reach in frame 1: a blow
    assert push_events({"pushed": push}, (pushed, far, near), paths, floor_friction=0.5) == ()
    static = _box("wall", 0.13, mass=0.0)  # scenery does not strike
    paths["wall"] = paths.pop("near")
    assert len(push_events({"pushed": push}, (pushed, far, static), paths, floor_friction=0.5)) == 1


def test_redrawn_materials_keep_a_pushs_acceleration():
    old = _box("b", 0.0, mass=1.0, friction=0.5)
    force = 1.0 * (4.0 + 0.5 * 0.6 * 9.81)  # 4 m/s^2 net on a 0.6 floor
    event = EventSpec(0.0, "b", "force", (force, 0.0, 0.0), None, 0.2)
    new = _box("b", 0.0, mass=2.5, friction=0.8)
    moved = same_push(event, old, new, floor_friction=0.6)
    assert moved.vector[0] / 2.5 - 0.8 * 0.6 * 9.81 == pytest.approx(4.0)
    assert moved.duration == event.duration and moved.vector[1:] == (0.0, 0.0)
    impulse = EventSpec(0.0, "b", "impulse", (1.0, 0.0, 0.0))
    assert same_push(impulse, old, new, 0.6) is impulse
    spec = SceneSpec(objects=(old,), events=(event,), world=WorldSpec(floor_friction=0.6))
    drawn = sample_materials(spec, MaterialPrior(), np.random.default_rng(0), frozenset())
    (body,), (pushed,) = drawn.objects, drawn.events
    assert body.mass != old.mass  # a new draw, pushed as hard as it takes
    assert pushed.vector[0] / body.mass - body.friction * 0.6 * 9.81 == pytest.approx(4.0)
