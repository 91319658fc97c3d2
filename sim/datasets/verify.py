"""verify_dataset(): check a dataset directory against its manifest, listing every problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from twinsim.sim.datasets.config import SPLITS, DatasetError
from twinsim.sim.datasets.manifest import MANIFEST, read_manifest, read_shard_json
from twinsim.sim.datasets.writer import SHARD_JSON, sha256_file
from twinsim.sim.fileguard import UnsafePathError, confined

__all__ = ["VerifyReport", "verify_dataset"]


@dataclass
class VerifyReport:
    """Result of :func:`verify_dataset`: ``ok`` when ``problems`` is empty."""

    root: Path
    shards: int = 0
    clips: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        head = f"{self.root}: {self.shards} shards, {self.clips} clips, {self.files} files checked"
        if self.ok:
            return head + ": OK"
        return (
            head
            + f": {len(self.problems)} problem(s)\n"
            + "\n".join(f"  - {p}" for p in self.problems)
        )


def _check_shard(
    root: Path, entry: dict, schema: dict, report: VerifyReport, frames: int | None = None
) -> int:
    """Check one listed shard; return its clip count as found on disk.

    ``frames``: the manifest's ``config.frames``; every per-frame array must have that many.
    """
    bad = report.problems.append
    try:
        path = confined(root, entry["path"], f"{root / MANIFEST} shards[{entry['path']!r}]")
    except UnsafePathError as exc:
        bad(str(exc))
        return 0
    doc_path = path / SHARD_JSON
    if not doc_path.is_file():
        bad(f"{entry['path']}: missing (listed in the manifest)")
        return 0
    if sha256_file(doc_path) != entry["shard_json_sha256"]:
        bad(f"{entry['path']}/{SHARD_JSON}: checksum differs from the manifest")
    try:
        doc = read_shard_json(doc_path)
    except DatasetError as exc:
        bad(str(exc))
        return 0
    n = doc["num_clips"]
    if n != entry["num_clips"]:
        bad(f"{entry['path']}: {n} clips in shard.json, manifest says {entry['num_clips']}")
    if frames is not None and doc["num_frames"] != frames:
        bad(f"{entry['path']}: shard.json num_frames {doc['num_frames']}, manifest frames {frames}")
    expected = set(schema)
    if set(doc["arrays"]) != expected:
        bad(f"{entry['path']}: arrays {sorted(doc['arrays'])} != schema {sorted(expected)}")
    for name, info in doc["arrays"].items():
        report.files += 1
        try:
            f = confined(path, f"{name}.npy", f"{doc_path} arrays")
        except UnsafePathError as exc:
            bad(str(exc))
            continue
        if not f.is_file():
            bad(f"{entry['path']}/{name}.npy: missing")
            continue
        size = f.stat().st_size
        if size != info["bytes"]:
            bad(f"{entry['path']}/{name}.npy: {size} bytes, shard.json says {info['bytes']}")
        try:
            a = np.load(f, mmap_mode="r", allow_pickle=False)
        except Exception as exc:  # numpy raises ValueError, OSError, EOFError, ... on damage
            bad(f"{entry['path']}/{name}.npy: unreadable ({type(exc).__name__}: {exc})")
            continue
        if list(a.shape) != info["shape"] or a.dtype.name != info["dtype"]:
            bad(
                f"{entry['path']}/{name}.npy: shape {list(a.shape)} dtype {a.dtype.name}, "
                f"shard.json says {info['shape']} {info['dtype']}"
            )
        sch = schema.get(name)
        if sch is not None:
            if a.dtype.name != sch["dtype"]:
                bad(f"{entry['path']}/{name}.npy: dtype {a.dtype.name}, schema {sch['dtype']}")
            if len(a.shape) != len(sch["shape"]):
                bad(f"{entry['path']}/{name}.npy: {a.ndim} axes, schema {sch['shape']}")
            for i, (got, want) in enumerate(zip(a.shape, sch["shape"], strict=False)):
                if isinstance(want, int) and got != want:
                    bad(f"{entry['path']}/{name}.npy: axis {i} is {got}, schema says {want}")
                if want == "N" and got != n:
                    bad(f"{entry['path']}/{name}.npy: {got} rows for {n} clips")
                if i == 1 and sch["per_frame"] and frames is not None and got != frames:
                    bad(f"{entry['path']}/{name}.npy: {got} frames, manifest frames {frames}")
        del a
        digest = sha256_file(f)
        if digest != info["sha256"] or digest != entry["arrays"].get(name):
            bad(f"{entry['path']}/{name}.npy: checksum mismatch (corrupted or modified)")
    return n


def shard_intact(root: Path, entry: dict, manifest: dict) -> bool:
    """True when a listed shard passes every check of ``verify`` (sizes, shapes, checksums)."""
    report = VerifyReport(root)
    _check_shard(root, entry, manifest["arrays"], report, manifest["config"]["frames"])
    return report.ok


def verify_dataset(root: str | Path) -> VerifyReport:
    """Check counts, shapes, dtypes and sha256 checksums of every shard of ``root``.

    Raises:
        DatasetError: when ``root`` has no readable manifest (nothing to verify against).
    """
    root = Path(root)
    manifest = read_manifest(root)
    report = VerifyReport(root)
    bad = report.problems.append
    if not manifest.get("complete"):
        bad("manifest is not complete (generation unfinished): rerun generate with --resume")
    schema = manifest["arrays"]
    frames = manifest["config"]["frames"]
    for name, sch in schema.items():
        if sch["per_frame"] and sch["shape"][1:2] != [frames]:
            bad(f"manifest arrays.{name}: shape {sch['shape']} disagrees with frames {frames}")
    listed = {s["path"]: s for s in manifest["shards"]}
    for split, info in manifest["splits"].items():
        planned = set(info["shards"])
        missing = sorted(planned - set(listed))
        if missing:
            bad(f"split {split}: shards not listed as complete: {', '.join(missing)}")
        clips = 0
        for path in sorted(planned & set(listed)):
            clips += _check_shard(root, listed[path], schema, report, frames)
            report.shards += 1
        report.clips += clips
        if not missing and clips != info["clips"]:
            bad(f"split {split}: {clips} clips on disk, manifest plans {info['clips']}")
    extra = sorted(set(listed) - {p for s in manifest["splits"].values() for p in s["shards"]})
    for path in extra:
        bad(f"{path}: listed in the manifest but not in any split's plan")
    for split in SPLITS:
        d = root / split
        if d.is_dir():
            for p in sorted(d.iterdir()):
                if f"{split}/{p.name}" not in listed:
                    bad(f"{split}/{p.name}: on disk but not in the manifest (stray or partial)")
    if report.clips and report.clips != manifest["counts"]["clips"] and not report.problems:
        bad(f"{report.clips} clips found, manifest counts {manifest['counts']['clips']}")
    return report
