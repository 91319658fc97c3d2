"""The hybrid predictor: estimation recovers a known spec, a spec estimated from a rollout of
itself plays forward close to the original, tracks keep objects through a full occlusion."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from twinsim.neural import metrics as M
from twinsim.neural.estimate import EstimateConfig, default_camera, estimate_scene
from twinsim.neural.hybrid import predict_hybrid
from twinsim.neural.surprise import physics_surprise
from twinsim.neural.track import track_objects
from twinsim.sim import ObjectSpec, SceneSpec, WorldSpec, sample_scene, simulate
from twinsim.sim.spec import LightSpec

FAST = EstimateConfig(window=3, max_evals=80, trajectory_evals=120)


def _scene(objects, duration=0.5) -> SceneSpec:
    return SceneSpec(
        objects=tuple(objects),
        cameras=(default_camera(),),
        light=LightSpec(shadows=False),
        world=WorldSpec(duration=duration),
    )


def _sphere(x, y, r, color, vx=0.0):
    return ObjectSpec(
        name=f"s{x:+.2f}",
        shape="sphere",
        size=(r,),
        color=color,
        position=(x, y, r),
        linear_velocity=(vx, 0.0, 0.0),
        angular_velocity=(0.0, vx / r, 0.0),
    )


def test_estimation_recovers_a_known_spec():
    box = ObjectSpec(
        name="box",
        shape="box",
        size=(0.1, 0.1, 0.1),
        color=(0.15, 0.35, 0.85, 1.0),
        position=(0.3, 0.1, 0.1),
    )
    ball = _sphere(-0.3, 0.0, 0.11, (0.85, 0.15, 0.15, 1.0))
    spec = _scene([box, ball], duration=2 / 24)
    frames = simulate(spec, labels=("rgb",)).rgb
    est = estimate_scene(frames, spec.cameras[0], FAST)
    assert len(est.objects) == 2
    for truth in (box, ball):
        o = min(
            est.objects,
            key=lambda e: np.abs(np.subtract(e.spec.color[:3], truth.color[:3])).sum(),
        )
        assert o.spec.shape == truth.shape
        assert np.abs(np.subtract(o.spec.color[:3], truth.color[:3])).max() < 0.06
        err = np.linalg.norm(np.subtract(o.spec.position, truth.position))
        assert err < 0.02, (truth.name, o.spec.position, truth.position)
        assert abs(np.mean(o.spec.size) - np.mean(truth.size)) / np.mean(truth.size) < 0.12
        assert np.linalg.norm(o.spec.linear_velocity) < 0.05  # at rest
        assert o.frames_hidden == 0
    assert est.camera_given and est.unexplained < 0.1
    assert 0.0 <= est.uncertainty <= 1.0


def test_a_spec_estimated_from_its_rollout_plays_forward_close():
    ball = _sphere(-0.5, 0.0, 0.1, (0.1, 0.6, 0.2, 1.0), vx=1.2)
    spec = _scene([ball], duration=14 / 24)
    ro = simulate(spec, labels=("rgb", "objects"))
    frames = ro.rgb
    ctx, truth = frames[:6], frames[6:14]
    pred = predict_hybrid(ctx, 8, camera=spec.cameras[0], window=4, max_evals=80)
    assert pred.frames.shape == truth.shape and pred.frames.dtype == np.uint8
    hybrid = M.psnr(pred.frames, truth).mean()
    copy = M.psnr(M.copy_last(ctx, 8), truth).mean()
    assert hybrid > copy + 5.0, (hybrid, copy)
    (est,) = pred.spec.objects
    assert est.shape == "sphere"
    v_true = ro.objects[0].linear_velocity[5]
    assert np.linalg.norm(np.subtract(est.linear_velocity, v_true)) < 0.1, (est, v_true)
    assert pred.uncertainty.camera_given
    assert set(pred.uncertainty.objects) == {est.name}


def test_the_track_keeps_an_object_through_a_full_occlusion():
    spec = sample_scene("occlusion", 3)
    ro = simulate(spec, labels=("rgb", "objects", "visibility"))
    target = ro.track("target")
    hidden = np.flatnonzero(target.visible_fraction == 0)
    assert len(hidden) >= 2
    h0 = int(hidden[0])
    tracks, _ = track_objects(ro.rgb[: h0 + 1])
    color = np.asarray(spec.object("target").color[:3]) * 255
    # one track of the target's colour, seen before the wall covered it, hidden now
    kept = [tr for tr in tracks if tr.visible[:h0].any() and not tr.visible[h0]]
    assert kept, "the target's track was lost"
    chroma = color / color.sum()
    assert min(np.abs(tr.chroma - chroma).sum() for tr in kept) < 0.1
    # and the estimated spec still holds it, carried from its last sighting
    est = estimate_scene(ro.rgb[: h0 + 1], spec.cameras[0], dataclasses.replace(FAST, window=1))
    carried = [o for o in est.objects if o.frames_hidden > 0]
    assert carried, "the hidden object was dropped from the spec"
    true_pos = target.position[h0]
    assert min(np.linalg.norm(np.subtract(o.spec.position, true_pos)) for o in carried) < 0.05


def test_material_samples_average_futures_that_the_unseen_materials_decide():
    # a ball rolls into a resting one: how far each goes after they meet turns on their masses
    mover = _sphere(-0.45, 0.0, 0.1, (0.1, 0.6, 0.2, 1.0), vx=1.5)
    resting = _sphere(0.05, 0.0, 0.1, (0.85, 0.15, 0.15, 1.0))
    spec = _scene([mover, resting], duration=6 / 24)
    ctx = simulate(spec, labels=("rgb",)).rgb[:6]
    opts = dict(camera=spec.cameras[0], window=4, max_evals=80)
    one = predict_hybrid(ctx, 10, **opts)
    assert one.samples is None and one.spread is None
    pred = predict_hybrid(ctx, 10, samples=3, seed=0, **opts)
    assert pred.samples.shape == (3, 10, 64, 64, 3) and pred.samples.dtype == np.uint8
    mean = np.clip(np.round(pred.samples.astype(np.float32).mean(0)), 0, 255)
    np.testing.assert_array_equal(pred.frames, mean.astype(np.uint8))
    assert not np.array_equal(pred.samples[0], pred.samples[1])  # the materials mattered
    assert pred.spread.shape == (10,) and pred.spread[-1] > pred.spread[0]
    again = predict_hybrid(ctx, 10, samples=3, seed=0, **opts)
    np.testing.assert_array_equal(again.samples, pred.samples)
    other = predict_hybrid(ctx, 10, samples=3, seed=1, **opts)
    assert not np.array_equal(other.samples, pred.samples)
    from twinsim.neural.hybrid import play_forward
    from twinsim.sim.budget import MEMORY_ENV, MemoryBudgetError

    with pytest.MonkeyPatch.context() as mp:  # an oversized request fails before any rollout
        mp.setenv(MEMORY_ENV, "1")
        with pytest.raises(MemoryBudgetError, match="64 material samples of 10000 frames"):
            play_forward(pred.estimate, ctx, 10_000, samples=64)


def test_sample_materials_draws_movable_bodies_within_the_prior():
    from twinsim.neural.materials import MaterialPrior, sample_materials
    from twinsim.sim.errors import SpecError

    wall = ObjectSpec(name="wall", shape="box", size=(0.5, 0.05, 0.3), mass=0.0)
    ball = dataclasses.replace(_sphere(0.0, 0.0, 0.1, (0.8, 0.1, 0.1, 1.0)), restitution=0.42)
    box = ObjectSpec(name="box", shape="box", size=(0.1, 0.1, 0.1), position=(0.3, 0.0, 0.1))
    spec = _scene([wall, ball, box])
    prior = MaterialPrior(mass=(0.5, 1.5), friction=(0.3, 0.4), restitution=(0.1, 0.2))
    rng = np.random.default_rng(0)
    for _ in range(20):
        out = sample_materials(spec, prior, rng, keep=frozenset({ball.name}))
        assert out.object("wall") == wall
        assert out.object(ball.name).restitution == 0.42  # measured: kept
        for o in (out.object(ball.name), out.object("box")):
            assert 0.5 <= o.mass <= 1.5 and 0.3 <= o.friction <= 0.4
        assert 0.1 <= out.object("box").restitution <= 0.2
    with pytest.raises(SpecError, match=r"prior\.mass"):
        MaterialPrior(mass=(0.0, 1.0))
    with pytest.raises(SpecError, match=r"prior\.restitution"):
        MaterialPrior(restitution=(0.5, 0.2))


def test_predict_hybrid_rejects_bad_input():
    frames = np.zeros((3, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="uint8"):
        predict_hybrid(frames.astype(np.float32), 2)
    with pytest.raises(ValueError, match="horizon"):
        predict_hybrid(frames, 0)
    with pytest.raises(ValueError, match="composite"):
        predict_hybrid(frames, 2, composite="blend")
    with pytest.raises(ValueError, match=r"samples must be an integer in 1\.\.64"):
        predict_hybrid(frames, 2, samples=0)
    with pytest.raises(ValueError, match=r"floor_restitution must lie in \[0, 1\], got 1.5"):
        EstimateConfig(floor_restitution=1.5)


@pytest.mark.slow
def test_physics_surprise_prefers_the_impossible_twin():
    imp = sample_scene("collide", 2_000_001, impossible="teleport")
    scores = [
        physics_surprise(simulate(s).rgb[:30], context=6, camera=imp.cameras[0], window=3)
        for s in (imp.possible_twin(), imp)
    ]
    assert scores[1].score > scores[0].score
    assert scores[1].peak_frame >= imp.violation.frame
    assert scores[1].per_object.shape == (24, len(scores[1].names))


def test_cli_hybrid_predicts_a_family_scene_with_material_samples(tmp_path, capsys):
    import json

    from twinsim.cli import main

    out = tmp_path / "pred.mp4"
    argv = ["predict", "--backend", "hybrid", "--scene", "collide", "--seed", "5"]
    argv += ["--context", "8", "--horizon", "3", "--samples", "2", "--out", str(out)]
    assert main([*argv, "--threads", "1"]) == 0
    assert out.is_file() and out.with_suffix(".png").is_file()  # video and contact sheet
    unc = json.loads(out.with_suffix(".uncertainty.json").read_text())
    assert unc["camera_given"] and len(unc["material_spread"]) == 3
    capsys.readouterr()
    neural = ["predict", "--scene", "collide", "--samples", "2", "--out", str(tmp_path / "n.mp4")]
    assert main(neural) == 2
    assert "--samples is for --backend hybrid" in capsys.readouterr().err
