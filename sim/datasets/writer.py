"""Writing one shard: ``<split>/shard-NNNNN/`` with one ``.npy`` per array plus ``shard.json``.

The shard is assembled in a hidden temp directory and renamed into place only when every
file is written, so a reader (or a resumed run) never sees half a shard. :func:`build_shard`
simulates and writes a whole shard in one process, so a pool worker can do it without sending
its frames back to the parent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from twinsim.sim.datasets.config import DatasetConfig, DatasetError
from twinsim.sim.datasets.manifest import array_schema
from twinsim.sim.datasets.scene import ClipResult, SceneTask, UnitResult, run_scene
from twinsim.sim.fileio import atomic_dir, write_json, write_mp4
from twinsim.sim.labels import pad_bodies

__all__ = [
    "SHARD_JSON",
    "ShardJob",
    "ShardOutcome",
    "assemble_shard",
    "build_shard",
    "sha256_file",
    "shard_name",
    "stack_clips",
    "write_shard",
]


@dataclass(frozen=True)
class ShardJob:
    """One shard to produce: where it goes and the scene tasks it holds, in order."""

    root: Path
    split: str
    index: int
    tasks: tuple[SceneTask, ...]

    @property
    def path(self) -> str:
        """The shard's path relative to the dataset root (as the manifest lists it)."""
        return f"{self.split}/{shard_name(self.index)}"


@dataclass
class ShardOutcome:
    """A written shard: its manifest entry, the engine failures retried in it, its clip count."""

    entry: dict[str, Any]
    failures: list[dict[str, Any]] = field(default_factory=list)
    clips: int = 0


SHARD_JSON = "shard.json"


def shard_name(index: int) -> str:
    """Directory name of shard ``index`` within its split."""
    return f"shard-{index:05d}"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stack_clips(clips: list[ClipResult], config: DatasetConfig) -> dict[str, np.ndarray]:
    """Stack the clips' arrays over a new leading axis N (objects padded to the largest K)."""
    schema = array_schema(config)
    k_max = max(len(c.meta["names"]) for c in clips)
    out: dict[str, np.ndarray] = {}
    for name, info in schema.items():
        if info["label"] in ("meta", "contacts"):
            continue
        parts = []
        for c in clips:
            a = c.arrays[name]
            parts.append(pad_bodies(name, a, k_max) if name.startswith("object_") else a)
        out[name] = np.ascontiguousarray(np.stack(parts).astype(info["dtype"], copy=False))
    if "contacts" in schema:
        rows = [
            np.concatenate([np.full((len(c.arrays["contacts"]), 1), r), c.arrays["contacts"]], 1)
            for r, c in enumerate(clips)
        ]
        out["contacts"] = np.concatenate(rows).astype(np.float64).reshape(-1, 11)
    meta = [c.meta for c in clips]
    out["scene"] = np.array([m["scene"] for m in meta], np.int64)
    out["impossible"] = np.array([m["role"] == "impossible" for m in meta], np.bool_)
    out["pair_id"] = np.array([m["pair_id"] for m in meta], np.int64)
    out["violation_frame"] = np.array(
        [m["violation"]["frame"] if m["violation"] else -1 for m in meta], np.int32
    )
    out["num_objects"] = np.array([len(m["names"]) for m in meta], np.int32)
    return out


def write_shard(
    root: Path, split: str, index: int, clips: list[ClipResult], config: DatasetConfig
) -> dict[str, Any]:
    """Write a complete shard atomically and return its manifest entry (with checksums)."""
    name = shard_name(index)
    final = root / split / name
    arrays = stack_clips(clips, config)
    files: dict[str, Any] = {}
    previews = []
    # A shard left by a killed run after its rename but before the manifest update is replaced.
    with atomic_dir(final) as tmp:
        for key in sorted(arrays):
            a = arrays[key]
            path = tmp / f"{key}.npy"
            np.save(path, a, allow_pickle=False)
            files[key] = {
                "shape": list(a.shape),
                "dtype": a.dtype.name,
                "sha256": sha256_file(path),
                "bytes": path.stat().st_size,
            }
        if config.previews:
            (tmp / "previews").mkdir()
            for c in clips:
                stem = f"{c.meta['scene']:07d}-{c.meta['role']}"
                fps = c.meta["spec"]["world"]["fps"]
                write_mp4(tmp / "previews" / f"{stem}.mp4", c.arrays["rgb"], fps)
                previews.append(f"previews/{stem}.mp4")
        doc = {
            "split": split,
            "shard": name,
            "num_clips": len(clips),
            "num_frames": config.frames,
            "arrays": files,
            "clips": [{"row": r, **c.meta} for r, c in enumerate(clips)],
            "previews": previews,
        }
        write_json(tmp / SHARD_JSON, doc, sort_keys=True)
    return {
        "path": f"{split}/{name}",
        "split": split,
        "index": index,
        "num_clips": len(clips),
        "num_scenes": len({c.meta["scene"] for c in clips}),
        "max_objects": int(arrays["num_objects"].max()),
        "shard_json_sha256": sha256_file(final / SHARD_JSON),
        "arrays": {k: v["sha256"] for k, v in files.items()},
        "bytes": sum(v["bytes"] for v in files.values()),
    }


def assemble_shard(
    job: ShardJob,
    results: Iterable[UnitResult],
    config: DatasetConfig,
    on_scene: Callable[[int, int], object] | None = None,
) -> ShardOutcome:
    """Collect the scene ``results`` of ``job`` (in order) and write the shard.

    Raises:
        DatasetError: a scene failed all ``config.max_attempts`` attempts (nothing is written).
    """
    clips: list[ClipResult] = []
    failures: list[dict[str, Any]] = []
    for _, res in zip(job.tasks, results, strict=True):
        mine = [{**f, "shard": job.path} for f in res.failures]
        failures.extend(mine)
        if not res.clips:
            raise DatasetError(
                f"scene {res.task.index} ({res.task.family}) failed all "
                f"{config.max_attempts} attempts; last error: {mine[-1]['error']}"
            )
        clips.extend(res.clips)
        if on_scene is not None:  # progress: one scene and its clips done
            on_scene(1, len(res.clips))
    entry = write_shard(job.root, job.split, job.index, clips, config)
    return ShardOutcome(entry, failures, len(clips))


def build_shard(job: ShardJob, config: DatasetConfig) -> ShardOutcome:
    """Simulate every scene of ``job`` in this process and write the shard."""
    return assemble_shard(job, (run_scene(t, config) for t in job.tasks), config)
