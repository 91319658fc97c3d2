"""compare(): engine vs neural on one scene: per-step error, findings, JSON, side-by-side video,
error plot; and the `twinsim compare` command."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest
from twinsim.bridge import compare
from twinsim.sim import sample_scene

from twinsim.cli import main


@pytest.fixture(scope="module")
def model():
    import torch
    from twinsim.neural import load_pretrained

    torch.set_num_threads(1)
    return load_pretrained("cpu")


def test_compare_reports_errors_findings_and_files(model, tmp_path):
    spec = sample_scene("drop", 1)
    rep = compare(spec, 5, model=model, out=tmp_path / "cmp")
    k = model.context
    assert rep.context == k and rep.mse.shape == (5,) and rep.psnr.shape == (5,)
    assert rep.engine.frames.shape[0] == k + 5 and rep.neural.frames.shape == (5, 64, 64, 3)
    truth = rep.engine.frames[k:].astype(np.float64) / 255
    mse = ((rep.neural.frames / 255 - truth) ** 2).mean(axis=(1, 2, 3))
    assert np.allclose(rep.mse, mse, atol=1e-6)
    # findings are checked on scene frames k.. of the prediction
    assert all(k <= f.onset <= k + 4 for f in rep.findings)
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert [s["frame"] for s in data["per_step"]] == list(range(k, k + 5))
    assert data["engine"]["backend"] == "engine" and data["neural"]["backend"] == "neural"
    assert len(data["findings"]) == len(rep.findings)
    for name in ("side_by_side.mp4", "side_by_side.webm"):
        video = iio.imread(tmp_path / "cmp" / name, plugin="pyav")
        assert video.shape[0] == 5 and video.shape[2] == 3 * 64 * 4  # engine | neural | diff
    plot = iio.imread(tmp_path / "cmp" / "error.png")
    assert plot.ndim == 3 and plot.std() > 5  # not a blank image
    assert "predicted frames after" in rep.summary()


def test_compare_refuses_raw_frames_and_bad_sizes(model):
    with pytest.raises(ValueError, match="needs a scene"):
        compare(np.zeros((4, 64, 64, 3), np.uint8), 4, model=model)
    with pytest.raises(ValueError, match="horizon"):
        compare(sample_scene("drop", 1), 0, model=model)


def test_compare_command(tmp_path, capsys):
    rc = main(["compare", "occlusion", "--seed", "2", "--horizon", "3", "--threads", "1",
               "--out", str(tmp_path / "c")])  # fmt: skip
    assert rc == 0
    out = capsys.readouterr().out
    assert "PSNR step 1" in out and "side_by_side.mp4" in out
    assert (tmp_path / "c" / "compare.json").is_file()
    assert main(["compare", "no-such-family"]) == 2
    assert "unknown family" in capsys.readouterr().err


def test_compare_from_a_later_start_predicts_the_frames_after_it(model):
    spec = sample_scene("occlusion", 4)
    k, start, h = model.context, 12, 4
    rep = compare(spec, h, start=start, model=model)
    first = start + k
    assert rep.start == start and rep.first_predicted == first
    assert rep.engine.frames.shape[0] == first + h
    # the model saw frames start..first-1 and is scored against first..first+h-1
    assert np.array_equal(rep.neural.context, rep.engine.frames[start:first])
    truth = rep.engine.frames[first:].astype(np.float64) / 255
    mse = ((rep.neural.frames / 255 - truth) ** 2).mean(axis=(1, 2, 3))
    assert np.allclose(rep.mse, mse, atol=1e-6)
    data = rep.to_json()
    assert data["start"] == start and [s["frame"] for s in data["per_step"]] == [
        first + i for i in range(h)
    ]
    assert all(first <= f.onset < first + h for f in rep.findings)
    n = spec.world.num_frames
    with pytest.raises(ValueError, match=f"choose 0..{n - k - h}"):
        compare(spec, h, start=n, model=model)
    with pytest.raises(ValueError, match="leaves no room"):
        compare(spec, h, start=-1, model=model)


def test_the_demo_starts_each_compare_where_the_scene_moves():
    from twinsim.bridge.report_demo import _motion_start
    from twinsim.sim import simulate

    spec = sample_scene("occlusion", 4)  # the wall enters from the side after a still start
    s = _motion_start(spec, 4, 16)
    rgb = simulate(spec, labels=["rgb"]).rgb
    assert s > 0 and (rgb[s] != rgb[s - 1]).any()  # the context starts as the motion does
    assert (rgb[s - 1] == rgb[0]).all()  # nothing moved before it
    assert _motion_start(sample_scene("drop", 1), 4, 16) <= 1  # moves at once
