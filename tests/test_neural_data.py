"""Real-footage decoding (bad files skipped and reported), clip sampling, predict CLI."""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import imageio.v3 as iio
import numpy as np
import pytest
from twinsim.neural.clips import ClipSource, SceneMeta, toy_source
from twinsim.neural.data import ClipBank, toy_scenes
from twinsim.neural.footage import Clip, load_footage, resize_frames

from twinsim.cli import main

FOOTAGE = Path(__file__).resolve().parents[1].parent / "shared" / "footage"


def _write_mp4(path: Path, frames: int = 10) -> None:
    rng = np.random.default_rng(0)
    video = rng.integers(0, 255, (frames, 48, 80, 3), dtype=np.uint8)
    imageio.mimwrite(path, list(video), fps=10, macro_block_size=1)


def test_bad_files_are_skipped_and_reported(tmp_path):
    _write_mp4(tmp_path / "good.mp4")
    (tmp_path / "corrupt.mp4").write_bytes(np.random.default_rng(1).bytes(5000))
    (tmp_path / "empty.avi").write_bytes(b"")
    (tmp_path / "notes.xyz").write_text("not a video")
    seq = tmp_path / "sequence"
    seq.mkdir()
    for i in range(4):
        iio.imwrite(seq / f"f{i:03d}.png", np.full((20, 30), 40 * i, np.uint8))
    (tmp_path / "emptyseq").mkdir()
    fs = load_footage(tmp_path, 32)
    assert sorted(c.name for c in fs.clips) == ["good.mp4", "sequence"]
    for c in fs.clips:
        assert c.frames.dtype == np.uint8 and c.frames.shape[1:] == (32, 32, 3)
    assert len(fs.clips[0].frames) == 10 and len(fs.clips[1].frames) == 4
    skipped = {Path(p).name: why for p, why in fs.skipped}
    assert set(skipped) == {"corrupt.mp4", "empty.avi", "notes.xyz", "emptyseq"}
    assert "unsupported" in skipped["notes.xyz"]
    report = fs.report()
    assert "2 clips decoded, 4 skipped" in report and "corrupt.mp4" in report
    with pytest.raises(FileNotFoundError):
        load_footage(tmp_path / "missing", 32)


def test_resize_center_crops_to_square():
    frames = np.zeros((2, 40, 80, 3), np.uint8)
    frames[:, :, 20:60] = 200  # the central square is bright, the sides dark
    out = resize_frames(frames, 20)
    assert out.shape == (2, 20, 20, 3) and out.min() == 200


def test_clip_bank_is_stateless_and_mixes_real():
    syn = toy_source(4, 12, 16, seed=0)
    real = [Clip("r", np.full((20, 16, 16, 3), 7, np.uint8))]
    bank = ClipBank(syn, real, real_fraction=0.5)
    a = bank.batch(seed=1, step=5, batch_size=6, length=5)
    b = bank.batch(seed=1, step=5, batch_size=6, length=5)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (6, 5, 16, 16, 3)
    assert sum(bool(np.all(x == 7)) for x in a) == 3
    assert not np.array_equal(a, bank.batch(seed=1, step=6, batch_size=6, length=5))
    with pytest.raises(ValueError, match="exceeds"):
        bank.batch(0, 0, 2, 50)


def test_toy_scenes_are_seeded():
    np.testing.assert_array_equal(toy_scenes(2, 5, 16, 3), toy_scenes(2, 5, 16, 3))
    assert not np.array_equal(toy_scenes(2, 5, 16, 3), toy_scenes(2, 5, 16, 4))


@pytest.mark.skipif(not FOOTAGE.is_dir(), reason=f"real footage folder {FOOTAGE} is absent")
def test_real_footage_decodes_and_holds_out():
    fs = load_footage(FOOTAGE, 32, max_frames=12)
    assert len(fs.clips) >= 3, fs.report()
    train, held = fs.split()
    assert held.clips and not {c.name for c in held.clips} & {c.name for c in train.clips}


def test_predict_cli_writes_side_by_side_video(tmp_path, capsys):
    from twinsim.neural import preset, save_checkpoint
    from twinsim.neural.model import FlowMemoryNet

    cfg = preset("tiny")
    save_checkpoint(tmp_path / "ck", FlowMemoryNet(cfg.model), cfg)
    _write_mp4(tmp_path / "in.mp4", frames=8)
    out = tmp_path / "out.mp4"
    args = ["predict", "--ckpt", str(tmp_path / "ck"), "--video", str(tmp_path / "in.mp4")]
    assert main([*args, "--context", "3", "--horizon", "4", "--out", str(out)]) == 0
    video = iio.imread(out, plugin="pyav")
    # panels of 32 px x4 side by side, and write_mp4 doubles a 128 px high video to 256
    assert video.shape == (7, 32 * 4 * 2, 32 * 4 * 3 * 2, 3)
    sheet = iio.imread(out.with_suffix(".png"))  # truth row over prediction row, 4 frames each
    assert sheet.shape == ((2 * 32 + 1) * 2, (4 * 32 + 3) * 2, 3)
    assert main([*args[:4], str(tmp_path / "nope.mp4"), "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_clip_bank_samples_occlusion_spanning_windows_with_masks():
    t = 30
    rgb = toy_scenes(3, t, 16, seed=0)
    seg = np.zeros((3, t, 16, 16), np.uint8)
    seg[:, :, 8:, 8:] = 2  # the target (role declared by the occlusion family: id of "target")
    seg[1, 10:16, 8:, 8:] = 1  # scene 1: the occluder covers it in frames 10..15, back at 16
    seg[1, 8:18, :, :4] = 1
    metas = [SceneMeta("occlusion", ("occluder", "target"))] * 3
    scenes = [{"rgb": rgb[i], "segmentation": seg[i]} for i in range(3)]
    source = ClipSource(("rgb", "occluder", "visible"), metas, t, scenes=scenes)
    vis = source.visible()
    assert vis.shape == (3, t) and vis[1, 10:16].max() == 0 and vis[0].min() == 1
    real = [Clip("r", np.full((20, 16, 16, 3), 7, np.uint8))]
    bank = ClipBank(source, real, real_fraction=0.25)
    starts = bank.spanning_starts(length=10, warm=5)
    assert starts and all(i == 1 for i, _ in starts)
    for _, s in starts:  # visible at the start, hidden in the warm-up, back in the unroll
        assert vis[1, s] == 1 and (vis[1, s : s + 5] < 0.05).any() and s + 5 <= 16 < s + 10
    batch = bank.sample(2, 3, 8, 10, warm=5, span_fraction=1.0)
    clips, masks = batch["rgb"], batch["occluder"]
    assert clips.shape == (8, 10, 16, 16, 3) and masks.shape == (8, 10, 16, 16)
    assert masks[:6].any(axis=(1, 2, 3)).all()  # all 6 synthetic clips span the occlusion
    assert not masks[6:].any()  # real clips have no occluder
    again = bank.sample(2, 3, 8, 10, warm=5, span_fraction=1.0)
    np.testing.assert_array_equal(clips, again["rgb"])
    plain = ClipBank(toy_source(3, t, 16, seed=0)).sample(0, 0, 2, 5, span_fraction=1.0)
    assert set(plain) == {"rgb"}
