"""Data-parallel training: two gloo processes under torchrun at a tiny budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from twinsim.neural import load_model


def test_ddp_two_process_tiny_run(tmp_path):
    out = tmp_path / "ddp"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--standalone", "-m", "twinsim.cli", "train", "--preset", "tiny",
        "--steps", "4", "--threads", "1", "--out", str(out), "--set", "train.lr=0.001",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((out / "last.json").read_text())["step"] == 4
    _model, cfg = load_model(out)
    assert cfg.name == "tiny" and cfg.train.lr == 0.001  # --set reaches the saved config
    assert "trained 4 steps" in proc.stdout
