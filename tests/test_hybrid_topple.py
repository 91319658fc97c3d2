"""A box or cylinder caught toppling (:mod:`twinsim.neural.topple`): read from the turn of its
last fits about the edge it stands on, and left alone where it slides, rests or tumbles in the
air."""

from __future__ import annotations

import numpy as np
import pytest
from _fits import dropped, exact_fits
from scipy.spatial.transform import Rotation
from twinsim.neural import metrics as M
from twinsim.neural import predict_hybrid
from twinsim.neural.estimate import DEFAULT_CAMERA
from twinsim.neural.topple import MIN_TURN_DEG, toppling
from twinsim.sim import ObjectSpec, sample_scene, simulate

EYE = np.array(DEFAULT_CAMERA.eye)
HALF = (0.07, 0.1, 0.18)  # a tall box's half extents (m), as the push family draws them
ORANGE = (0.95, 0.5, 0.05, 1.0)
SPIN = 6.0  # rad/s about y: about 14 degrees a frame at 24 fps


def _tipping(spin: float = SPIN, height: float = 0.0, slide: float = 0.0) -> ObjectSpec:
    """A tall box tipped 10 degrees about its lower +x edge (on the floor, or ``height`` above
    it), turning about that edge at ``spin`` and sliding along y at ``slide`` m/s."""
    tilt = Rotation.from_rotvec([0.0, np.radians(10.0), 0.0])
    edge = np.array([HALF[0], 0.0, -HALF[2]])
    centre = np.array([0.1, 0.0, height]) - tilt.apply(edge)
    w = np.array([0.0, spin, 0.0])
    v = np.cross(w, centre - np.array([0.1, 0.0, height])) + np.array([0.0, slide, 0.0])
    return ObjectSpec("bar", "box", HALF, color=ORANGE, position=tuple(centre),
                      orientation=tuple(tilt.as_quat()), linear_velocity=tuple(v),
                      angular_velocity=tuple(w))  # fmt: skip


def test_a_box_toppling_about_its_edge_is_given_that_turn_and_put_on_the_floor():
    ro = dropped(_tipping(), 8)
    t = 4
    top = toppling(exact_fits(ro, [t - 2, t - 1, t], EYE), EYE)
    assert top is not None
    truth = ro.objects[0]
    w = truth.angular_velocity[t]
    # the turn between the last two frames, about a level axis: the spin halfway between them
    assert top.angular_velocity[2] == 0.0
    assert np.linalg.norm(top.angular_velocity - w) < 0.1 * np.linalg.norm(w)
    # the turn about its edge, and the edge's slide the way it falls (without it: 15 % off)
    v = truth.linear_velocity[t]
    assert np.linalg.norm(top.velocity - v) < 0.05 * np.linalg.norm(v)
    # its lowest point on the floor: where it was (the fit there was exact)
    assert top.fit.position == pytest.approx(truth.position[t], abs=0.005)


def test_a_box_that_slides_or_turns_slowly_is_not_toppling():
    ro = dropped(_tipping(spin=0.0, slide=1.0), 6)  # falls back onto its face, sliding
    fits = exact_fits(ro, [3, 4, 5], EYE)
    turn = Rotation.from_quat(fits[4].orientation).inv() * Rotation.from_quat(fits[5].orientation)
    assert np.degrees(turn.magnitude()) < MIN_TURN_DEG
    assert toppling(fits, EYE) is None
    upright = ObjectSpec("bar", "box", HALF, position=(0.1, 0.0, HALF[2]))
    assert toppling(exact_fits(dropped(upright, 4), [1, 2, 3], EYE), EYE) is None


def test_a_body_turning_in_the_air_is_not_toppling():
    ro = dropped(_tipping(height=0.5), 6)  # the same turn half a metre up: a tumble
    assert toppling(exact_fits(ro, [3, 4, 5], EYE), EYE) is None


@pytest.mark.parametrize("seed", [3_000_030, 3_000_032])
def test_a_body_pushed_over_is_played_on_as_a_topple_not_a_slide(seed):
    # development push seeds whose target is caught toppling at the clip's last frame: played
    # on as a slide (or a flight) at its centre's speed it lost 7.6 and 0.2 dB to copy-last
    spec = sample_scene("push", seed)
    ro = simulate(spec, labels=("rgb",))
    k, horizon = 22, 12
    pred = predict_hybrid(ro.rgb[: k + 1], horizon, camera=spec.cameras[0])
    (body,) = (o for o in pred.estimate.spec.objects if any(o.angular_velocity))
    assert body.angular_velocity[2] == 0.0 and np.linalg.norm(body.angular_velocity) > 1.0
    truth = ro.rgb[k + 1 : k + 1 + horizon]
    copy = M.copy_last(ro.rgb[: k + 1], horizon)
    assert np.mean(M.psnr(pred.frames, truth)) > np.mean(M.psnr(copy, truth)) + 0.5
