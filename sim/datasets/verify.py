"""verify_dataset(): check a dataset directory against its manifest, listing every problem."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from twinsim.sim.datasets.config import SPLITS
from twinsim.sim.datasets.manifest import read_manifest
from twinsim.sim.datasets.writer import SHARD_JSON, sha256_file

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


def _check_shard(root: Path, entry: dict, schema: dict, report: VerifyReport) -> int:
    """Check one listed shard; return its clip count as found on disk."""
    path = root / entry["path"]
    bad = report.problems.append
    doc_path = path / SHARD_JSON
    if not doc_path.is_file():
        bad(f"{entry['path']}: missing (listed in the manifest)")
        return 0
    if sha256_file(doc_path) != entry["shard_json_sha256"]:
        bad(f"{entry['path']}/{SHARD_JSON}: checksum differs from the manifest")
    try:
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        bad(f"{entry['path']}/{SHARD_JSON}: not valid JSON ({exc})")
        return 0
    n = doc.get("num_clips", -1)
    if n != entry["num_clips"] or len(doc.get("clips", [])) != n:
        bad(f"{entry['path']}: {n} clips in shard.json, manifest says {entry['num_clips']}")
    expected = set(schema)
    if set(doc["arrays"]) != expected:
        bad(f"{entry['path']}: arrays {sorted(doc['arrays'])} != schema {sorted(expected)}")
    for name, info in doc["arrays"].items():
        f = path / f"{name}.npy"
        report.files += 1
        if not f.is_file():
            bad(f"{entry['path']}/{name}.npy: missing")
            continue
        try:
            a = np.load(f, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            bad(f"{entry['path']}/{name}.npy: unreadable ({exc})")
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
            for i, (got, want) in enumerate(zip(a.shape, sch["shape"], strict=False)):
                if isinstance(want, int) and got != want:
                    bad(f"{entry['path']}/{name}.npy: axis {i} is {got}, schema says {want}")
                if want == "N" and got != n:
                    bad(f"{entry['path']}/{name}.npy: {got} rows for {n} clips")
        del a
        digest = sha256_file(f)
        if digest != info["sha256"] or digest != entry["arrays"].get(name):
            bad(f"{entry['path']}/{name}.npy: checksum mismatch (corrupted or modified)")
    return n


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
    listed = {s["path"]: s for s in manifest["shards"]}
    for split, info in manifest["splits"].items():
        planned = set(info["shards"])
        missing = sorted(planned - set(listed))
        if missing:
            bad(f"split {split}: shards not listed as complete: {', '.join(missing)}")
        clips = 0
        for path in sorted(planned & set(listed)):
            clips += _check_shard(root, listed[path], schema, report)
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
