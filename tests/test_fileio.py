"""twinsim.sim.fileio: atomic writes keep old files whole and give outputs normal permissions."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from twinsim.sim import fileio


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_every_writer_round_trips_with_umask_permissions(tmp_path, umask_022):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    fileio.write_bytes(tmp_path / "b.bin", b"\x00\x01")
    fileio.write_text(tmp_path / "t.txt", "héllo")
    fileio.write_json(tmp_path / "j.json", {"b": 1, "a": [2]}, sort_keys=True)
    fileio.write_npy(tmp_path / "x.npy", a)
    fileio.write_npz(tmp_path / "z.npz", {"a": a}, compress=True)
    frames = np.zeros((3, 9, 11, 3), np.uint8)  # odd sizes are padded for yuv420p
    fileio.write_mp4(tmp_path / "v.mp4", frames, fps=8)
    fileio.copy_file(tmp_path / "t.txt", tmp_path / "sub" / "copy.txt")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "sub" / "copy.txt").read_text(encoding="utf-8") == "héllo"
    assert json.loads((tmp_path / "j.json").read_text()) == {"a": [2], "b": 1}
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), a)
    with np.load(tmp_path / "z.npz") as z:
        np.testing.assert_array_equal(z["a"], a)
    assert (tmp_path / "v.mp4").stat().st_size > 0
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {_mode(p) for p in files} == {0o644}, {p.name: oct(_mode(p)) for p in files}
    assert not [p for p in files if fileio.TEMP_MARK in p.name]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "keep.json"
    fileio.write_json(target, {"v": 1})
    with pytest.raises(TypeError):
        fileio.write_json(target, {"v": object()})  # not JSON: fails before the rename
    with pytest.raises(RuntimeError), fileio.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


def test_atomic_dir_replaces_a_folder_whole(tmp_path, umask_022):
    target = tmp_path / "ckpt"
    with fileio.atomic_dir(target) as tmp:
        (tmp / "a").write_text("1")
    with fileio.atomic_dir(target) as tmp:
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b"]
    assert _mode(target) == 0o755
    with pytest.raises(RuntimeError), fileio.atomic_dir(target) as tmp:
        (tmp / "c").write_text("3")
        raise RuntimeError("crash")
    assert sorted(p.name for p in target.iterdir()) == ["b"]
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_prepare_output_dir_refuses_a_file(tmp_path):
    blocker = tmp_path / "f"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        fileio.prepare_output_dir(blocker)
    with pytest.raises(NotADirectoryError, match="parent is not a folder"):
        fileio.prepare_output_dir(blocker / "sub")
    assert fileio.prepare_output_dir(tmp_path / "new" / "deep").is_dir()


def test_checkpoints_and_run_files_get_umask_permissions(tmp_path, umask_022):
    """Checkpoint folders and run JSONs used to be 0700 / 0600 (mkdtemp / mkstemp)."""
    torch = pytest.importorskip("torch")
    from twinsim.neural.checkpoint import save_checkpoint, write_atomic
    from twinsim.neural.model import FlowMemoryNet
    from twinsim.neural.presets import preset

    cfg = preset("tiny")
    model = FlowMemoryNet(cfg.model)
    opt = torch.optim.Adam(model.parameters())
    folder = save_checkpoint(tmp_path / "run" / "checkpoints" / "step-1", model, cfg, opt, step=1)
    write_atomic(tmp_path / "run" / "last.json", '{"checkpoint": "checkpoints/step-1"}')
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert {p.name for p in folder.iterdir()} >= {"model.safetensors", "config.json"}
    assert {_mode(p) for p in files} == {0o644}, {p.name: oct(_mode(p)) for p in files}
    assert _mode(folder) == 0o755


def test_write_mp4_enlarges_small_frames_by_whole_blocks(tmp_path):
    import av

    frames = np.zeros((2, 64, 48, 3), np.uint8)
    frames[:, :, 24:] = [200, 30, 30]
    for min_side, size in ((256, (384, 288)), (1, (64, 48))):  # 48 px -> x6; 1: as they are
        path = fileio.write_mp4(tmp_path / f"v{min_side}.mp4", frames, fps=8, min_side=min_side)
        with av.open(str(path)) as box:
            frame = next(box.decode(video=0)).to_ndarray(format="rgb24")
        assert frame.shape[:2] == size
