"""Training-run and checkpoint reliability classes (issue 15): nothing lost (run folders, pruning),
no crash on NaN/inf, memory refused early, damaged or hostile checkpoint files give one line."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from twinsim.neural import CheckpointError, WorldModel, preset, train
from twinsim.neural.checkpoint import resolve_checkpoint
from twinsim.neural.guards import (
    MemoryBudgetError,
    NonFiniteError,
    RunFolderError,
    check_backward_safe,
    prune_checkpoints,
)
from twinsim.sim.errors import SpecError

from twinsim.cli import main

STEPS = 6


def _cfg(steps: int = STEPS, **train_kw):
    cfg = preset("tiny")
    return cfg.replace(
        train=dataclasses.replace(cfg.train, steps=steps, ckpt_every=2, val_every=3, **train_kw)
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("r") / "run"
    train(_cfg(), out, progress=False)
    return out


@pytest.fixture
def run_copy(run, tmp_path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(run, out)
    return out


def _ckpt(run: Path) -> Path:
    return resolve_checkpoint(run)


# -- data loss -------------------------------------------------------------------------------


def test_training_into_a_used_run_folder_is_refused(run_copy):
    before = {p: p.read_bytes() for p in run_copy.rglob("*") if p.is_file()}
    with pytest.raises(RunFolderError, match=r"--resume .* --overwrite"):
        train(_cfg(steps=4), run_copy, progress=False)
    assert {p: p.read_bytes() for p in run_copy.rglob("*") if p.is_file()} == before


def test_a_higher_step_run_is_not_pruned_away_by_a_new_one(run_copy):
    """Old run reached higher steps: the new run's checkpoints survive and last.json resolves."""
    old = run_copy / "checkpoints"
    for s in (800, 900):
        shutil.copytree(_ckpt(run_copy), old / f"step-{s:07d}")
    train(_cfg(steps=4), run_copy, progress=False, overwrite=True)
    folder = _ckpt(run_copy)
    assert folder.name == "step-0000004"
    assert sorted(p.name for p in old.iterdir()) == ["step-0000002", "step-0000004"]
    WorldModel.load(run_copy)


def test_overwrite_removes_only_what_a_run_writes(run_copy):
    (run_copy / "notes.txt").write_text("mine")
    train(_cfg(steps=2), run_copy, progress=False, overwrite=True)
    assert (run_copy / "notes.txt").read_text() == "mine"
    assert json.loads((run_copy / "last.json").read_text())["step"] == 2


def test_prune_is_by_step_number_and_spares_later_steps(tmp_path):
    for s in (5, 10, 20, 100, 3000, 10_000_000):
        (tmp_path / f"step-{s:07d}").mkdir()
    (tmp_path / "user-folder").mkdir()
    gone = prune_checkpoints(tmp_path, step=100, keep=2)
    assert sorted(p.name for p in gone) == ["step-0000005", "step-0000010"]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["step-0000020", "step-0000100", "step-0003000", "step-10000000", "user-folder"]


def test_resume_and_overwrite_exclude_each_other(tmp_path):
    with pytest.raises(RunFolderError):
        train(_cfg(), tmp_path / "r", resume=True, overwrite=True, progress=False)


# -- crashes ---------------------------------------------------------------------------------


def test_a_nan_warp_grid_is_stopped_before_backward():
    """grid_sample's CPU backward segfaults on a NaN grid (the forward is finite): the guard
    must find the grid saved for backward. Without it this test takes pytest down."""
    x = torch.rand(1, 3, 8, 8, requires_grad=True)
    grid = torch.zeros(1, 8, 8, 2, requires_grad=True)
    bad = grid + torch.where(torch.rand(1, 8, 8, 2) > 0.9, torch.nan, 0.0)
    loss = F.grid_sample(x, bad, padding_mode="border", align_corners=False).mean()
    assert torch.isfinite(loss)
    with pytest.raises(NonFiniteError, match="warp grid"):
        check_backward_safe(loss, step=0)


def test_a_nan_loss_is_stopped_before_backward():
    with pytest.raises(NonFiniteError, match="step 8: the loss is nan"):
        check_backward_safe(torch.tensor(float("nan"), requires_grad=True) * 1, step=7)


def test_divergent_training_stops_with_a_message_and_keeps_the_last_good_checkpoint(tmp_path):
    """lr=1e6 made torch 2.13 segfault in grid_sample's backward; now: exit 2, one line."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "twinsim", "train", "--preset=tiny", f"--out={out}",
           "--threads=1", "--set", "train.lr=1e6", "--set", "train.ckpt_every=1"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    last = proc.stderr.strip().splitlines()[-1]
    assert "training stopped at step" in last and "Traceback" not in proc.stderr
    if (out / "last.json").exists():  # a checkpoint from before the blow-up: finite, loadable
        assert "last good checkpoint" in last
        WorldModel.load(out)


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", "1e999"])
@pytest.mark.parametrize("field", ["model.max_flow", "train.lr", "train.grad_clip"])
def test_non_finite_config_values_are_refused(field, value):
    with pytest.raises(SpecError, match=r"finite|invalid value"):
        preset("tiny").override([f"{field}={value}"])


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", "1e999"])
def test_non_finite_inference_settings_are_refused(value):
    from twinsim.neural.config import InferenceConfig

    with pytest.raises(SpecError, match=r"finite|invalid value|snap"):
        InferenceConfig().override([f"inference.snap={value}"])


def test_a_checkpoint_config_with_non_finite_values_is_refused(run_copy):
    cfg = _ckpt(run_copy) / "config.json"
    cfg.write_text(cfg.read_text().replace('"max_flow": 8.0', '"max_flow": Infinity'))
    with pytest.raises(CheckpointError, match="max_flow"):
        WorldModel.load(run_copy)


def test_resuming_nan_weights_is_refused(run_copy):
    from safetensors.torch import load_file, save_file

    f = _ckpt(run_copy) / "model.safetensors"
    weights = load_file(str(f))
    name = sorted(weights)[0]
    weights[name] = torch.full_like(weights[name], float("nan"))
    save_file(weights, str(f), metadata={"format": "twinsim-worldmodel"})
    with pytest.raises(NonFiniteError, match=name):
        train(_cfg(), run_copy, resume=True, progress=False)
    with pytest.raises(NonFiniteError, match=name):
        WorldModel.load(run_copy)


# -- memory ----------------------------------------------------------------------------------


def test_a_huge_checkpoint_config_is_refused_before_building_the_model(run_copy, monkeypatch):
    monkeypatch.setenv("TWINSIM_MEMORY_LIMIT_GB", "4")  # below the ~14 GB it would take
    cfg = _ckpt(run_copy) / "config.json"
    data = json.loads(cfg.read_text())
    data["model"]["channels"] = [8, 20000]
    cfg.write_text(json.dumps(data))
    t0 = time.monotonic()
    with pytest.raises(MemoryBudgetError, match=r"needs about \d+\.\d GiB"):
        WorldModel.load(run_copy)
    assert time.monotonic() - t0 < 20


def test_training_a_model_too_big_for_memory_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINSIM_MEMORY_LIMIT_GB", "0.001")
    with pytest.raises(MemoryBudgetError, match=r"0\.0 GiB is available"):
        train(_cfg(), tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


# -- readable errors, trust boundaries -------------------------------------------------------


def _damage_truncate(f: Path) -> None:
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def _damage_header(f: Path) -> None:
    f.write_bytes(b"\xff" * 8 + f.read_bytes()[8:])


@pytest.mark.parametrize("which", ["model.safetensors", "state.safetensors"])
@pytest.mark.parametrize("damage", [_damage_truncate, _damage_header, lambda f: f.write_bytes(b"")])
def test_damaged_safetensors_give_one_line(run_copy, capsys, which, damage):
    damage(_ckpt(run_copy) / which)
    if which == "model.safetensors":
        args = ["predict", f"--ckpt={run_copy}", "--video=none.mp4", "--out=x.mp4"]
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert which in err and "\n" not in err and "Traceback" not in err, err
    with pytest.raises(CheckpointError, match=which):
        train(_cfg(), run_copy, resume=True, progress=False)


def test_last_json_loops_are_an_error_not_a_recursion(tmp_path):
    a, b = tmp_path / "a", tmp_path / "a" / "b"
    b.mkdir(parents=True)
    (a / "last.json").write_text(json.dumps({"checkpoint": "b"}))
    (b / "last.json").write_text(json.dumps({"checkpoint": "."}))
    with pytest.raises(CheckpointError, match="loop"):
        resolve_checkpoint(a)


@pytest.mark.parametrize("target", ["../elsewhere", "/tmp", "checkpoints/../../x"])
def test_last_json_may_not_point_outside_its_run(run_copy, tmp_path, target):
    shutil.copytree(_ckpt(run_copy), tmp_path / "elsewhere")
    (run_copy / "last.json").write_text(json.dumps({"checkpoint": target}))
    with pytest.raises(CheckpointError, match="leads outside"):
        resolve_checkpoint(run_copy)


@pytest.mark.parametrize("text", ["{", "[]", '{"checkpoint": 5}', '{"other": 1}'])
def test_malformed_last_json_names_the_file(run_copy, text):
    (run_copy / "last.json").write_text(text)
    with pytest.raises(CheckpointError, match=r"last\.json"):
        resolve_checkpoint(run_copy)


@pytest.mark.parametrize("step", [1e18, 10**18, -3, "7", None])
def test_a_resumed_step_out_of_range_is_refused(run_copy, step):
    state = _ckpt(run_copy) / "state.json"
    data = json.loads(state.read_text())
    data["step"] = step
    state.write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match="step"):
        train(_cfg(), run_copy, resume=True, progress=False)


def test_predict_rejects_a_negative_start_and_leaves_no_file_on_failure(run, tmp_path, capsys):
    spec = tmp_path / "spec.json"
    assert main(["sample", "drop", "--seed=1"]) == 0
    spec.write_text(capsys.readouterr().out)
    out = tmp_path / "o" / "pred.mp4"
    with pytest.raises(SystemExit) as info:
        main(["predict", f"--ckpt={run}", f"--scene={spec}", "--start=-5", f"--out={out}"])
    assert info.value.code == 2 and "--start" in capsys.readouterr().err
    bad = tmp_path / "o" / "pred.unknown-format"
    args = ["predict", f"--ckpt={run}", f"--scene={spec}", "--horizon=2", f"--out={bad}"]
    assert main(args) == 2
    assert not bad.parent.exists() or os.listdir(bad.parent) == []
