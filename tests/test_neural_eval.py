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


def _families_ready() -> bool:
    try:
        from twinsim.sim.families import family_names

        return "occlusion" in family_names()
    except ImportError:
        return False


@pytest.fixture()
def tiny_ckpt(tmp_path):
    cfg = preset("tiny")
    return save_checkpoint(tmp_path / "ck", FlowMemoryNet(cfg.model), cfg)


def test_prediction_quality_has_baselines_per_step(tiny_ckpt):
    model = WorldModel.load(tiny_ckpt)
    static = np.repeat(toy_scenes(2, 1, 32, seed=0), 16, axis=1)
    res = prediction_quality(model, static, observed=3, horizon=5)
    assert res["clips"] == 4
    for name in ("model", "copy_last", "linear"):
        assert len(res[name]["psnr"]) == len(res[name]["ssim"]) == 5
    # On a static clip the baselines are perfect; the untrained model starts near copy-last.
    assert res["copy_last"]["psnr"] == [100.0] * 5 and res["linear"]["ssim"][0] == 1.0
    assert min(res["model"]["psnr"]) > 30
    assert "mean PSNR steps 1..5" in format_table({"prediction": res})


def test_real_footage_eval_uses_held_out_clips(tiny_ckpt, tmp_path):
    import imageio.v2 as imageio

    folder = tmp_path / "footage"
    folder.mkdir()
    for i in range(3):
        video = toy_scenes(1, 14, 40, seed=i)[0]
        imageio.mimwrite(folder / f"clip{i}.mp4", list(video), fps=10, macro_block_size=1)
    res = real_footage(WorldModel.load(tiny_ckpt), folder, observed=4, horizon=8)
    assert res["held_out"] == ["clip2.mp4"] and res["clips"] == 1
    assert len(res["model"]) == len(res["copy_last"]) == 8


@pytest.mark.skipif(not _families_ready(), reason="engine families (twinsim.sim.families) missing")
def test_eval_cli_runs_every_metric(tiny_ckpt, tmp_path, capsys):
    out = tmp_path / "eval.json"
    args = ["eval", "--ckpt", str(tiny_ckpt), "--json", str(out), "--test-scenes", "2"]
    assert main([*args, "--permanence-scenes", "3", "--voe-pairs", "1"]) == 0
    res = json.loads(out.read_text())
    assert set(res) >= {"prediction", "permanence", "voe"}
    for name in ("model", "copy_last", "linear"):
        assert 0.0 <= res["voe"][name]["auc"] <= 1.0
        kinds = res["voe"][name]["per_kind"]
        assert kinds and all(0.0 <= v <= 1.0 for v in kinds.values())
        for kind, (lo, hi) in res["voe"][name]["per_kind_ci95"].items():  # <= 4 pairs: wide
            assert lo <= kinds[kind] <= hi and hi - lo > 0.4
            assert res["voe"][name]["per_kind_pairs"][kind] >= 1
    assert "model 95% interval" in capsys.readouterr().out
