"""Dataset reliability classes (issue 15): concurrent writers, resume that deletes only its own
files and rebuilds damaged shards, dtype/shape/frames checks, confined paths, readable errors
for damaged manifests and arrays, argument checks and memory estimates (tiny datasets)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_dataset import tiny_config, tree_bytes
from twinsim.sim.datasets.config import DatasetConfig, DatasetError
from twinsim.sim.datasets.generate import generate_dataset
from twinsim.sim.datasets.reader import ClipReader
from twinsim.sim.datasets.verify import verify_dataset
from twinsim.sim.errors import UserError

from twinsim.cli import main

# A small dataset: 4 scenes in shards of 2 (train / val / test splits).
CONFIG = dict(scenes=4, impossible_fraction=0.0, split_fractions=(0.5, 0.25, 0.25))


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clean") / "data"
    generate_dataset(tiny_config(**CONFIG), root, progress=False)
    return root


@pytest.fixture
def copy(clean, tmp_path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(clean, root)
    return root


def _manifest(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text())


def _edit_manifest(root: Path, edit) -> None:
    m = _manifest(root)
    edit(m)
    (root / "manifest.json").write_text(json.dumps(m))


def _first_shard(root: Path) -> Path:
    return root / _manifest(root)["shards"][0]["path"]


# -- data loss -------------------------------------------------------------------------------


def test_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path):
    """Two generates into one --out: an OS lock held for the run refuses the second."""
    out = tmp_path / "data"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time\n"
         "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "os.write(fd, b'4242')\n"
         "print('locked', flush=True)\n"
         "time.sleep(60)\n",
         str(out / ".twinsim.lock")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(UserError, match="in use by another twinsim generate"):
            generate_dataset(tiny_config(**CONFIG), out, progress=False)
        assert not (out / "manifest.json").exists()
    finally:
        holder.kill()
        holder.wait()
    generate_dataset(tiny_config(**CONFIG), out, progress=False)  # lock released on exit
    assert verify_dataset(out).ok


@pytest.mark.slow
def test_concurrent_cli_generates_leave_one_valid_dataset(tmp_path):
    """Started together on one empty --out: one wins, the other exits 2, the data verifies."""
    out = tmp_path / "data"
    base = [sys.executable, "-m", "twinsim", "generate", "--families=drop", "--frames=8",
            "--size=32", "--workers=1", "--quiet", f"--out={out}", "--shard-size=1"]  # fmt: skip
    runs = {
        seed: subprocess.Popen(
            [*base, "--scenes=2", f"--seed={seed}"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        for seed in (1, 2)
    }
    codes = {seed: (p.wait(), p.stderr.read()) for seed, p in runs.items()}
    winners = [seed for seed, (rc, _) in codes.items() if rc == 0]
    assert len(winners) == 1, codes
    (loser,) = set(codes) - set(winners)
    rc, err = codes[loser]
    assert rc == 2 and ("in use by another" in err or "other settings" in err), err
    assert verify_dataset(out).ok and _manifest(out)["config"]["seed"] == winners[0]


def test_resume_deletes_only_what_the_tool_wrote(copy):
    split = copy / "train"
    (split / "my-notes").mkdir()
    (split / "my-notes" / "keep.txt").write_text("mine")
    (split / "readme.txt").write_text("mine too")
    (split / ".shard-00009.tmp-123-0badc0de").mkdir()  # left by a killed writer: ours
    (copy / ".manifest.json.tmp-123-0badc0de.json").write_text("{")  # ours
    generate_dataset(tiny_config(**CONFIG), copy, resume=True, progress=False)
    assert (split / "my-notes" / "keep.txt").read_text() == "mine"
    assert (split / "readme.txt").read_text() == "mine too"
    assert not (split / ".shard-00009.tmp-123-0badc0de").exists()
    assert not (copy / ".manifest.json.tmp-123-0badc0de.json").exists()
    problems = verify_dataset(copy).problems
    assert any("my-notes" in p and "stray" in p for p in problems)


def test_a_fresh_out_with_a_file_named_like_a_temp_file_is_not_emptied(tmp_path):
    out = tmp_path / "data"
    out.mkdir()
    (out / ".write-test-77").write_text("user data")
    with pytest.raises(DatasetError, match="not empty"):
        generate_dataset(tiny_config(**CONFIG), out, progress=False)
    assert (out / ".write-test-77").read_text() == "user data"


# -- wrong data or a false OK ----------------------------------------------------------------


def _truncate(f: Path) -> None:
    f.write_bytes(f.read_bytes()[:-7])


def _flip(f: Path) -> None:
    b = bytearray(f.read_bytes())
    b[-1] ^= 0xFF
    f.write_bytes(bytes(b))


DAMAGE = {
    "truncated npy": lambda s: _truncate(s / "rgb.npy"),
    "flipped npy": lambda s: _flip(s / "depth.npy"),
    "missing npy": lambda s: (s / "segmentation.npy").unlink(),
    "zero-byte npy": lambda s: (s / "rgb.npy").write_bytes(b""),
    "broken shard.json": lambda s: (s / "shard.json").write_text("{ not json"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_resume_rebuilds_damaged_listed_shards(copy, clean, damage):
    DAMAGE[damage](_first_shard(copy))
    assert not verify_dataset(copy).ok
    generate_dataset(tiny_config(**CONFIG), copy, resume=True, progress=False)
    assert verify_dataset(copy).ok
    assert tree_bytes(copy) == tree_bytes(clean)


def test_verify_reports_a_zero_byte_npy_in_one_line(copy):
    (_first_shard(copy) / "rgb.npy").write_bytes(b"")
    report = verify_dataset(copy)
    assert any("rgb.npy" in p and "0 bytes" in p for p in report.problems), report.problems


def test_reader_refuses_an_array_whose_header_changed_its_dtype(copy):
    """A 3-byte header edit turns depth into int32: the reader checks dtype against the manifest."""
    f = _first_shard(copy) / "depth.npy"
    f.write_bytes(f.read_bytes().replace(b"'<f4'", b"'<i4'", 1))
    with pytest.raises(DatasetError, match=r"depth\.npy: dtype int32"):
        ClipReader(copy, "train")[0]
    assert any("depth.npy" in p for p in verify_dataset(copy).problems)


def test_manifest_frames_that_disagree_with_the_arrays_fail_verify_and_the_reader(copy):
    _edit_manifest(copy, lambda m: m["config"].__setitem__("frames", 20))
    problems = verify_dataset(copy).problems
    assert any("frames" in p for p in problems), problems
    with pytest.raises(DatasetError, match="frames"):
        ClipReader(copy, "train")


# -- trust boundaries ------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", ["../outside/shard-00000", "/etc", "train/../../x"])
def test_manifest_shard_paths_are_confined_to_the_dataset(copy, tmp_path, hostile):
    outside = tmp_path / "outside" / "shard-00000"
    shutil.copytree(_first_shard(copy), outside)  # a valid-looking shard out of bounds

    def point_out(m):
        path = m["shards"][0]["path"]
        m["shards"][0]["path"] = hostile
        for info in m["splits"].values():
            info["shards"] = [hostile if p == path else p for p in info["shards"]]

    _edit_manifest(copy, point_out)
    problems = verify_dataset(copy).problems
    assert any("leads outside" in p for p in problems), problems
    with pytest.raises(UserError, match="leads outside"):
        ClipReader(copy, _manifest(copy)["shards"][0]["split"])


# -- errors people can read ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda m: m.__setitem__("shards", "oops"), "'shards' must be a list"),
        (lambda m: m.pop("shards"), "missing field 'shards'"),
        (lambda m: m["shards"][0].pop("path"), "shards[0]: missing field 'path'"),
        (lambda m: m["splits"]["train"].__setitem__("shards", {}), "'shards' must be a list"),
        (lambda m: m["arrays"]["rgb"].__setitem__("shape", "big"), "'shape' must be a list"),
    ],
)
def test_malformed_manifests_give_one_line_naming_file_and_field(copy, capsys, edit, field):
    _edit_manifest(copy, edit)
    assert main(["verify", str(copy)]) == 2
    err = capsys.readouterr().err.strip()
    assert "manifest.json" in err and field in err and "\n" not in err, err
    assert "Traceback" not in err


def test_a_bug_keyerror_keeps_its_traceback(monkeypatch):
    """KeyError is no longer taken for user input: a bug surfaces with its traceback."""
    import twinsim.sim.datasets.verify as verify_mod

    def buggy(root):
        return {}["oops"]

    monkeypatch.setattr(verify_mod, "verify_dataset", buggy)
    with pytest.raises(KeyError):
        main(["verify", "somewhere"])


# -- arguments and memory --------------------------------------------------------------------


def _generate_args(out: Path, *extra: str) -> list[str]:
    return ["generate", "--families=drop", "--scenes=2", "--frames=8", "--size=32", "--quiet",
            f"--out={out}", *extra]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (("--splits=nan,nan,nan",), "split_fractions"),
        (("--splits=inf,0,0",), "split_fractions"),
        (("--ood=family:typo",), "unknown ood family 'typo'"),
        (("--ood=mass>nan",), "mass needs a number"),
        (("--workers=4096",), "workers"),
    ],
)
def test_generate_arguments_are_checked(tmp_path, capsys, extra, words):
    assert main(_generate_args(tmp_path / "d", *extra)) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err
    assert not (tmp_path / "d" / "manifest.json").exists()


def test_generate_refuses_a_dataset_that_cannot_fit_in_memory(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TWINSIM_MEMORY_LIMIT_GB", "16")
    args = ["generate", "--families=drop", "--scenes=1", "--frames=2000", "--size=1024",
            "--workers=1", "--quiet", f"--out={tmp_path / 'd'}"]  # fmt: skip
    t0 = time.monotonic()
    assert main(args) == 2
    assert time.monotonic() - t0 < 10
    err = capsys.readouterr().err
    assert "needs about" in err and "GiB" in err and "16.0 GiB is available" in err, err


def test_generate_memory_estimate_grows_with_the_request():
    from twinsim.sim.datasets.generate import generate_memory

    small = DatasetConfig(families=("drop",), scenes=1, frames=8, size=32, workers=1)
    big = DatasetConfig(families=("drop",), scenes=1, frames=2000, size=1024, workers=1)
    assert generate_memory(small) < 50 * 2**20
    assert generate_memory(big) > 20 * 2**30  # about 23 GB for one clip


def test_loaded_arrays_keep_their_declared_dtype_and_shape(clean):
    reader = ClipReader(clean, "train")
    item = reader[0]
    assert item["rgb"].dtype == np.uint8 and item["depth"].dtype == np.float32
    assert item["rgb"].shape == (8, 32, 32, 3)
