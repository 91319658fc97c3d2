"""generate_dataset(): plan, simulate, shard, checksum and describe a dataset; resumable.

Crash safety: shards are renamed into place only when complete, and the manifest (atomic
rewrite) lists a shard only after that rename. ``resume=True`` keeps the listed shards,
discards anything else (temp dirs, unlisted shards) and regenerates the rest from the same
deterministic plan, so the end result equals a clean run's bytes.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from twinsim.sim.datasets.backends import run_ordered
from twinsim.sim.datasets.config import SPLITS, DatasetConfig, DatasetError
from twinsim.sim.datasets.manifest import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    array_schema,
    check_compatible,
    read_manifest,
)
from twinsim.sim.datasets.scene import SceneTask, check_clip_length, plan_scenes, run_scene
from twinsim.sim.datasets.writer import (
    ShardJob,
    ShardOutcome,
    assemble_shard,
    build_shard,
    shard_name,
)
from twinsim.sim.fileio import write_json
from twinsim.sim.spec import SPEC_VERSION

__all__ = ["GenerateSummary", "generate_dataset"]

RUN_LOG = "generation_log.jsonl"  # per-run facts (workers, timing); not part of the data
# Files a run killed before its first manifest may leave in an otherwise empty DIR.
_OWN_TEMP = (RUN_LOG, ".write-test-", f".{MANIFEST}.tmp-")


@dataclass(frozen=True)
class GenerateSummary:
    """What a run did (printed by the CLI)."""

    root: Path
    clips: int
    scenes: int
    frames: int
    shards: int
    shards_written: int
    bytes: int
    failures: int
    seconds: float
    frames_generated: int

    @property
    def bytes_per_frame(self) -> float:
        """Dataset bytes on disk per stored frame."""
        return self.bytes / max(1, self.frames)

    def __str__(self) -> str:
        rate = self.frames_generated / max(self.seconds, 1e-9)
        return (
            f"{self.root}: {self.scenes} scenes, {self.clips} clips, {self.frames} frames in "
            f"{self.shards} shards ({self.shards_written} written now), "
            f"{self.bytes / 1e6:.1f} MB ({self.bytes_per_frame:.0f} B/frame); "
            f"{self.failures} engine failures retried; {self.seconds:.1f} s, {rate:.0f} frames/s"
        )


def _shards(tasks: list[SceneTask], size: int) -> list[tuple[str, int, list[SceneTask]]]:
    out = []
    for split in SPLITS:
        mine = [t for t in tasks if t.split == split]
        for k in range(0, len(mine), size):
            out.append((split, k // size, mine[k : k + size]))
    return out


def _plan_summary(config: DatasetConfig, tasks: list[SceneTask], shards: list) -> dict[str, Any]:
    splits: dict[str, Any] = {}
    for split in SPLITS:
        mine = [t for t in tasks if t.split == split]
        if mine or split != "ood":
            splits[split] = {
                "scenes": len(mine),
                "clips": sum(2 if t.violation else 1 for t in mine),
                "pairs": sum(1 for t in mine if t.violation),
                "shards": [f"{s}/{shard_name(i)}" for s, i, _ in shards if s == split],
            }
    return {
        "splits": splits,
        "counts": {
            "scenes": len(tasks),
            "clips": sum(2 if t.violation else 1 for t in tasks),
            "frames": sum(2 if t.violation else 1 for t in tasks) * config.frames,
            "pairs": sum(1 for t in tasks if t.violation),
            "by_family": dict(Counter(t.family for t in tasks)),
            "by_violation": dict(Counter(t.violation for t in tasks if t.violation)),
        },
    }


def _new_manifest(config: DatasetConfig, summary: dict[str, Any]) -> dict[str, Any]:
    from twinsim.sim.rollout import LABEL_SCHEMA_VERSION

    rule = config.ood_rule
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "label_schema_version": LABEL_SCHEMA_VERSION,
        "spec_version": SPEC_VERSION,
        "config": config.identity(),
        "command_line": config.command_line(),
        "ood_rule": None
        if rule is None
        else {"rule": rule.text, "meaning": "scenes matching it form the 'ood' split"},
        "arrays": array_schema(config),
        "complete": False,
        "shards": [],
        "failures": [],
        **summary,
    }


def _prepare(root: Path, config: DatasetConfig, resume: bool) -> dict[str, Any] | None:
    """Check the output directory; return the existing manifest when resuming."""
    if root.exists() and not root.is_dir():
        raise DatasetError(f"--out {root} exists and is not a directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DatasetError(f"cannot write to output directory {root}: {exc.strerror}") from None
    if not (root / MANIFEST).exists():
        if any(not p.name.startswith(_OWN_TEMP) for p in root.iterdir()):
            raise DatasetError(f"--out {root} is not empty and holds no twinsim dataset manifest")
        return None
    existing = read_manifest(root)
    check_compatible(existing, config, root)
    if not resume:
        state = "complete" if existing.get("complete") else "partial"
        raise DatasetError(
            f"--out {root} already holds a {state} dataset with these settings; "
            "pass --resume to finish or check it, or choose another --out"
        )
    return existing


def _clean(root: Path, keep: set[str]) -> None:
    """Drop everything a killed run may have left that the manifest does not list."""
    for p in [*root.glob(".*.tmp-*"), *root.glob(".write-test-*")]:
        p.unlink(missing_ok=True)
    for split in SPLITS:
        d = root / split
        if d.is_dir():
            for p in d.iterdir():
                if f"{split}/{p.name}" not in keep:
                    shutil.rmtree(p, ignore_errors=True)


def _disk_error(exc: OSError, root: Path) -> DatasetError:
    if exc.errno == errno.ENOSPC:
        return DatasetError(
            f"disk full while writing {root}; free space and rerun with --resume "
            "(complete shards are kept)"
        )
    return DatasetError(f"cannot write dataset to {root}: {exc}")


def _produce(
    jobs: list[ShardJob], config: DatasetConfig, advance: Callable[[int, int], None]
) -> Iterator[ShardOutcome]:
    """Written shards in order: pool workers build whole shards, else the driver writes them.

    With a local pool and at least one shard per worker, each worker simulates *and* writes its
    shards, so no frames cross a process boundary. Otherwise (one worker, fewer shards than
    workers, or Ray, whose nodes may not share the output directory) scenes run as tasks and
    this process writes the shards.
    """
    whole_shards = config.backend == "local" and 1 < config.num_workers <= len(jobs)
    if whole_shards:
        work = run_ordered(build_shard, jobs, config)
    else:
        work = run_ordered(run_scene, [t for job in jobs for t in job.tasks], config)
    try:
        for job in jobs:
            if whole_shards:
                outcome = next(work)
                advance(len(job.tasks), outcome.clips)
            else:
                outcome = assemble_shard(job, islice(work, len(job.tasks)), config, advance)
            yield outcome
    finally:  # stop the pool / Ray tasks when the caller stops early
        getattr(work, "close", lambda: None)()


def generate_dataset(
    config: DatasetConfig,
    out: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    argv: list[str] | None = None,
) -> GenerateSummary:
    """Generate (or with ``resume`` finish) the dataset ``config`` describes into ``out``.

    Raises:
        DatasetError: existing DIR with other settings / without ``resume``, unwritable DIR,
            full disk, or a scene that failed ``config.max_attempts`` times.
    """
    from tqdm import tqdm

    root = Path(out)
    t0 = time.perf_counter()
    check_clip_length(config)
    existing = _prepare(root, config, resume)
    tasks = plan_scenes(config)
    shards = _shards(tasks, config.shard_size)
    manifest = _new_manifest(config, _plan_summary(config, tasks, shards))
    if existing is not None:
        done = [s for s in existing["shards"] if (root / s["path"] / "shard.json").is_file()]
        manifest["shards"] = done
        manifest["failures"] = [
            f for f in existing["failures"] if any(f["shard"] == s["path"] for s in done)
        ]
    keep = {s["path"] for s in manifest["shards"]}
    todo = [s for s in shards if f"{s[0]}/{shard_name(s[1])}" not in keep]
    jobs = [ShardJob(root, split, index, tuple(group)) for split, index, group in todo]
    written, frames_done = 0, 0
    outcomes: Iterator[ShardOutcome] = iter(())
    try:
        _clean(root, keep)
        write_json(root / MANIFEST, manifest, sort_keys=True)
        total = sum(len(job.tasks) for job in jobs)
        bar = tqdm(total=total, unit="scene", desc="generate", disable=not progress)

        def advance(scenes: int, clips: int) -> None:
            nonlocal frames_done
            bar.update(scenes)
            frames_done += clips * config.frames
            rate = frames_done / max(time.perf_counter() - t0, 1e-9)
            bar.set_postfix(frames_s=f"{rate:.0f}", refresh=False)

        outcomes = _produce(jobs, config, advance)
        for outcome in outcomes:
            manifest["failures"].extend(outcome.failures)
            manifest["shards"].append(outcome.entry)
            write_json(root / MANIFEST, manifest, sort_keys=True)
            written += 1
        bar.close()
        manifest["shards"].sort(key=lambda s: (SPLITS.index(s["split"]), s["index"]))
        manifest["failures"].sort(key=lambda f: (f["scene"], f["attempt"]))
        manifest["max_objects"] = max((s["max_objects"] for s in manifest["shards"]), default=0)
        manifest["bytes"] = sum(s["bytes"] for s in manifest["shards"])
        manifest["complete"] = True
        write_json(root / MANIFEST, manifest, sort_keys=True)
        from twinsim.sim.datasets.card import write_card

        write_card(root, manifest)
        seconds = time.perf_counter() - t0
        with open(root / RUN_LOG, "a", encoding="utf-8") as fh:
            fh.write(
                json.dumps(
                    {
                        "argv": argv if argv is not None else sys.argv,
                        "backend": config.backend,
                        "workers": config.num_workers,
                        "resumed": existing is not None,
                        "shards_written": written,
                        "seconds": round(seconds, 3),
                        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    }
                )
                + "\n"
            )
    except OSError as exc:
        raise _disk_error(exc, root) from exc
    finally:  # stop a pool / Ray job early when a shard or scene fails
        getattr(outcomes, "close", lambda: None)()
    counts = manifest["counts"]
    return GenerateSummary(
        root=root,
        clips=counts["clips"],
        scenes=counts["scenes"],
        frames=counts["frames"],
        shards=len(manifest["shards"]),
        shards_written=written,
        bytes=manifest["bytes"],
        failures=len(manifest["failures"]),
        seconds=seconds,
        frames_generated=frames_done,
    )
