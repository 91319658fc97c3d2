"""`twinsim predict` input errors: one readable line, no errno text, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinsim.cli import main

BUNDLED = Path(__file__).resolve().parent.parent / "assets" / "pretrained"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (["--video", "NOTVIDEO"], "not a readable video"),
        (["--video", "MISSING"], "does not exist"),
        (["--scene", "no_such_family"], "valid families: "),
        (["--scene", "missing.json"], "does not exist"),
    ],
)
def test_predict_bad_source_is_one_clear_line(tmp_path, capsys, source, message):
    (tmp_path / "notes.txt").write_text("not a video")
    names = {"NOTVIDEO": "notes.txt", "MISSING": "gone.mp4", "missing.json": "missing.json"}
    source = [str(tmp_path / names[a]) if a in names else a for a in source]
    out = tmp_path / "pred.mp4"
    argv = ["predict", "--ckpt", str(BUNDLED), *source, "--out", str(out), "--threads", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert "Errno" not in err and not out.exists()
