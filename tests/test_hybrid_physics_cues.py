"""Physical cues the hybrid's estimator uses where pixels alone are ambiguous: gravity fixes the
scale of a body in flight, a still body under a moving one stays still, the sky is not a body,
a wall sliding into view is thin and moves with its free edge."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from twinsim.neural.cues import on_arc
from twinsim.neural.estimate import EstimateConfig, default_camera, estimate_scene
from twinsim.neural.kinematics import G, fit_arc
from twinsim.neural.refine import FrameFit, project
from twinsim.neural.track import track_objects
from twinsim.sim import ObjectSpec, SceneSpec, WorldSpec, sample_scene, simulate
from twinsim.sim.render.camera import camera_pose_at
from twinsim.sim.spec import CameraSpec, LightSpec


def _arc(p0, v0, times):
    t = np.asarray(times)[:, None]
    return np.asarray(p0) + t * np.asarray(v0) - 0.5 * G * t**2 * np.array([0.0, 0.0, 1.0])


def test_an_arc_fixed_by_gravity_is_recovered_from_its_pixels_alone():
    pose = camera_pose_at(default_camera(), 0.0)
    times = np.arange(9) / 24.0
    P = _arc((-0.4, 0.1, 0.3), (1.2, 0.0, 2.0), times)
    uv = np.stack([project(pose, p)[0] for p in P])
    # start at the wrong depth: twice as far along the last ray, at the wrong speed
    start = pose.eye + 2.0 * (P[-1] - np.asarray(pose.eye))
    p, v, rms = fit_arc(pose, times, uv, start, np.zeros(3))
    assert rms < 1e-3
    np.testing.assert_allclose(p, P[-1], atol=1e-3)
    np.testing.assert_allclose(v, (1.2, 0.0, 2.0 - G * times[-1]), atol=1e-2)


def test_a_fall_from_rest_is_fitted_as_one_and_a_throw_is_not(monkeypatch):
    """A body released from rest has two unknowns fewer than a free arc, so the whole fall,
    not only its bend, sets its scale: with a fifth of a pixel of noise its depth comes out
    closer than the free arc's. A thrown body keeps its sideways velocity."""
    from twinsim.neural import kinematics

    pose = camera_pose_at(default_camera(), 0.0)
    times = np.arange(10) / 24.0
    P = _arc((0.1, 0.2, 0.9), (0.0, 0.0, 0.0), times)
    clean = np.stack([project(pose, p)[0] for p in P])
    rng = np.random.default_rng(0)
    noisy = [clean + rng.normal(0.0, 0.2, clean.shape) for _ in range(6)]

    def errors():
        out = []
        for uv in noisy:
            p, v, _ = fit_arc(pose, times, uv, P[-1] + 0.1, np.zeros(3))
            out.append(np.linalg.norm(p - P[-1]))
        return np.array(out), v

    rest, v = errors()
    np.testing.assert_allclose(v[:2], 0.0)  # at rest before the release: no sideways speed
    assert abs(v[2] + G * times[-1]) < 0.3
    with monkeypatch.context() as m:
        m.setattr(kinematics, "_fall_from_rest", lambda *a: None)
        free, _ = errors()
    assert rest.mean() < 0.7 * free.mean(), (rest, free)

    thrown = _arc((-0.4, 0.1, 0.5), (1.2, 0.0, 0.0), times)
    uv = np.stack([project(pose, p)[0] for p in thrown])
    _, v, _ = fit_arc(pose, times, uv, thrown[-1], np.zeros(3))
    np.testing.assert_allclose(v, (1.2, 0.0, -G * times[-1]), atol=1e-2)


def test_an_arc_fit_outvotes_a_frame_off_by_pixels():
    pose = camera_pose_at(default_camera(), 0.0)
    times = np.arange(9) / 24.0
    P = _arc((0.3, 0.0, 0.4), (-1.0, 0.0, 1.5), times)
    uv = np.stack([project(pose, p)[0] for p in P])
    uv[0] += (0.0, 2.5)  # one frame fitted 2.5 px low
    p, _, _ = fit_arc(pose, times, uv, P[-1] + 0.2, np.zeros(3))
    assert np.linalg.norm(p - P[-1]) < 0.01


def test_an_arc_read_off_whole_blobs_outdoes_fits_that_wobble():
    """A tumbling box's fits stall up to a pixel off, differently in each frame, and the arc's
    bend (its scale) is made of fractions of a pixel. Given where the centre projects as read
    off whole blobs, on_arc follows that and recovers the depth the wobbling fits miss."""
    pose = camera_pose_at(default_camera(), 0.0)
    eye = np.asarray(pose.eye)
    times = np.arange(10) / 24.0
    P = _arc((0.1, 0.2, 1.0), (0.3, 0.0, 0.0), times)
    up = pose.world_to_camera[1, :3]  # the image's v axis in world coordinates
    wobble = np.array([0.0, 0.5, -0.6, 0.7, 0.6, 0.0, -0.5, 0.5, -0.4, 0.0])  # px
    fits, ts = {}, list(range(10))
    for t in ts:
        depth = project(pose, P[t])[1]
        q = P[t] + up * wobble[t] * depth / float(pose.K[1, 1])
        q = eye + 1.1 * (q - eye)  # a size fitted 10 % too large: 10 % too far
        fits[t] = FrameFit("sphere", (0.088,), (1, 0, 0, 1), q, np.array([0, 0, 0, 1.0]), 3.0, 1)
    true_depth = float(np.linalg.norm(P[-1] - eye))

    def depth_error(arc):
        return abs(float(np.linalg.norm(arc[ts[-1]].position - eye)) / true_depth - 1.0)

    centres = {t: tuple(project(pose, P[t])[0]) for t in ts}
    arc, flying = on_arc(fits, ts, times, pose, eye, centres)
    assert flying and depth_error(arc) < 0.002
    assert arc[ts[-1]].size[0] == pytest.approx(0.08, rel=0.01)  # the size follows the depth
    wobbly, flying = on_arc(fits, ts, times, pose, eye)
    assert not flying or depth_error(wobbly) > 0.02  # what the fits alone give (3.7 %)
    del centres[ts[3]]  # one frame without a whole blob: the fits' track
    assert depth_error(on_arc(fits, ts, times, pose, eye, centres)[0]) > 0.02


def test_the_centre_read_off_a_whole_blob_ignores_how_far_off_the_fit_stalled():
    """centres_seen adds to the blob's centroid the offset from the fit's drawn silhouette to
    its centre, which moves with the fit: a fit stalled off the body gives the body's centre."""
    from types import SimpleNamespace

    from twinsim.neural.canvas import Canvas
    from twinsim.neural.proposals import Blob
    from twinsim.neural.track_motion import centres_seen

    cam = default_camera()
    canvas = Canvas(cam, LightSpec(shadows=False), WorldSpec())
    # a tilted box: its silhouette's centroid is not its centre's projection
    turn = np.array([0.3, 0.2, 0.1, 0.92]) / np.linalg.norm([0.3, 0.2, 0.1, 0.92])
    box = FrameFit("box", (0.08, 0.06, 0.05), (1, 0, 0, 1), np.array([0.1, 0.1, 0.5]), turn, 0, 1)
    _, seg = canvas.render([box.spec()], segmentation=True)
    vs, us = np.nonzero(seg == 1)
    blob = Blob(
        seg == 1,
        np.zeros(3),
        np.zeros(3),
        (us.mean() + 0.5, vs.mean() + 0.5),
        (0,) * 4,
        len(us),
        False,
        isolated=True,
    )
    stalled = dataclasses.replace(box, position=box.position + np.array([0.025, 0.0, -0.02]))
    est = SimpleNamespace(canvas=canvas)
    tr = SimpleNamespace(blobs=[blob])
    ((u, v),) = centres_seen(est, tr, {0: stalled}, [0]).values()
    truth = project(canvas.pose, box.position)[0]
    err = np.hypot(u - truth[0], v - truth[1])  # the silhouette is whole pixels
    stall = np.hypot(*(project(canvas.pose, stalled.position)[0] - truth))
    assert err < 0.25 and stall > 3 * err
    tr.blobs[0] = dataclasses.replace(blob, isolated=False)  # cut by something: not read
    assert centres_seen(est, tr, {0: stalled}, [0]) is None
    canvas.close()


def _scene(objects, camera, frames) -> SceneSpec:
    return SceneSpec(
        objects=tuple(objects),
        cameras=(camera,),
        light=LightSpec(shadows=False),
        world=WorldSpec(duration=frames / 24),
    )


def test_a_thrown_ball_gets_its_size_from_gravity():
    # Without a floor contact a single frame cannot tell a small near ball from a large far
    # one; the arc can. The ball is 0.09 m, outside the 0.05-0.17 clamp's middle.
    ball = ObjectSpec(
        name="ball",
        shape="sphere",
        size=(0.09,),
        color=(0.9, 0.45, 0.05, 1.0),
        mass=0.5,
        position=(-0.45, 0.05, 0.35),
        linear_velocity=(1.3, 0.0, 2.2),
    )
    spec = _scene([ball], default_camera(), 10)
    ro = simulate(spec, labels=("rgb", "objects"))
    est = estimate_scene(ro.rgb, spec.cameras[0], EstimateConfig(window=3, flight_window=9))
    (obj,) = est.objects
    assert abs(obj.spec.size[0] - 0.09) < 0.015
    assert np.linalg.norm(np.subtract(obj.spec.position, ro.objects[0].position[-1])) < 0.06


def test_a_thin_strip_of_sky_is_not_an_object():
    # a camera looking down as the drop family's do: the floor reaches 3 rows below the top edge
    cam = CameraSpec(
        eye=(0.72, -1.495, 1.218), target=(0.156, 0.142, 0.36), fov=50.0, width=64, height=64
    )
    box = ObjectSpec(
        name="box",
        shape="box",
        size=(0.08, 0.08, 0.08),
        color=(0.2, 0.4, 0.9, 1.0),
        position=(0.0, 0.0, 0.08),
    )
    frames = simulate(_scene([box], cam, 3), labels=("rgb",)).rgb
    sky = np.abs(frames[0, :, 32].astype(int) - frames[0, 40, 32].astype(int)).sum(-1) > 30
    assert 0 < sky[:8].sum() < 4  # a strip narrower than the top eighth
    tracks, _ = track_objects(frames)
    assert len(tracks) == 1


def test_a_still_body_passed_by_a_moving_one_stays_still():
    # A ball rolling in front of a block hides more of it every frame; the block's blob changes
    # but the block has not moved, so it must not be given a speed.
    block = ObjectSpec(
        name="block",
        shape="box",
        size=(0.3, 0.05, 0.15),
        color=(0.1, 0.7, 0.7, 1.0),
        mass=0.0,
        position=(0.0, 0.3, 0.15),
    )
    ball = ObjectSpec(
        name="ball",
        shape="sphere",
        size=(0.12,),
        color=(0.9, 0.2, 0.2, 1.0),
        mass=1.0,
        position=(-0.4, 0.0, 0.12),
        linear_velocity=(1.2, 0.0, 0.0),
        angular_velocity=(0.0, 1.2 / 0.12, 0.0),
    )
    spec = _scene([block, ball], default_camera(), 8)
    frames = simulate(spec, labels=("rgb",)).rgb
    est = estimate_scene(frames, spec.cameras[0], EstimateConfig(window=4, max_evals=80))
    assert len(est.objects) == 2
    block_est, ball_est = sorted(est.objects, key=lambda o: -o.spec.color[1])  # cyan has more G
    assert np.linalg.norm(block_est.spec.linear_velocity) == 0.0
    assert np.linalg.norm(np.subtract(block_est.spec.position, block.position)[[0, 2]]) < 0.05
    assert ball_est.role == "dynamic"
    assert ball_est.spec.linear_velocity[0] > 0.8


def test_a_supported_motion_is_extrapolated_and_a_fall_is_not():
    from twinsim.neural.cues import extrapolated_path, supported_motion

    eye = np.array([0.0, -1.8, 0.92])
    times = np.arange(8) / 24.0
    t = (times - times[-1])[:, None]
    # rolling down a ramp across the view: speeding up along x, sinking slowly
    p, v, a = np.array([0.1, 0.0, 0.25]), np.array([0.8, 0.0, -0.25]), np.array([2.0, 0.0, -0.6])
    got = supported_motion(times, p + v * t + 0.5 * a * t**2, eye)
    assert got is not None
    ray = (p - eye) / np.linalg.norm(p - eye)
    for want, est in zip((p, v, a), got, strict=True):
        across = want - ray * float(ray @ want) if want is not p else want
        np.testing.assert_allclose(est, across, atol=1e-6)
    path = extrapolated_path(*got, low=0.1, orientation=(0.0, 0.0, 0.0, 1.0), start=0)
    assert path[0].time == 0.0 and np.allclose(path[0].position, p)
    assert min(k.position[2] for k in path) >= 0.1  # never below the floor contact height
    fall = np.array([0.0, 0.0, -9.81])
    assert supported_motion(times, p + v * t + 0.5 * fall * t**2, eye) is None
    # a fall whose fits drift towards the camera as it drops (drop seed 3 000 007's box: its
    # parabola reads -2.1, -7.3, -4.2 m/s^2), so that less than 0.7 g of it is downward once
    # the line of sight is taken out: still nothing carries a body at the rate of a fall
    drifting, q = np.array([-2.1, -7.3, -4.2]), np.array([0.03, -0.13, 0.19])
    assert supported_motion(times, q + v * t + 0.5 * drifting * t**2, eye) is None


def test_a_wall_sliding_into_view_is_thin_and_moves_with_its_free_edge():
    # Only a top face shows how deep a box is: the near-cube prior made this wall a deep block
    # (half depth 0.16-0.24 m on the bench's scenes). Its speed comes from its free edge, whose
    # bbox end is its deepest point (slower in pixels when the camera looks down): it came out
    # 8 % slow.
    spec = sample_scene("occlusion", 12)
    ro = simulate(spec, labels=("rgb", "objects"))
    k = 20  # the wall is still coming in, cut by the side of the view
    est = estimate_scene(ro.rgb[: k + 1], spec.cameras[0])
    walls = [o for o in est.objects if o.role == "kinematic"]
    assert len(walls) == 1 and walls[0].truncated
    wall = walls[0].spec
    assert wall.shape == "box" and min(wall.size) < 0.06
    true = ro.track("occluder")
    v_true = true.linear_velocity[k]
    start, end = wall.path[0], wall.path[-1]
    v = (np.subtract(end.position, start.position)) / (end.time - start.time)
    assert abs(v[0] - v_true[0]) < 0.06 * abs(v_true[0])
    # the leading edge is where it is; what lies behind it, out of view, is a guess
    lead = np.sign(v_true[0]) * np.array([1.0, 0.0, 0.0])
    half = spec.object("occluder").size[0]
    lead_true = true.position[k] @ lead + half
    lead_est = np.asarray(wall.position) @ lead + wall.size[0]
    assert abs(lead_est - lead_true) < 0.03
    assert abs(wall.position[1] - true.position[k][1]) < 0.05
