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
