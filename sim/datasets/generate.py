"""generate_dataset(): plan, simulate, shard, checksum and describe a dataset; resumable.

Crash safety: shards are renamed into place only when complete, and the manifest (atomic
rewrite) lists a shard only after that rename. ``resume=True`` keeps the listed shards,
discards anything else (temp dirs, unlisted shards) and regenerates the rest from the same
deterministic plan, so the end result equals a clean run's bytes.
"""

from __future__ import annotations

import errno
import json
import math
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from twinsim.sim.budget import check_memory
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
from twinsim.sim.datasets.verify import shard_intact
from twinsim.sim.datasets.writer import (
    ShardJob,
    ShardOutcome,
    assemble_shard,
    build_shard,
    shard_name,
)
from twinsim.sim.fileguard import LOCK_NAME, folder_lock
from twinsim.sim.fileio import TEMP_MARK, write_json
from twinsim.sim.spec import SPEC_VERSION

__all__ = ["GenerateSummary", "check_generate_memory", "generate_dataset", "generate_memory"]

RUN_LOG = "generation_log.jsonl"  # per-run facts (workers, timing); not part of the data
# Files a run killed before its first manifest may leave in an otherwise empty DIR.
_OWN_FILES = (RUN_LOG, LOCK_NAME)
_TEMP = re.escape(TEMP_MARK) + r"\d+-[0-9a-f]+"  # fileio.temp_path: .NAME.tmp-PID-HEX.EXT
_MANIFEST_TEMP = re.compile(rf"\.{re.escape(MANIFEST)}{_TEMP}\.json")
_SHARD_DIR = re.compile(r"shard-\d{5,}")  # writer.shard_name
_SHARD_TEMP = re.compile(rf"\.shard-\d{{5,}}{_TEMP}")  # fileio.atomic_dir's temp folders


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
        with tempfile.TemporaryFile(dir=root):  # nameless where possible: nothing to clean up
            pass
    except OSError as exc:
        raise DatasetError(f"cannot write to output directory {root}: {exc.strerror}") from None
    if not (root / MANIFEST).exists():
        own = [
            p for p in root.iterdir() if p.name in _OWN_FILES or _MANIFEST_TEMP.fullmatch(p.name)
        ]
        if len(own) != len(list(root.iterdir())):
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
    """Drop what a killed run of this tool may have left and the manifest does not list: its
    manifest temp files, temp shard folders and unlisted ``shard-NNNNN`` folders. Anything else
    (a user's files or folders) is left alone; ``verify`` reports it as stray."""
    for p in root.iterdir():
        if _MANIFEST_TEMP.fullmatch(p.name) and p.is_file():
            p.unlink(missing_ok=True)
    for split in SPLITS:
        d = root / split
        if d.is_dir() and not d.is_symlink():
            for p in d.iterdir():
                ours = _SHARD_DIR.fullmatch(p.name) or _SHARD_TEMP.fullmatch(p.name)
                if ours and f"{split}/{p.name}" not in keep and p.is_dir() and not p.is_symlink():
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
        FolderLockedError: another ``generate`` is writing to ``out`` (an OS lock is held on
            ``out/.twinsim.lock`` for the whole run).
        MemoryBudgetError: the estimated memory of one shard per worker exceeds the limit.
    """
    root = Path(out)
    check_clip_length(config)
    check_generate_memory(config)
    if root.exists() and not root.is_dir():
        raise DatasetError(f"--out {root} exists and is not a directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot write to output directory {root}: {exc.strerror}") from None
    with folder_lock(root, "twinsim generate"):
        return _generate_locked(config, root, resume, progress, argv)


def _generate_locked(
    config: DatasetConfig, root: Path, resume: bool, progress: bool, argv: list[str] | None
) -> GenerateSummary:
    from tqdm import tqdm

    t0 = time.perf_counter()
    existing = _prepare(root, config, resume)
    tasks = plan_scenes(config)
    shards = _shards(tasks, config.shard_size)
    manifest = _new_manifest(config, _plan_summary(config, tasks, shards))
    if existing is not None:  # keep listed shards of this plan that pass verify's checks
        planned = {f"{split}/{shard_name(i)}" for split, i, _ in shards}
        done = [
            s
            for s in existing["shards"]
            if s["path"] in planned and shard_intact(root, s, existing)
        ]
        kept = {s["path"] for s in done}
        manifest["shards"] = done
        manifest["failures"] = [
            f for f in existing["failures"] if isinstance(f, dict) and f.get("shard") in kept
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


_ITEMSIZE = {"uint8": 1, "bool": 1, "int32": 4, "float32": 4, "int64": 8, "float64": 8}
_EST_OBJECTS = 16  # K for the estimate (object arrays are small next to images)


def generate_memory(config: DatasetConfig) -> int:
    """Estimated peak bytes of ``generate``: every worker holds one shard's clips twice (the
    clips, then the stacked arrays) plus the clip it is rendering."""
    clip = 0
    for info in array_schema(config).values():
        dims = [d if isinstance(d, int) else _EST_OBJECTS for d in info["shape"][1:]]
        clip += math.prod(dims) * _ITEMSIZE.get(info["dtype"], 8)
    if "flow" not in config.labels and "visibility" not in config.labels:
        clip += config.frames * config.size**2 * 8  # depth + segmentation rendered anyway
    pairs = 2 if config.impossible_fraction > 0 else 1
    per_shard = min(config.shard_size, config.scenes) * pairs
    shards = math.ceil(config.scenes / config.shard_size)
    parallel = max(1, min(config.num_workers, shards)) if config.backend == "local" else 1
    return clip * (2 * per_shard + 1) * parallel


def check_generate_memory(config: DatasetConfig) -> None:
    """Refuse (MemoryBudgetError) a dataset whose :func:`generate_memory` exceeds the limit."""
    check_memory(
        generate_memory(config),
        f"generate --size {config.size} --frames {config.frames} --shard-size "
        f"{config.shard_size} with {config.num_workers} worker(s)",
        "lower --size, --frames, --shard-size or --workers",
    )
