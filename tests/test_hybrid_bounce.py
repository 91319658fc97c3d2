"""A landing seen inside the window (:mod:`twinsim.neural.bounce`): the fall and the bounce are
fitted as one path, so the restitution is measured, not assumed, and the engine given it bounces
the ball as the truth does."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from _fits import dropped, exact_fits
from twinsim.neural import metrics, predict_hybrid
from twinsim.neural.bounce import ONE_FRAME_MAX_RESTITUTION, bounce_path, landing
from twinsim.neural.estimate import default_camera
from twinsim.sim import ObjectSpec, SceneSpec, WorldSpec, sample_scene, simulate
from twinsim.sim.render.camera import camera_pose_at

BOUNCE = 0.9 * 0.6  # the ball's restitution x the floor's: what Bullet applies


def _ball(shape: str = "sphere", size=(0.1,)) -> ObjectSpec:
    return ObjectSpec(
        name="ball", shape=shape, size=size, mass=0.5, restitution=0.9, position=(0.0, 0.1, 0.8)
    )


def _dropped(frames: int, body: ObjectSpec | None = None):
    return dropped(body or _ball(), frames, floor_restitution=0.6)


def test_the_engine_bounces_with_the_product_of_body_and_floor_restitution():
    # what the estimate's floor and body restitutions rely on (estimate._bounciness)
    z = _dropped(14).objects[0].position[:, 2]
    ball = dataclasses.replace(_ball(), restitution=BOUNCE)
    spec = SceneSpec(
        objects=(ball,), world=WorldSpec(duration=len(z[1:]) / 24, floor_restitution=1.0)
    )
    np.testing.assert_allclose(
        simulate(spec, labels=("objects",)).objects[0].position[:, 2], z, atol=1e-4
    )
    assert z[8:].max() > 0.15  # it did bounce


def test_the_bounce_path_falls_bounces_and_comes_to_rest():
    tau = np.arange(40) / 24
    pos, vel, hit = bounce_path(np.array([0.0, 0.0, 0.6]), np.zeros(3), 0.1, 0.5, tau)
    assert hit == pytest.approx(np.sqrt(2 * 0.5 / 9.81))
    after = tau > hit
    assert pos[:, 2].min() >= 0.1 - 1e-12
    assert vel[after][0, 2] > 0 and pos[after, 2].max() == pytest.approx(0.1 + 0.25 * 0.5, abs=0.01)
    assert pos[-1, 2] == 0.1 and vel[-1, 2] == 0.0  # down again: at rest
    slow = bounce_path(np.array([0.0, 0.0, 0.2]), np.zeros(3), 0.1, 0.2, tau)[0]
    assert slow[tau > 0.2, 2].max() == 0.1  # a rebound under 0.3 m/s is rest


def test_a_bounce_inside_the_window_is_replayed_with_its_measured_restitution():
    ro = _dropped(14)
    pose = camera_pose_at(default_camera(), 0.0)
    eye = np.asarray(pose.eye)
    vz = ro.objects[0].linear_velocity[:, 2]
    impact = int(np.argmax(vz > 0))  # the first frame after it hit the floor
    last = impact + 2
    got = landing(exact_fits(ro, range(last + 1), eye, depth_error=0.05), pose, eye)
    assert got is not None
    assert (impact - 1) / 24 < got.impact < impact / 24
    # the bounce seen, not Bullet's nominal product: its contacts take the speed where the ball
    # enters the contact margin, so a ball meeting the floor at a frame's start (this one)
    # comes back at 0.39 of its speed for a nominal 0.54
    assert 0.3 < got.restitution < BOUNCE + 0.05
    truth = ro.objects[0]
    assert np.linalg.norm(np.subtract(got.position, truth.position[last])) < 0.01
    assert abs(got.velocity[2] - truth.linear_velocity[last, 2]) < 0.15


def test_no_landing_for_a_flight_that_has_not_ended_or_a_tumbling_box():
    ro = _dropped(14)
    pose = camera_pose_at(default_camera(), 0.0)
    eye = np.asarray(pose.eye)
    impact = int(np.argmax(ro.objects[0].linear_velocity[:, 2] > 0))
    assert landing(exact_fits(ro, range(impact), eye), pose, eye) is None
    box = _dropped(14, _ball("box", (0.08, 0.08, 0.08)))
    assert landing(exact_fits(box, range(impact + 2), eye), pose, eye) is None


@pytest.mark.parametrize("after", [1, 2, 3])
def test_a_ball_seen_bouncing_is_estimated_rising_with_a_bouncy_floor(after):
    ro = _dropped(last_frame := 28)
    vz = ro.objects[0].linear_velocity[:, 2]
    last = int(np.argmax(vz > 0)) + after - 1
    pred = predict_hybrid(ro.rgb[: last + 1], last_frame - last, camera=default_camera())
    est = pred.estimate
    (obj,) = est.spec.objects
    assert obj.linear_velocity[2] > 0.5 * vz[last]  # rising (it was taken for landed: 0)
    assert abs(obj.linear_velocity[2] - vz[last]) < 0.5
    bounce = obj.restitution * est.spec.world.floor_restitution
    assert bounce > 0.3 and est.objects[0].restitution == pytest.approx(bounce, rel=1e-6)
    assert pred.uncertainty.objects[obj.name]["restitution"] == round(bounce, 3)
    truth = ro.rgb[last + 1 :]
    copy_last = np.repeat(ro.rgb[last][None], len(truth), 0)
    gain = np.mean(metrics.psnr(pred.frames, truth)) - np.mean(metrics.psnr(copy_last, truth))
    assert gain > 3.0  # dB over copy-last on the frames to come (4.8 and 7.4 measured)
    # the engine, given the estimate, bounces it again about as high as the truth
    spec = dataclasses.replace(est.spec, world=dataclasses.replace(est.spec.world, duration=0.5))
    peak = simulate(spec, labels=("objects",)).objects[0].position[:, 2].max()
    assert abs(peak - ro.objects[0].position[last:, 2].max()) < 0.04


def test_a_ball_at_its_impact_in_the_last_frame_is_estimated_on_its_fall():
    # the last frame catches the ball at the floor, between substeps of its bounce: no arc
    # and no line on the floor fits it, so the ball is fitted on its fall and carried through
    ro = _dropped(14)
    vz = ro.objects[0].linear_velocity[:, 2]
    last = int(np.argmax(vz > 0)) - 1
    est = predict_hybrid(ro.rgb[: last + 1], 2, camera=default_camera()).estimate
    (obj,) = est.objects
    assert obj.role == "dynamic"
    truth = ro.objects[0]
    # across the line of sight within a sixth of a pixel (0.5 cm; a pixel is 3 cm at 2 m),
    # along it within two thirds (the arc fixes depth to a few per cent: 1.2-1.6 cm here, as
    # frames of the fall fit better), and 0.1 m/s; the impact frame taken into the fit moved
    # it 0.23 m/s along the line of sight
    err = np.subtract(obj.spec.position, truth.position[last])
    sight = truth.position[last] - np.asarray(default_camera().eye)
    sight /= np.linalg.norm(sight)
    assert abs(float(err @ sight)) < 0.02
    assert np.linalg.norm(err - sight * float(err @ sight)) < 0.005
    assert np.linalg.norm(np.subtract(obj.spec.linear_velocity, truth.linear_velocity[last])) < 0.1


def test_one_frame_after_the_impact_bounds_the_restitution():
    # Seen once after the impact, a rebound's speed trades against the ball's depth: a fit of
    # that frame 3 cm high was read as a bounce of 0.75 rising at 2.1 m/s (truth 1.6)
    ball = dataclasses.replace(_ball(size=(0.11,)), position=(0.3, 0.0, 0.67))
    ro = _dropped(20, ball)
    vz = ro.objects[0].linear_velocity[:, 2]
    last = int(np.argmax(vz > 0))  # the first frame after the impact
    pose = camera_pose_at(default_camera(), 0.0)
    eye = np.asarray(pose.eye)
    fits = exact_fits(ro, range(last + 1), eye)
    high = np.add(fits[last].position, (0.0, 0.0, 0.03))
    fits[last] = dataclasses.replace(fits[last], position=tuple(high))
    got = landing(fits, pose, eye)
    assert got is not None
    assert got.restitution <= ONE_FRAME_MAX_RESTITUTION + 1e-9
    assert abs(got.velocity[2] - vz[last]) < 0.1


def test_a_bounce_one_frame_old_that_fits_a_little_better_than_landing_is_taken():
    # development drop seed 3 000 000: the ball is a frame past its impact, rising at 1.64 m/s;
    # its bounce fits 0.013 px RMS better than staying down, and had been refused for fitting
    # less than 0.1 px better (then carried through the impact at the assumed 0.1: 0.21 m/s)
    spec = sample_scene("drop", 3_000_000)
    ro = simulate(spec, labels=("rgb", "objects"))
    k = 9
    i = next(j for j, o in enumerate(spec.objects) if o.shape == "sphere")
    truth = ro.objects[i].linear_velocity[k]
    assert truth[2] > 1.5  # the scene is as described: rising after its impact
    est = predict_hybrid(ro.rgb[: k + 1], 12, camera=spec.cameras[0]).estimate
    (ball,) = (o for o in est.objects if o.spec.shape == "sphere")
    bounce = spec.objects[i].restitution * spec.world.floor_restitution
    assert ball.restitution == pytest.approx(bounce, abs=0.05)
    assert abs(ball.spec.linear_velocity[2] - truth[2]) < 0.3
