"""A benchmark's contact sheet: a trial run with --no-write leaves the committed sheet under
docs/ as it is (a few-family trial had overwritten docs/hybrid_sheet.png)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import _common


def test_no_write_keeps_the_committed_sheet(tmp_path):
    default = tmp_path / "docs_sheet.png"
    argv = ["--families", "drop", "--no-write"]
    a, _ = _common.window_bench_args(argv, "doc", ("drop", "ramp"), 2, default)
    assert a.sheet is None
    _common.save_first_windows(
        [{"family": "drop", "sheet": np.zeros((4, 4, 3), np.uint8)}], a.sheet
    )
    assert not default.exists()
    a, _ = _common.window_bench_args(["--families", "drop"], "doc", ("drop",), 2, default)
    assert a.sheet == str(default)
    given = str(tmp_path / "trial.png")
    a, _ = _common.window_bench_args([*argv, "--sheet", given], "doc", ("drop",), 2, default)
    assert a.sheet == given
    _common.save_first_windows(
        [{"family": "drop", "sheet": np.zeros((4, 4, 3), np.uint8)}], a.sheet
    )
    assert Path(given).exists() and not default.exists()
