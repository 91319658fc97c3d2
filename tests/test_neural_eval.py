"""The evaluation suite end to end at a tiny size (engine scenes; skipped without families)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from twinsim.neural import WorldModel, preset, save_checkpoint
from twinsim.neural.data import toy_scenes
from twinsim.neural.evaluate import format_table, prediction_quality, real_footage
from twinsim.neural.model import FlowMemoryNet

from twinsim.cli import main


@pytest.fixture()
def tiny_ckpt(tmp_path):
    cfg = preset("tiny")
    return save_checkpoint(tmp_path / "ck", FlowMemoryNet(cfg.model), cfg)


def test_prediction_quality_splits_moving_and_still_windows(tiny_ckpt):
    model = WorldModel.load(tiny_ckpt)
    static = np.repeat(toy_scenes(2, 1, 32, seed=0), 16, axis=1)
    moving = toy_scenes(2, 16, 32, seed=1)
    res = prediction_quality(model, [*static, *moving], observed=3, horizon=5, progress=False)
    assert res["windows"] == {"still": 4, "faint": 0, "moving": 4}
    for subset in ("still", "moving"):
        for name in ("model", "copy_last", "linear"):
            part = res[subset][name]
            assert len(part["psnr"]) == len(part["ssim"]) == len(part["psnr_pooled"]) == 5
    # On still windows the baselines are exact; the untrained model falls back to copy-last.
    still = res["still"]
    assert still["copy_last"]["psnr"] == [100.0] * 5 and still["linear"]["ssim"][0] == 1.0
    assert min(still["model"]["psnr"]) == 100.0
    assert max(res["moving"]["copy_last"]["psnr"]) < 100.0
    text = format_table({"prediction": res})
    assert "4 moving windows" in text and "4 still windows" in text and "pooled MSE" in text


def test_a_window_where_a_few_pixels_flicker_is_faint_not_moving(tiny_ckpt):
    model = WorldModel.load(tiny_ckpt)
    still = np.repeat(toy_scenes(1, 1, 32, seed=0), 16, axis=1)[0]
    flicker = still.copy()
    flicker[12:, 5, 7] = 255 - flicker[12:, 5, 7]  # one pixel flips in the second window only
    nudged = still.copy()
    nudged[12:, 5:8, 7:9] = 255 - nudged[12:, 5:8, 7:9]  # six pixels: a visible change
    res = prediction_quality(model, [flicker, nudged], observed=3, horizon=5, progress=False)
    # windows: frames 0-7 (unchanged) and 8-15 (seen 8-10; a change from frame 12 on)
    assert res["windows"] == {"moving": 1, "faint": 1, "still": 2}
    assert res["faint"]["copy_last"]["psnr"][0] == 100.0  # frame 11 equals the last seen, 10
    assert max(res["faint"]["copy_last"]["psnr"][1:]) < 100.0
    assert "1 faint windows" in format_table({"prediction": res})


def test_moving_windows_are_also_reported_per_family(tiny_ckpt):
    model = WorldModel.load(tiny_ckpt)
    static = np.repeat(toy_scenes(1, 1, 32, seed=0), 16, axis=1)
    moving = toy_scenes(3, 16, 32, seed=1)
    scenes, fams = [*static, *moving], ["still", "a", "b", "a"]
    res = prediction_quality(model, scenes, 3, 5, progress=False, families=fams)
    by = res["moving_by_family"]
    assert set(by) == {"a", "b"} and by["a"]["windows"] == 4 and by["b"]["windows"] == 2
    alone = prediction_quality(model, [scenes[2]], 3, 5, progress=False)  # family b by itself
    for p in ("model", "copy_last", "linear"):
        assert by["b"][p] == pytest.approx(np.mean(alone["moving"][p]["psnr"]))
    # the windows of every family together are the moving windows
    mean_all = sum(r["copy_last"] * r["windows"] for r in by.values()) / 6
    assert mean_all == pytest.approx(np.mean(res["moving"]["copy_last"]["psnr"]))
    text = format_table({"prediction": res})
    gain = by["b"]["model"] - by["b"]["copy_last"]
    assert f"b {gain:+.2f} (2)" in text
    assert "moving_by_family" not in prediction_quality(model, scenes, 3, 5, progress=False)


def test_real_footage_eval_uses_held_out_clips(tiny_ckpt, tmp_path):
    import imageio.v2 as imageio

    folder = tmp_path / "footage"
    folder.mkdir()
    for i in range(3):
        video = toy_scenes(1, 14, 40, seed=i)[0]
        imageio.mimwrite(folder / f"clip{i}.mp4", list(video), fps=10, macro_block_size=1)
    res = real_footage(WorldModel.load(tiny_ckpt), folder, observed=4, horizon=8)
    assert res["held_out"] == ["clip2.mp4"] and res["clips"] == 1
    assert len(res["model"]) == len(res["copy_last"]) == len(res["linear_pooled"]) == 8


def test_eval_cli_runs_every_metric_within_its_budget(tiny_ckpt, tmp_path, capsys):
    out = tmp_path / "eval.json"
    args = ["eval", "--ckpt", str(tiny_ckpt), "--json", str(out), "--test-scenes", "2"]
    args += ["--permanence-scenes", "2", "--voe-items", "1", "--camera-shift", "0.3"]
    assert main([*args, "--minutes", "10"]) == 0
    res = json.loads(out.read_text())
    assert set(res) >= {"prediction", "prediction_camera_shift", "permanence", "voe"}
    vo = res["voe"]
    for kind in vo["kinds"]:
        assert vo["copy_last"][kind] == vo["linear"][kind] == 0.5  # balanced by construction
        lo, hi = vo["ci95"][kind]
        assert lo <= vo["model"][kind] <= hi and hi - lo > 0.5  # 1 item: wide
    text = capsys.readouterr().out
    assert "95% interval" in text and "shifted" in text and "gated" in text
