"""``twinsim sheet``: a contact-sheet PNG, frames across and seeds down."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
from twinsim.sim.errors import SpecError
from twinsim.sim.families.sheet import contact_sheet, save_png, sheet_frames

from twinsim.cli import main


def test_sheet_frames_spread_from_first_to_last():
    assert sheet_frames(61, 4) == [0, 20, 40, 60]
    assert sheet_frames(10, 1) == [0]
    with pytest.raises(SpecError):
        sheet_frames(10, 0)


def test_contact_sheet_tiles_seeds_down_and_frames_across():
    img = contact_sheet("push", [0, 1], frames=3, size=16)
    assert img.dtype == np.uint8 and img.shape == (2 * 18, 3 * 18, 3)
    # The two rows are different scenes, and the frames of a row are not all alike.
    assert (img[:16] != img[18:34]).any()
    row = img[:16]
    assert (row[:, :16] != row[:, 36:52]).any()


def test_cli_writes_the_png_and_rejects_bad_input(tmp_path, capsys):
    out = tmp_path / "s.png"
    args = ["sheet", "push", "--seeds", "1", "--frames", "2", "--size", "16", "--out", str(out)]
    assert main(args) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert iio.imread(out).shape == (18, 36, 3)
    assert main(["sheet", "nosuch", "--seeds", "1", "--out", str(out)]) == 2
    assert "push" in capsys.readouterr().err  # the valid families are listed
    assert main(["sheet", "push", "--seeds", "0"]) == 2
    assert main(["sheet", "push", "--seeds", "1", "--out", str(tmp_path / "x.jpg")]) == 2
    with pytest.raises(SpecError):
        save_png(np.zeros((2, 2, 3), np.uint8), tmp_path / "x.gif")
