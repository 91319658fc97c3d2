"""A ball on the floor meets another inside the window (:func:`kinematics.velocity_break`): the
estimate moves each ball at its velocity since the collision, and a ball struck from rest slides
off unspun, not at the window's mean velocity or with a roll it never had; friction closes the
slip (:func:`kinematics.slide_to_roll`)."""

from __future__ import annotations

import numpy as np
import pytest
from twinsim.neural import kinematics
from twinsim.neural.estimate import default_camera, estimate_scene
from twinsim.neural.kinematics import velocity_break
from twinsim.sim import ObjectSpec, SceneSpec, WorldSpec, simulate
from twinsim.sim.spec import LightSpec

R = 0.08  # m, both balls' radius (the collide family draws 0.08-0.13)
ORANGE, BLUE = (0.95, 0.5, 0.05, 1.0), (0.1, 0.4, 0.9, 1.0)


def _steps(vx: list[float], vy: list[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Positions (N, 3) at 24 fps whose steps move at ``vx``, ``vy`` (m/s)."""
    vy = [0.0] * len(vx) if vy is None else vy
    steps = np.stack([vx, vy, np.zeros(len(vx))], 1) / 24.0
    pos = np.concatenate([np.zeros((1, 3)), np.cumsum(steps, 0)])
    return np.arange(len(pos)) / 24.0, pos


@pytest.mark.parametrize(
    ("vx", "vy", "split"),
    [
        ([0.0, 0.0, 0.0, -0.8], None, 3),  # at rest, struck in the last step
        ([-1.44, -1.66, -1.41, -0.58], None, 3),  # slowed by what it hit
        ([1.2, 1.2, 0.4, 0.4], None, 2),  # slowed two steps before the end
        ([0.5, 0.45, 0.55, 0.5], None, None),  # rolling, with a 64 px fit's scatter
        ([0.0, 0.0, 0.0, 0.0], None, None),  # at rest throughout
        ([0.0, 0.0, 0.0, 0.1], None, None),  # 4 mm in a step: under a pixel
        ([0.49, 0.30, 0.52, 0.70], None, None),  # scatter is not a change of speed
        ([0.5, 0.9], None, None),  # two steps: no scatter to weigh a change against
    ],
)
def test_velocity_break_finds_a_change_of_velocity_not_scatter(vx, vy, split):
    times, pos = _steps(vx, vy)
    assert velocity_break(times, pos) == split


def test_velocity_break_weighs_scatter_along_the_line_of_sight_apart():
    # seen from an eye at 45 deg, the steps scatter 0.3-0.4 m/s along the line of sight and
    # change by 0.9 m/s across it in the last step; along the world's x and y the depth
    # scatter is in both and hides the change
    sight = np.array([1.0, 1.0]) / np.sqrt(2)
    across = np.array([-1.0, 1.0]) / np.sqrt(2)
    along, side = np.array([0.3, -0.4, 0.35, -0.2]), np.array([-1.45, -1.55, -1.5, -0.6])
    v = along[:, None] * sight + side[:, None] * across
    times, pos = _steps(list(v[:, 0]), list(v[:, 1]))
    assert velocity_break(times, pos, eye=np.array([-1.5, -1.5, 0.5])) == 3
    assert velocity_break(times, pos) is None


def _ball(name: str, color, x: float, speed: float) -> ObjectSpec:
    """A ball on the floor at ``x`` rolling along +x at ``speed`` m/s."""
    return ObjectSpec(
        name=name,
        shape="sphere",
        size=(R,),
        mass=1.0,
        friction=0.5,
        color=color,
        position=(x, 0.0, R),
        linear_velocity=(speed, 0.0, 0.0),
        angular_velocity=(0.0, speed / R, 0.0),
    )


def _collision(frames: int = 8):
    """Ball a rolls at 1.5 m/s into ball b at rest, meeting it halfway through the step before
    the last."""
    v, hit_frame = 1.5, frames - 2.5
    x_a = -0.1 - 2 * R - 0.93 * v * hit_frame / 24  # it slows by about 0.7 m/s^2 as it rolls
    a = _ball("a", ORANGE, x_a, v)
    b = _ball("b", BLUE, -0.1, 0.0)
    spec = SceneSpec(
        objects=(a, b),
        cameras=(default_camera(),),
        light=LightSpec(shadows=False),
        world=WorldSpec(duration=(frames - 1) / 24),
    )
    return simulate(spec, labels=("rgb", "objects"))


def test_balls_that_met_inside_the_window_move_at_their_speeds_after_it():
    ro = _collision()
    a, b = ro.objects
    # the truth: a slowed from 1.35 to under 0.7 m/s, b at rest until then
    assert a.linear_velocity[-3][0] > 1.2 and a.linear_velocity[-1][0] < 0.7
    assert np.abs(b.linear_velocity[:-2]).max() < 0.01 and b.linear_velocity[-1][0] > 0.5
    est = estimate_scene(ro.rgb, camera=ro.spec.cameras[0])
    by_colour = {
        ("a" if o.spec.color[0] > 0.5 else "b"): o.spec for o in est.objects if o.spec.mass > 0
    }
    va, vb = (np.asarray(by_colour[n].linear_velocity) for n in "ab")
    # a moves on at its speed since the collision (one step measures it; 1.4 before)
    assert abs(va[0] - a.linear_velocity[-1][0]) < 0.2, va
    assert abs(vb[0] - b.linear_velocity[-1][0]) < 0.1, vb
    assert abs(va[1]) < 0.2 and abs(vb[1]) < 0.2
    # struck from rest, b slides off unspun and friction spins it up while it slows: its roll
    # (spin times radius) never exceeds its speed (a roll at the speed the blow gave it would
    # carry it on too fast)
    spin = np.linalg.norm(by_colour["b"].angular_velocity) * by_colour["b"].size[0]
    assert 0.0 < spin <= np.linalg.norm(vb) + 1e-9


def _slipping(v0, roll0, friction: float, t: np.ndarray):
    """Velocity, roll and displacement (each (N, 2)) of a ball given ``v0`` by a blow while it
    rolled at ``roll0``: floor friction on the slip, integrated in small steps (solid sphere:
    the spin gains 5/2 of what the speed loses)."""
    dt, v, roll, x = 1e-5, np.array(v0, float), np.array(roll0, float), np.zeros(2)
    out, k = [], 0
    for step in range(int(t.max() / dt) + 2):
        while k < len(t) and step * dt >= t[k]:
            out.append((v.copy(), roll.copy(), x.copy()))
            k += 1
        slip = v - roll
        if np.linalg.norm(slip) > 1e-6:
            push = friction * 9.81 * dt * slip / np.linalg.norm(slip)
            v, roll = v - push, roll + 2.5 * push
        x = x + v * dt
    return [np.array(a) for a in zip(*out, strict=True)]


@pytest.mark.parametrize(
    ("v0", "roll0"),
    [
        ((0.6, 0.0), (0.0, 0.0)),  # struck from rest: rolls on at 5/7 of 0.6
        ((0.2, 0.0), (1.44, 0.0)),  # stopped short: its spin speeds it up again
        ((0.5, 0.3), (0.5, 0.3)),  # a blow that changed nothing: no slip
        ((-0.4, 0.5), (0.8, 0.0)),  # knocked sideways: the slip closes along a diagonal
    ],
)
def test_a_struck_ball_is_read_at_its_speed_after_the_slip_not_its_mean(v0, roll0):
    friction, times = 0.3, np.array([0.02, 0.06, 0.10])
    v, roll, x = _slipping(v0, roll0, friction, times)
    mean = (x[-1] - x[0]) / (times[-1] - times[0])
    pad = np.zeros(1)
    got_v, got_roll = kinematics.slide_to_roll(
        np.concatenate([mean, pad]), np.concatenate([roll0, pad]), (0.02, 0.1), friction
    )
    np.testing.assert_allclose(got_v[:2], v[-1], atol=2e-3)
    np.testing.assert_allclose(got_roll[:2], roll[-1], atol=2e-3)
    if not np.allclose(v0, roll0):
        assert np.linalg.norm(mean - v[-1]) > 0.01  # the mean would have been off
