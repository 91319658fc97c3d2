"""Dataset reliability: kill-and-resume, refused dirs, bad names, disk errors, engine failures,
verify on corruption (tiny datasets: 32 px, 8 frames)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import twinsim.sim.datasets.scene as scene_mod
import twinsim.sim.datasets.writer as writer_mod
from test_dataset import pick_families, tiny_config, tree_bytes
from twinsim.sim.datasets.config import DatasetConfig, DatasetError
from twinsim.sim.datasets.generate import generate_dataset
from twinsim.sim.datasets.scene import scene_seed
from twinsim.sim.datasets.verify import verify_dataset
from twinsim.sim.errors import UnknownNameError

from twinsim.cli import main


def _cli_args(out: Path, fams: tuple[str, str], scenes: int) -> list[str]:
    return [
        "generate",
        f"--families={','.join(fams)}",
        f"--scenes={scenes}",
        "--frames=8",
        "--size=32",
        "--seed=11",
        "--shard-size=1",
        "--impossible-fraction=0.5",
        "--workers=1",
        "--quiet",
        f"--out={out}",
    ]


def _listed(root: Path) -> int:
    try:
        return len(json.loads((root / "manifest.json").read_text())["shards"])
    except (OSError, ValueError, KeyError):
        return 0


def test_kill_and_resume_equals_clean_run(tmp_path):
    fams = pick_families()
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    args = _cli_args(killed, fams, scenes=24)
    proc = subprocess.Popen([sys.executable, "-m", "twinsim", *args], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _listed(killed) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "generation ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    m = json.loads((killed / "manifest.json").read_text())
    assert not m["complete"] and 1 <= len(m["shards"]) < 24
    assert main(args) == 2  # same settings still need --resume
    assert main([*args, "--resume"]) == 0
    assert main(_cli_args(clean, fams, scenes=24)) == 0
    assert tree_bytes(killed) == tree_bytes(clean)
    assert verify_dataset(killed).ok
    # Resuming a complete dataset changes nothing.
    assert main([*args, "--resume"]) == 0
    assert tree_bytes(killed) == tree_bytes(clean)


def test_resume_discards_partial_and_unlisted_shards(tmp_path):
    config = tiny_config(scenes=4, shard_size=1)
    root = tmp_path / "d"
    generate_dataset(config, root, progress=False)
    reference = tree_bytes(root)
    m = json.loads((root / "manifest.json").read_text())
    dropped = m["shards"].pop()  # as if killed between the shard rename and the manifest
    m["complete"] = False
    (root / "manifest.json").write_text(json.dumps(m))
    (root / dropped["path"] / "rgb.npy").write_bytes(b"garbage")
    (root / "train" / ".shard-00009.tmp").mkdir(parents=True, exist_ok=True)
    generate_dataset(config, root, resume=True, progress=False)
    assert tree_bytes(root) == reference


def test_existing_dir_with_other_settings_is_refused(tmp_path):
    root = tmp_path / "d"
    generate_dataset(tiny_config(scenes=2), root, progress=False)
    with pytest.raises(DatasetError, match=r"other settings \(frames: 8"):
        generate_dataset(tiny_config(scenes=2, frames=9), root, resume=True, progress=False)
    with pytest.raises(DatasetError, match="--resume"):
        generate_dataset(tiny_config(scenes=2), root, progress=False)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not empty"):
        generate_dataset(tiny_config(scenes=2), junk, progress=False)


def test_unknown_family_label_renderer_list_valid_ones(capsys):
    from twinsim.sim.families import family_names

    with pytest.raises(UnknownNameError) as exc:
        tiny_config(families=("nosuchfamily",))
    assert all(f in str(exc.value) for f in family_names())
    with pytest.raises(UnknownNameError, match="segmentation"):
        tiny_config(labels=("rgb", "normals"))
    with pytest.raises(UnknownNameError, match="pyrender"):
        tiny_config(renderer="blender")
    code = main(["generate", "--families=nosuch", "--scenes=1", "--frames=4", "--out=/tmp/x"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "nosuch" in err and all(f in err for f in family_names())


def test_clip_too_short_for_a_violation_is_refused_before_writing(tmp_path):
    config = tiny_config(families=("occlusion",), frames=12, impossible_fraction=0.5)
    with pytest.raises(DatasetError, match=r"--frames 12 is too short for family 'occlusion'"):
        generate_dataset(config, tmp_path / "d", progress=False)
    assert not (tmp_path / "d").exists()
    # Without impossible twins the same clip length is fine.
    generate_dataset(
        tiny_config(families=("occlusion",), frames=12, scenes=1, impossible_fraction=0.0),
        tmp_path / "ok",
        progress=False,
    )


def test_unwritable_dir_gives_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DatasetError, match="cannot write to output directory"):
        generate_dataset(tiny_config(scenes=1), blocker / "sub", progress=False)
    if os.geteuid() != 0:  # root ignores permission bits
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(DatasetError, match="cannot write to output directory"):
            generate_dataset(tiny_config(scenes=1), ro / "d", progress=False)


@pytest.mark.parametrize("workers", [1, 2])
def test_full_disk_gives_clear_error(tmp_path, monkeypatch, workers):
    # With 2 workers the error is raised in a pool worker that writes its own shard.
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer_mod, "write_shard", full)
    with pytest.raises(DatasetError, match=r"disk full.*--resume"):
        generate_dataset(tiny_config(scenes=4, workers=workers), tmp_path / "d", progress=False)


@pytest.mark.parametrize("workers", [1, 2])
def test_engine_failures_are_retried_and_reported(tmp_path, monkeypatch, workers):
    config = tiny_config(scenes=3, impossible_fraction=0.0, workers=workers)
    bad_raise, bad_nan = scene_seed(config.seed, 1, 0), scene_seed(config.seed, 2, 0)
    real = scene_mod.simulate

    def flaky(spec, **kw):
        if spec.seed == bad_raise:
            raise RuntimeError("injected engine crash")
        rollout = real(spec, **kw)
        if spec.seed == bad_nan:
            rollout.depth[1, 0, 0] = np.nan
        return rollout

    monkeypatch.setattr(scene_mod, "simulate", flaky)
    root = tmp_path / "d"
    summary = generate_dataset(config, root, progress=False)
    assert summary.clips == 3 and summary.failures == 2
    m = json.loads((root / "manifest.json").read_text())
    got = {(f["scene"], f["attempt"]): f["error"] for f in m["failures"]}
    assert set(got) == {(1, 0), (2, 0)}
    assert "injected" in got[(1, 0)] and "NaN" in got[(2, 0)]
    attempts = {}
    for entry in m["shards"]:
        for c in json.loads((root / entry["path"] / "shard.json").read_text())["clips"]:
            attempts[c["scene"]] = (c["attempt"], c["seed"])
    assert attempts[1] == (1, scene_seed(config.seed, 1, 1)) and attempts[0][0] == 0

    monkeypatch.setattr(scene_mod, "simulate", lambda spec, **kw: 1 / 0)
    with pytest.raises(DatasetError, match=r"failed all 2 attempts.*ZeroDivision"):
        generate_dataset(
            tiny_config(scenes=4, max_attempts=2, workers=workers), tmp_path / "e", progress=False
        )


def test_verify_detects_corruption(tmp_path, capsys):
    root = tmp_path / "d"
    generate_dataset(tiny_config(scenes=3, shard_size=1), root, progress=False)
    assert verify_dataset(root).ok and main(["verify", str(root)]) == 0
    m = json.loads((root / "manifest.json").read_text())
    first, second = m["shards"][0]["path"], m["shards"][1]["path"]
    rgb = root / first / "rgb.npy"
    data = bytearray(rgb.read_bytes())
    data[-1] ^= 0xFF  # flip one pixel byte
    rgb.write_bytes(bytes(data))
    shutil.rmtree(root / second)
    report = verify_dataset(root)
    text = "\n".join(report.problems)
    assert f"{first}/rgb.npy: checksum mismatch" in text and f"{second}: missing" in text
    capsys.readouterr()
    assert main(["verify", str(root)]) == 1
    assert "checksum mismatch" in capsys.readouterr().out


def test_config_validation_names_field():
    with pytest.raises(ValueError, match="frames"):
        tiny_config(frames=1)
    with pytest.raises(ValueError, match="split_fractions"):
        tiny_config(split_fractions=(0.5, 0.5, 0.5))
    with pytest.raises(UnknownNameError, match="local"):
        DatasetConfig(families=pick_families(), scenes=1, frames=4, backend="slurm")
