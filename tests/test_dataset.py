"""Dataset generation, format, determinism and loading (tiny: 32 px, 8 frames, few scenes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from twinsim.sim.datasets.config import DatasetConfig, OodRule
from twinsim.sim.datasets.generate import RUN_LOG, generate_dataset
from twinsim.sim.datasets.reader import ClipReader
from twinsim.sim.datasets.scene import clip_spec, plan_scenes, scene_seed
from twinsim.sim.datasets.torch_dataset import open_dataset
from twinsim.sim.errors import SpecError, UnknownNameError


def pick_families() -> tuple[str, str]:
    """A VoE-capable family plus another one, from the live registry."""
    from twinsim.sim.families import family_info, family_names

    def cheap_first(names: list[str], hints: tuple[str, ...]) -> list[str]:
        # Prefer small scenes (few bodies) to keep these tests fast.
        return sorted(names, key=lambda n: next((i for i, h in enumerate(hints) if h in n), 99))

    names = family_names()
    voe = cheap_first([f for f in names if family_info(f).violations], ("collid", "screen"))
    assert voe, "need at least one family with violations"
    other = cheap_first([f for f in names if f != voe[0]], ("drop", "push"))
    return voe[0], other[0]


def tiny_config(**kw) -> DatasetConfig:
    base = {
        "families": pick_families(),
        "scenes": 6,
        "frames": 8,
        "size": 32,
        "seed": 3,
        "labels": ("rgb", "depth", "segmentation", "objects", "camera"),
        "impossible_fraction": 0.5,
        "split_fractions": (0.5, 0.25, 0.25),
        "shard_size": 2,
        "workers": 1,
    }
    base.update(kw)
    return DatasetConfig(**base)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every data file of a dataset (the per-run log excluded), keyed by relative path."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != RUN_LOG
    }


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, DatasetConfig]:
    root = tmp_path_factory.mktemp("ds") / "data"
    config = tiny_config()
    summary = generate_dataset(config, root, progress=False)
    assert summary.clips == config.scenes + summary_pairs(root)
    return root, config


def summary_pairs(root: Path) -> int:
    return json.loads((root / "manifest.json").read_text())["counts"]["pairs"]


def test_layout_manifest_and_card(dataset):
    root, config = dataset
    m = json.loads((root / "manifest.json").read_text())
    assert m["complete"] and m["config"] == config.identity()
    assert m["counts"]["scenes"] == 6
    listed = sorted(s["path"] for s in m["shards"])
    planned = sorted(p for s in m["splits"].values() for p in s["shards"])
    assert listed == planned and listed
    clips_on_disk = 0
    for entry in m["shards"]:
        doc = json.loads((root / entry["path"] / "shard.json").read_text())
        rgb = np.load(root / entry["path"] / "rgb.npy", mmap_mode="r")
        assert rgb.shape == (doc["num_clips"], config.frames, 32, 32, 3) and rgb.dtype == np.uint8
        depth = np.load(root / entry["path"] / "depth.npy")
        assert depth.dtype == np.float32 and np.isfinite(depth).all()
        for c in doc["clips"]:
            assert c["split"] == entry["split"]
            assert c["spec"]["world"]["duration"] == pytest.approx(
                (config.frames - 1) / c["spec"]["world"]["fps"]
            )
        clips_on_disk += doc["num_clips"]
    assert clips_on_disk == m["counts"]["clips"]
    card = (root / "README.md").read_text()
    assert m["command_line"] in card and "object_position" in card
    for fam in config.families:
        assert f"### {fam}" in card


def test_impossible_twins_are_matched_pairs(dataset):
    root, _ = dataset
    m = json.loads((root / "manifest.json").read_text())
    assert m["counts"]["pairs"] >= 1
    roles: dict[int, dict[str, dict]] = {}
    for entry in m["shards"]:
        doc = json.loads((root / entry["path"] / "shard.json").read_text())
        imp = np.load(root / entry["path"] / "impossible.npy")
        vf = np.load(root / entry["path"] / "violation_frame.npy")
        for c in doc["clips"]:
            roles.setdefault(c["scene"], {})[c["role"]] = c
            assert imp[c["row"]] == (c["role"] == "impossible")
            assert vf[c["row"]] == (c["violation"]["frame"] if c["violation"] else -1)
    pairs = {s: r for s, r in roles.items() if "impossible" in r}
    assert len(pairs) == m["counts"]["pairs"]
    for scene, r in pairs.items():
        assert set(r) == {"possible", "impossible"}
        assert r["possible"]["seed"] == r["impossible"]["seed"]
        assert r["possible"]["pair_id"] == r["impossible"]["pair_id"] == scene
        assert r["possible"]["split"] == r["impossible"]["split"]
        assert r["impossible"]["violation"]["kind"] in m["counts"]["by_violation"]


def test_plan_is_a_function_of_seed_and_index():
    a, b = plan_scenes(tiny_config()), plan_scenes(tiny_config(scenes=9))
    assert a == b[:6]  # adding scenes does not change earlier ones
    assert scene_seed(3, 1, 0) != scene_seed(3, 1, 1) != scene_seed(3, 2, 0)
    fams = tiny_config().families
    assert [t.family for t in a] == [fams[i % 2] for i in range(6)]


def test_clip_spec_sets_frames_and_size():
    from twinsim.sim.families import sample_scene

    spec = clip_spec(sample_scene(pick_families()[1], 5), 7, 40)
    assert spec.world.num_frames == 7
    assert all((c.width, c.height) == (40, 40) for c in spec.cameras)


@pytest.mark.parametrize("workers", [2, 16])
def test_deterministic_across_worker_counts(dataset, tmp_path, workers):
    # 2 workers build whole shards each; 16 (more than the shards) run scene tasks instead.
    root, config = dataset
    other = tmp_path / f"w{workers}"
    generate_dataset(
        DatasetConfig.from_identity(config.identity(), workers=workers), other, progress=False
    )
    assert tree_bytes(root) == tree_bytes(other)


def test_open_dataset_with_dataloader(dataset):
    import torch
    from torch.utils.data import DataLoader

    root, _ = dataset
    full = open_dataset(root, split="train")
    n_clips = json.loads((root / "manifest.json").read_text())["splits"]["train"]["clips"]
    assert isinstance(full, torch.utils.data.Dataset) and len(full) == n_clips
    ds = open_dataset(root, split="train", labels=["rgb", "objects"], clip_length=4, stride=2)
    assert len(ds) == n_clips * 3  # starts 0, 2 and 4 of 8 frames
    loader = DataLoader(ds, batch_size=2, num_workers=2, shuffle=False)
    seen = 0
    for batch in loader:
        assert batch["rgb"].dtype == torch.uint8 and batch["rgb"].shape[1:] == (4, 32, 32, 3)
        assert batch["object_position"].shape[1:3] == (4, ds.reader.max_objects)
        assert "depth" not in batch
        seen += batch["rgb"].shape[0]
    assert seen == len(ds)
    item = ds[1]  # second clip of the first scene: frames 2..5
    shard = root / item["shard"]
    scenes, imp = np.load(shard / "scene.npy"), np.load(shard / "impossible.npy")
    row = int(np.flatnonzero((scenes == item["scene"]) & (imp == item["impossible"]))[0])
    assert item["start"] == 2
    assert np.array_equal(item["rgb"].numpy(), np.load(shard / "rgb.npy")[row, 2:6])
    assert item["object_position"].shape == (4, ds.reader.max_objects, 3)


def test_loader_rejects_bad_requests(dataset):
    root, _ = dataset
    with pytest.raises(UnknownNameError, match="valid splits"):
        ClipReader(root, split="nope")
    with pytest.raises(UnknownNameError, match="flow"):
        ClipReader(root, labels=["flow"])  # not stored in this dataset
    with pytest.raises(ValueError, match="clip_length"):
        ClipReader(root, clip_length=99)


def test_ood_rule_sends_matching_scenes_to_ood(tmp_path):
    from twinsim.sim.families import sample_scene

    fam = pick_families()[1]
    rule = OodRule(f"family:{fam}")
    assert rule.matches(sample_scene(fam, 1)) and not rule.matches(
        sample_scene(pick_families()[0], 1)
    )
    tasks = plan_scenes(tiny_config(ood=f"family:{fam}"))
    assert all((t.split == "ood") == (t.family == fam) for t in tasks)
    with pytest.raises(SpecError, match="forms"):
        OodRule("weight=3")
    with pytest.raises(UnknownNameError, match="blue"):
        OodRule("color:purple")


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_bar_counts_scenes_and_frames(tmp_path, capsys, workers):
    config = tiny_config(scenes=4, impossible_fraction=0.0, workers=workers)
    generate_dataset(config, tmp_path / "d", progress=True)
    err = capsys.readouterr().err
    # tqdm shows "s/scene" instead of "scene/s" when a scene takes over a second
    assert "4/4" in err and re.search(r"scene/s|s/scene", err) and "frames_s=" in err


def test_command_line_round_trips_through_the_parser():
    """The card's command reproduces the dataset: every data-determining setting, non-default
    values included, parses back to an equal identity (the parser and command_line share one
    table)."""
    import shlex

    from twinsim.sim.datasets.config import CLI_OPTIONS

    from twinsim.cli import build_parser

    fams = pick_families()
    config = DatasetConfig(
        families=fams,
        scenes=7,
        frames=9,
        size=24,
        seed=5,
        labels=("rgb", "visibility"),
        renderer="tiny",
        impossible_fraction=0.25,
        split_fractions=(0.7, 0.2, 0.1),
        ood="mass>2.5",
        shard_size=3,
        previews=True,
        max_attempts=9,
        workers=3,
    )
    words = shlex.split(config.command_line())
    assert words[:2] == ["twinsim", "generate"] and "--workers" not in words
    args = build_parser().parse_args(words[1:])  # ends with --out DIR
    again = DatasetConfig.from_args(args)
    assert again.identity() == config.identity()
    identity_fields = {o.field for o in CLI_OPTIONS if o.identity}
    assert identity_fields == set(config.identity()), "a data-determining field has no flag"
    defaults = DatasetConfig(families=fams, scenes=1, frames=2)
    parsed = build_parser().parse_args(shlex.split(defaults.command_line())[1:])
    assert DatasetConfig.from_args(parsed) == defaults
