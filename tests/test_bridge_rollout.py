"""rollout(): the engine, the neural model, the auto rule and its reasons, the hybrid backend
(when installed), costs, JSON summaries and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from twinsim.bridge import BACKENDS, RolloutResult, hybrid_available, rollout
from twinsim.sim import sample_scene


@pytest.fixture(scope="module")
def model():
    import torch
    from twinsim.neural import load_pretrained

    torch.set_num_threads(1)
    return load_pretrained("cpu")


@pytest.fixture(scope="module")
def scene():
    return sample_scene("occlusion", 1)


def test_engine_rollout_has_frames_labels_and_cost(scene):
    res = rollout(scene, 12, backend="engine")
    assert isinstance(res, RolloutResult)
    assert res.frames.shape == (12, 64, 64, 3) and res.frames.dtype == np.uint8
    assert res.backend == "engine" and res.reason == "asked for" and res.start_frame == 0
    assert res.labels is not None and res.labels.segmentation.shape == (12, 64, 64)
    assert np.array_equal(res.labels.rgb, res.frames)
    assert res.cost.wall_s > 0 and res.cost.frames == 12 and res.cost.fps > 0
    summary = json.loads(json.dumps(res.to_json()))
    assert summary["backend"] == "engine" and summary["frames"] == 12
    assert "segmentation" in summary["labels"]
    assert "engine: 12 frames 64x64" in res.summary()


def test_neural_rollout_of_a_scene_starts_from_the_engine_context(scene, model):
    res = rollout(scene, 5, backend="neural", model=model)
    assert res.frames.shape == (5, 64, 64, 3) and res.frames.dtype == np.uint8
    assert res.backend == "neural" and res.start_frame == model.context
    assert res.context.shape == (model.context, 64, 64, 3)
    engine = rollout(scene, model.context, backend="engine")
    assert np.array_equal(res.context, engine.frames)  # the engine's first K frames
    assert res.labels is not None and res.labels.num_frames == model.context
    assert res.cost.frames == 5


def test_neural_continues_raw_frames_and_auto_says_why(scene, model):
    frames = rollout(scene, 6, backend="engine").frames
    res = rollout(frames, 3, model=model)  # backend="auto"
    assert res.backend == "neural" and "raw frames" in res.reason
    assert res.frames.shape == (3, 64, 64, 3) and res.start_frame == 6 and res.labels is None


@pytest.mark.parametrize(
    ("kwargs", "spec_args", "backend", "reason"),
    [
        ({"labels": ["rgb", "depth"]}, ("occlusion", 1, None), "engine", "labels asked for"),
        ({"exact": True}, ("occlusion", 1, None), "engine", "exact physics"),
        ({}, ("occlusion", 1, "vanish"), "engine", "scripted violation"),
        ({}, ("tower", 1, None), "engine", "not one the model was trained on"),
        ({}, ("occlusion", 1, None), "engine", "the engine is cheaper"),
    ],
)
def test_auto_rule(model, kwargs, spec_args, backend, reason):
    fam, seed, imp = spec_args
    res = rollout(sample_scene(fam, seed, impossible=imp), 6, model=model, **kwargs)
    assert res.backend == backend and res.reason.startswith("auto:")
    assert reason in res.reason


def test_engine_labels_on_request(scene):
    res = rollout(scene, 4, backend="engine", labels="depth")
    assert res.labels.depth is not None and res.labels.rgb is not None  # rgb always rendered


def test_errors_name_the_problem_and_the_choices(scene, model, tmp_path):
    with pytest.raises(ValueError, match=r"engine, neural, hybrid, auto"):
        rollout(scene, 4, backend="physics")
    with pytest.raises(ValueError, match=r"horizon must be an integer >= 1"):
        rollout(scene, 0, backend="engine")
    frames = np.zeros((4, 64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="the engine needs a scene"):
        rollout(frames, 4, backend="engine")
    with pytest.raises(ValueError, match=r"no per-step actions"):
        rollout(scene, 4, backend="engine", actions=np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"uint8 frames"):
        rollout(np.zeros((4, 64, 64), np.float32), 4, model=model)
    with pytest.raises(FileNotFoundError, match="no such scene or video"):
        rollout(tmp_path / "missing.json", 4)
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(ValueError, match=r"cannot decode video|no frames"):
        rollout(bad, 4, model=model)


def test_spec_json_path_and_video_path(scene, model, tmp_path):
    path = tmp_path / "scene.json"
    path.write_text(scene.to_json())
    res = rollout(path, 8, backend="engine")
    assert res.spec.family == "occlusion"
    video = res.save_video(tmp_path / "clip.mp4")
    cont = rollout(video, 2, model=model)
    assert cont.backend == "neural" and cont.context.shape[0] == 8


def test_hybrid_backend(scene):
    if not hybrid_available():
        with pytest.raises(ImportError, match=r"twinsim\.neural\.hybrid"):
            rollout(scene, 4, backend="hybrid")
        pytest.skip("twinsim.neural.hybrid is not installed (helper 'hybrid', issue 16)")
    res = rollout(scene, 4, backend="hybrid")
    assert res.backend == "hybrid" and res.frames.shape == (4, 64, 64, 3)
    assert res.frames.dtype == np.uint8 and res.spec is not None
    assert res.extra["camera_source"] == "given"  # a scene's own camera is passed on
    mean = rollout(scene, 4, backend="hybrid", samples=2, seed=3)
    assert mean.frames.shape == (4, 64, 64, 3) and len(mean.extra["material_spread"]) == 4
    with pytest.raises(ValueError, match="samples=2 is for backend='hybrid'"):
        rollout(scene, 4, backend="engine", samples=2)


def test_hybrid_backend_works_at_its_own_size_on_larger_frames_and_scenes():
    # a 256 px clip (the size twinsim's mp4s decode at) took 27x the time of 64 px
    if not hybrid_available():
        pytest.skip("twinsim.neural.hybrid is not installed")
    import dataclasses

    spec = sample_scene("projectile", 1)
    big = dataclasses.replace(spec.cameras[0], width=128, height=128)
    spec = dataclasses.replace(spec, cameras=(big,))
    frames = rollout(spec, 10, backend="engine").frames
    assert frames.shape[1:3] == (128, 128)
    from_frames = rollout(frames, 2, backend="hybrid")
    from_scene = rollout(spec, 2, backend="hybrid", context=10)
    for res in (from_frames, from_scene):
        assert res.frames.shape == (2, 64, 64, 3) and res.context.shape == (10, 64, 64, 3)
    assert from_scene.extra["camera_source"] == "given"
    assert (from_scene.spec.cameras[0].width, from_scene.spec.cameras[0].height) == (64, 64)


def test_backends_listed():
    assert BACKENDS == ("engine", "neural", "hybrid", "auto")


def test_package_names_are_the_functions_not_submodules():
    import twinsim.bridge as bridge
    import twinsim.bridge.compare_api
    import twinsim.bridge.rollout_api

    assert bridge.rollout is twinsim.bridge.rollout_api.rollout
    assert bridge.compare is twinsim.bridge.compare_api.compare
    with pytest.raises(AttributeError, match="no attribute"):
        _ = bridge.no_such_name
