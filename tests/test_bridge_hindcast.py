"""auto on raw frames: the hybrid or the neural model, by which predicted the clip's own last
frames better (a hindcast), with the figures in the reason; no hindcast where it cannot run."""

from __future__ import annotations

import re

import numpy as np
import pytest
from twinsim.bridge import hindcast, hybrid_available, rollout
from twinsim.sim import sample_scene, simulate

pytestmark = pytest.mark.skipif(not hybrid_available(), reason="the hybrid is not installed")


@pytest.fixture(scope="module")
def model():
    import torch
    from twinsim.neural import load_pretrained

    torch.set_num_threads(1)
    return load_pretrained("cpu")


def test_auto_continues_a_throw_with_the_hybrid_that_predicted_its_last_frames(model):
    frames = simulate(sample_scene("projectile", 1), labels=("rgb",)).rgb[:10]
    res = rollout(frames, 4, model=model)  # backend="auto"
    assert res.backend == "hybrid", res.reason
    assert "predicting the clip's last 3 frames" in res.reason
    said = re.findall(r"([\w-]+) ([\d.]+) dB", res.reason)
    figures = {name.replace("-", "_"): float(db) for name, db in said}
    assert figures == pytest.approx(res.extra["hindcast_psnr"], abs=0.051)  # said and returned
    assert figures["hybrid"] > figures["neural"] + 3  # a throw: the engine's arc, not a copy
    assert res.to_json()["extra"]["hindcast_psnr"] == res.extra["hindcast_psnr"]
    assert res.frames.shape == (4, 64, 64, 3) and res.start_frame == 10


def test_auto_keeps_the_cheaper_neural_model_on_a_still_clip(model):
    still = np.repeat(simulate(sample_scene("drop", 1), labels=("rgb",)).rgb[:1], 10, axis=0)
    hc = hindcast(still, model)
    assert hc.psnr["neural"] == hc.psnr["copy_last"] == 100.0  # nothing moves: exact
    assert hc.choice() == "neural"  # a tie is the neural model's
    res = rollout(still, 2, model=model)
    assert res.backend == "neural" and "neural 100.0 dB" in res.reason
    assert np.array_equal(res.frames, still[:2])


def test_auto_skips_the_hindcast_on_short_clips_and_with_actions(model):
    frames = simulate(sample_scene("projectile", 1), labels=("rgb",)).rgb[:8]
    res = rollout(frames, 2, model=model)
    assert res.backend == "neural" and "too few to check the hybrid on" in res.reason
    from twinsim.bridge import choose_backend

    backend, reason = choose_backend(
        np.zeros((12, 64, 64, 3), np.uint8),
        2,
        want_labels=False,
        exact=False,
        model=model,
        context=12,
        actions=True,
    )
    assert backend == "neural" and "actions given" in reason


def test_hindcast_refuses_clips_it_cannot_check(model):
    with pytest.raises(ValueError, match="at least 9 frames"):
        hindcast(np.zeros((8, 64, 64, 3), np.uint8), model)
    with pytest.raises(ValueError, match="holdout must be >= 1"):
        hindcast(np.zeros((12, 64, 64, 3), np.uint8), model, holdout=0)


def test_cli_predict_auto_says_which_backend_and_why(tmp_path, capsys):
    from twinsim.cli import main

    argv = [
        "predict",
        "--backend",
        "auto",
        "--scene",
        "projectile",
        "--seed",
        "1",
        "--threads",
        "1",
    ]
    assert main([*argv, "--context", "10", "--horizon", "3", "--out", str(tmp_path / "a.mp4")]) == 0
    out = capsys.readouterr().out
    assert "auto: predicting the clip's last 3 frames" in out and ": hybrid" in out
    assert (tmp_path / "a.spec.json").is_file()  # the hybrid wrote its estimated scene
    assert main([*argv, "--context", "4", "--horizon", "3", "--out", str(tmp_path / "b.mp4")]) == 0
    out = capsys.readouterr().out
    assert "too few to check the hybrid on" in out and not (tmp_path / "b.spec.json").exists()
    assert (tmp_path / "b.png").is_file()  # the neural model's contact sheet
