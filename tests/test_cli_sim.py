"""CLI: `twinsim families`, `twinsim sample`, `twinsim render`; bad input exits 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from twinsim.sim import CameraSpec, ObjectSpec, Rollout, SceneSpec, WorldSpec
from twinsim.sim.families import family_names

from twinsim.cli import main


def _spec_file(tmp_path) -> str:
    spec = SceneSpec(
        objects=(ObjectSpec("ball", "sphere", (0.2,), position=(0, 0, 0.6)),),
        cameras=(CameraSpec(width=24, height=24),),
        world=WorldSpec(duration=0.25),
    )
    path = tmp_path / "scene.json"
    path.write_text(spec.to_json())
    return str(path)


def test_families_lists_every_family(capsys):
    assert main(["families"]) == 0
    listed = capsys.readouterr().out.split()
    assert listed == list(family_names()) and len(listed) >= 11


def test_sample_prints_a_valid_spec_and_is_seeded(capsys):
    name = family_names()[0]
    assert main(["sample", name, "--seed", "3"]) == 0
    first = capsys.readouterr().out
    spec = SceneSpec.from_json(first)
    assert spec.family == name and spec.seed == 3
    main(["sample", name, "--seed", "3"])
    assert capsys.readouterr().out == first


def test_render_spec_file_writes_preview_arrays_labels(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["render", _spec_file(tmp_path), "--out", str(out), "--size", "17", "--quiet"]
    assert main([*args, "--labels", "rgb,segmentation,visibility"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out / n) for n in ("preview.mp4", "arrays.npz", "labels.json")]
    r = Rollout.load(out)
    assert r.rgb.shape == (7, 17, 17, 3) and r.depth is None
    assert r.track("ball").visible_fraction.max() > 0.5
    assert json.loads((out / "labels.json").read_text())["labels"] == [
        "rgb",
        "segmentation",
        "visibility",
    ]


def test_render_family_by_name(tmp_path, capsys):
    out = tmp_path / "fam"
    assert (
        main(["render", family_names()[0], "--seed", "1", "--out", str(out), "--size", "16"]) == 0
    )
    r = Rollout.load(out)
    assert r.spec.family == family_names()[0] and np.isfinite(r.depth).all()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["render", "missing.json", "--out", "x"], "does not exist"),
        (["render", "no_such_family", "--out", "x"], "unknown family"),
        (["render", "SPEC", "--labels", "rgb,glitter"], "valid labels"),
        (["render", "SPEC", "--size", "0"], "--size"),
        (["render", "SPEC", "--size", "5000"], "[1, 4096]"),
        (["sample", "drop", "--impossible", "vanish"], "'drop' offers violations: teleport"),
        (["sample", "no_such_family"], "unknown family"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(tmp_path, capsys, monkeypatch, argv, message):
    argv = [_spec_file(tmp_path) if a == "SPEC" else a for a in argv]
    argv = [str(tmp_path / a) if a in ("x", "missing.json") else a for a in argv]
    monkeypatch.chdir(tmp_path)  # the default --out is renders/... under the working folder
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "renders").exists(), "a refused command must not create folders"


def test_bad_spec_file_names_the_field(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"objects": [{"name": "a", "shape": "box", "size": [1, -1, 1]}]}))
    assert main(["render", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "spec.objects[0].size" in capsys.readouterr().err


def test_renderer_choice_is_validated(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["render", "x.json", "--renderer", "blender"])
    assert exc.value.code == 2
    assert "pyrender" in capsys.readouterr().err


def test_output_path_that_is_a_file_is_refused_before_simulating(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("keep me")
    for out in (blocker, blocker / "sub"):
        assert main(["render", "drop", "--out", str(out), "--quiet"]) == 2
        assert "is not a folder" in capsys.readouterr().err
    assert blocker.read_text() == "keep me"


def test_rerender_replaces_files_whole(tmp_path):
    out = tmp_path / "r"
    assert main(["render", "drop", "--seed", "1", "--out", str(out), "--quiet"]) == 0
    first = (out / "labels.json").read_text()
    assert main(["render", "drop", "--seed", "2", "--out", str(out), "--quiet"]) == 0
    assert (out / "labels.json").read_text() != first
    assert sorted(p.name for p in out.iterdir()) == ["arrays.npz", "labels.json", "preview.mp4"]


def test_unknown_flag_prints_the_subcommands_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["render", "drop", "--bogus", "1"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: twinsim render" in err and "unrecognized arguments: --bogus 1" in err


def test_typod_shape_names_the_field_path(tmp_path, capsys):
    data = json.loads(Path(_spec_file(tmp_path)).read_text())
    data["objects"][0]["shape"] = "sphre"
    bad = tmp_path / "typo.json"
    bad.write_text(json.dumps(data))
    assert main(["render", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "spec.objects[0].shape: unknown shape 'sphre'" in err and "sphere" in err
    assert not (tmp_path / "o").exists()


def test_outputs_get_the_users_umask_permissions(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        out = tmp_path / "r"
        assert main(["render", _spec_file(tmp_path), "--out", str(out), "--quiet"]) == 0
    finally:
        os.umask(old)
    for name in ("preview.mp4", "arrays.npz", "labels.json"):
        assert (out / name).stat().st_mode & 0o777 == 0o644, name
    assert not [p.name for p in out.iterdir() if ".tmp-" in p.name]
