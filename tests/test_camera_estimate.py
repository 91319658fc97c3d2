"""The camera estimator: what it reads from a clip, how the hybrid uses it, and its training."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from twinsim.neural.camera_estimate import (
    CameraNetConfig,
    CameraReading,
    camera_reading,
    load_camera_estimator,
    train_camera_net,
)
from twinsim.neural.estimate import EstimateConfig, default_camera, estimate_scene
from twinsim.sim import ObjectSpec, SceneSpec, WorldSpec, sample_scene, simulate

HELD_OUT = 2_000_000  # the benchmarks' seeds; the estimator trains from 5_000_000 on


@pytest.fixture(scope="module")
def estimator():
    return load_camera_estimator()


def test_a_reading_round_trips_through_its_camera():
    r = CameraReading(height=1.23, pitch=27.5, fov=48.0)
    back = camera_reading(r.camera(64, 64))
    assert back.height == pytest.approx(r.height)
    assert back.pitch == pytest.approx(r.pitch)
    assert back.fov == pytest.approx(r.fov)


def test_any_reading_makes_a_valid_camera():
    # a network fed frames unlike its training ones may read nonsense; a camera must result
    for r in (CameraReading(-3.0, 95.0, 400.0), CameraReading(1e9, -120.0, -5.0)):
        cam = r.camera(48, 32)
        back = camera_reading(cam)
        assert 0.05 <= back.height <= 100 and -85 <= back.pitch <= 85 and 1 <= back.fov <= 170
        assert (cam.width, cam.height) == (48, 32)


def test_a_single_frame_is_enough(estimator):
    frame = simulate(sample_scene("collide", HELD_OUT + 7), labels=("rgb",)).rgb[:1]
    r = estimator(frame)
    assert all(math.isfinite(v) for v in (r.height, r.pitch, r.fov))


def test_held_out_family_cameras_are_read_closer_than_the_default_guess(estimator):
    assumed = camera_reading(default_camera())
    err = {"estimated": [], "assumed": []}
    for i, fam in enumerate(("drop", "collide", "ramp", "projectile", "push", "occlusion") * 2):
        spec = sample_scene(fam, HELD_OUT + 60 + i)
        rgb = simulate(spec, labels=("rgb",)).rgb[:14]
        true = camera_reading(spec.cameras[0])
        for src, r in (("estimated", estimator(rgb)), ("assumed", assumed)):
            err[src].append([abs(r.height - true.height), abs(r.pitch - true.pitch)])
    est, dflt = np.median(err["estimated"], 0), np.median(err["assumed"], 0)
    assert est[0] < 0.15 and est[1] < 3.0, est  # metres, degrees
    assert (est < dflt).all(), (est, dflt)


def test_frames_wider_or_taller_than_square_keep_their_vertical_fov(estimator):
    # The network sees the centre square. A wide frame's centre square is the square render
    # with the same vertical fov; a tall frame's is a narrower view, widened back afterwards.
    spec = sample_scene("collide", HELD_OUT + 3)
    cam = spec.cameras[0]

    def clip(width, height, fov):
        c = dataclasses.replace(cam, width=width, height=height, fov=fov)
        return simulate(dataclasses.replace(spec, cameras=(c,)), labels=("rgb",)).rgb[:10]

    square = estimator(clip(64, 64, cam.fov))
    wide = estimator(clip(96, 64, cam.fov))
    assert wide.fov == pytest.approx(square.fov, abs=0.5)
    assert wide.pitch == pytest.approx(square.pitch, abs=0.5)
    tall_fov = math.degrees(2 * math.atan(math.tan(math.radians(cam.fov) / 2) * 80 / 64))
    tall = estimator(clip(64, 80, tall_fov))
    back = math.degrees(2 * math.atan(math.tan(math.radians(square.fov) / 2) * 80 / 64))
    assert tall.fov == pytest.approx(back, abs=0.5)


def test_the_hybrid_reads_the_camera_when_none_is_given(estimator):
    ball = ObjectSpec(
        name="ball",
        shape="sphere",
        size=(0.1,),
        color=(0.85, 0.15, 0.15, 1.0),
        position=(-0.3, 0.0, 0.1),
        linear_velocity=(1.0, 0.0, 0.0),
    )
    spec = SceneSpec(objects=(ball,), cameras=(default_camera(),), world=WorldSpec(duration=0.25))
    frames = simulate(spec, labels=("rgb",)).rgb
    fast = EstimateConfig(window=3, max_evals=60, trajectory_evals=80)
    est = estimate_scene(frames, None, fast)
    assert est.camera_source == "estimated" and not est.camera_given
    assert est.spec.cameras[0] == dataclasses.replace(estimator(frames).camera(64, 64), path=())
    off = estimate_scene(frames, None, dataclasses.replace(fast, estimate_camera=False))
    assert off.camera_source == "assumed"
    assert off.spec.cameras[0].eye == default_camera().eye
    assert estimate_scene(frames, spec.cameras[0], fast).camera_source == "given"


def test_bad_frames_and_a_missing_model_are_refused(estimator, tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        estimator(np.zeros((3, 64, 64, 3), np.float32))
    with pytest.raises(FileNotFoundError, match=r"python -m twinsim\.neural\.camera_estimate"):
        load_camera_estimator(tmp_path)
    with pytest.raises(ValueError, match="steps"):
        CameraNetConfig(steps=0)


def test_the_training_data_do_not_depend_on_the_rendering_processes():
    from twinsim.neural.camera_estimate import _dataset

    cfg = CameraNetConfig(windows=3)
    x1, y1 = _dataset(5, 4, cfg, False, "", workers=1)
    x2, y2 = _dataset(5, 4, cfg, False, "", workers=2)
    assert x1.shape == (12, 9, 64, 64) and x1.dtype == np.uint8
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert len({tuple(v) for v in y1}) == 4  # one camera per scene


def test_training_writes_an_estimator_that_loads(tmp_path):
    cfg = CameraNetConfig(scenes=7, val_scenes=7, windows=2, steps=3)
    info = train_camera_net(tmp_path, cfg, progress=False)
    assert info["windows"] == 14
    assert set(info["held_out_median_error"]) == {"height", "pitch", "fov"}
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "config.json").is_file()
    assert not list(tmp_path.glob("*.tmp"))
    frames = simulate(sample_scene("drop", 1), labels=("rgb",)).rgb[:8]
    r = load_camera_estimator(tmp_path)(frames)
    assert all(math.isfinite(v) for v in (r.height, r.pitch, r.fov))


def test_predicting_a_video_with_the_hybrid_reads_its_camera(tmp_path, capsys):
    import json

    import imageio.v2 as imageio

    from twinsim.cli import main

    # lossless (PNG frames in .mov): at 64 px an mp4's chroma fringes become extra tracks
    video = tmp_path / "clip.mov"
    rgb = simulate(sample_scene("collide", HELD_OUT + 5), labels=("rgb",)).rgb[:12]
    imageio.mimwrite(video, list(rgb), fps=24, macro_block_size=1, codec="png", pixelformat="rgb24")
    out = tmp_path / "pred.mp4"
    argv = ["predict", "--backend", "hybrid", "--video", str(video), "--context", "8"]
    assert main([*argv, "--horizon", "4", "--out", str(out), "--threads", "1"]) == 0
    assert "camera estimated: eye" in capsys.readouterr().out
    unc = json.loads(out.with_suffix(".uncertainty.json").read_text())
    assert unc["camera_source"] == "estimated" and not unc["camera_given"]
    spec = json.loads(out.with_suffix(".spec.json").read_text())
    assert spec["cameras"][0]["eye"][0] == 0.0  # the estimate's pose: x = 0, looking along +y
