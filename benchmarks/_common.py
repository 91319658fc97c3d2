"""Helpers shared by the benchmark scripts: machine info, git commit, tables, RESULTS.md.

Scripts in this folder import it as ``import _common`` (the folder is on ``sys.path`` when a
script is run as ``python benchmarks/bench_x.py``).
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from twinsim.sim.fileio import write_text

if TYPE_CHECKING:
    from twinsim.sim.spec import SceneSpec

__all__ = [
    "RESULTS",
    "append_results",
    "git_commit",
    "load_world_model",
    "machine_info",
    "machine_line",
    "markdown_table",
]

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
_ROOT = RESULTS.parent.parent


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, str]:
    """CPU model, usable cores, OS, Python and key package versions (no heavy imports)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores": str(cores),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": _version("torch"),
        "pybullet": _version("pybullet"),
        "pyrender": _version("pyrender"),
        "numpy": _version("numpy"),
    }


def machine_line() -> str:
    """:func:`machine_info` as one ``key: value, ...`` line."""
    return ", ".join(f"{k}: {v}" for k, v in machine_info().items())


def git_commit() -> str:
    """Short HEAD commit, with ``+dirty`` when the working tree has changes; "unknown" outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def spread(values: Sequence[float], digits: int = 0) -> str:
    """'median (min-max)' of repeated timings (one timing on a shared VM varies by ~15 %)."""
    v = np.asarray(values, float)
    return f"{np.median(v):.{digits}f} ({v.min():.{digits}f}-{v.max():.{digits}f})"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub markdown table; floats are printed with 3 significant digits."""

    def cell(v: object) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def append_results(
    title: str, markdown_table: str | None = None, commands: Sequence[str] = ()
) -> Path:
    """Append a section to benchmarks/RESULTS.md atomically (lock + temp file + rename).

    Args:
        title: the section title; or, when ``markdown_table`` is None, a complete pre-formatted
            section appended verbatim.
        markdown_table: the results table; date, commit and machine info are added above it.
        commands: the command lines that produced it.

    Returns:
        The path of RESULTS.md.
    """
    if markdown_table is None:
        section = title.rstrip() + "\n"
    else:
        now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        lines = [f"## {title}", "", f"- date: {now}, commit: {git_commit()}"]
        lines.append(f"- machine: {machine_line()}")
        lines += [f"- command: `{c}`" for c in commands]
        section = "\n".join([*lines, "", markdown_table.rstrip(), ""])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    # Several benchmarks may finish at once: serialise read-modify-replace on a lock file.
    with open(Path(tempfile.gettempdir()) / "twinsim-results.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
        sep = "" if old.endswith("\n\n") else ("\n" if old.endswith("\n") else "\n\n")
        write_text(RESULTS, old + sep + section)
    return RESULTS


def raw_loop(spec: SceneSpec) -> tuple[int, float]:
    """Frames and seconds of the bare PyBullet loop for ``spec``: the baseline of every benchmark.

    World build, then per frame ``steps_per_frame`` x ``stepSimulation`` (kinematic bodies moved
    along their paths, so the scene is the same one twinsim simulates) and one TinyRenderer
    ``getCameraImage`` with the scene's camera and light.
    """
    from twinsim.sim._pybullet import pybullet as p
    from twinsim.sim.render.camera import camera_pose_at
    from twinsim.sim.render.tiny import gl_matrices
    from twinsim.sim.world.bodies import path_state
    from twinsim.sim.world.world import World

    cam, light = spec.cameras[0], spec.light
    view, proj = gl_matrices(camera_pose_at(cam, 0.0))
    t0 = time.perf_counter()
    with World(spec) as world:
        c, dt, step = world.client, spec.world.timestep, 0
        paths = [(world.body_id(o.name), o.path) for o in spec.objects if o.kinematic]
        for t in range(spec.world.num_frames):
            if t > 0:
                for _ in range(spec.world.steps_per_frame):
                    p.stepSimulation(physicsClientId=c)
                    step += 1
                    for uid, path in paths:
                        pos, orn, _, _ = path_state(path, step * dt)
                        p.resetBasePositionAndOrientation(uid, pos, orn, physicsClientId=c)
            p.getCameraImage(
                cam.width,
                cam.height,
                viewMatrix=view,
                projectionMatrix=proj,
                shadow=int(light.shadows),
                lightDirection=list(light.direction),
                lightColor=list(light.color),
                lightAmbientCoeff=light.ambient,
                lightDiffuseCoeff=light.diffuse,
                lightSpecularCoeff=light.specular,
                renderer=p.ER_TINY_RENDERER,
                physicsClientId=c,
            )
    return spec.world.num_frames, time.perf_counter() - t0


def load_world_model(ckpt: str, **settings):
    """A bundled world model by name, else a checkpoint path, with inference ``settings``."""
    from twinsim.neural.predict import BUNDLED, WorldModel, load_pretrained

    if ckpt in BUNDLED:
        return load_pretrained(ckpt, **settings)
    return WorldModel.load(ckpt, **settings)


def family_groups(items: Sequence[dict], families: Sequence[str]) -> Iterable[tuple[str, list]]:
    """(family, its items) for each family with items (``item["family"]``), then ("all", every
    item): the rows of a per-family table."""
    for fam in [*families, "all"]:
        sel = [it for it in items if fam in ("all", it["family"])]
        if sel:
            yield fam, sel


def sheet_path(given: str | None, default: Path, no_write: bool) -> str | None:
    """Where a benchmark writes its contact sheet: ``given`` (``--sheet``), else the committed
    ``default`` under docs/, which only a run that also writes RESULTS.md replaces (a
    ``--no-write`` trial on a few families had overwritten docs/hybrid_sheet.png); None: none."""
    if given is not None:
        return given
    return None if no_write else str(default)


def save_first_windows(items: Sequence[dict], path: str | Path | None) -> None:
    """A contact sheet of each family's first item (its ``"sheet"`` image), one block per family
    with four white rows between; nothing when there are no items or ``path`` is None."""
    if path is None:
        return
    firsts: dict[str, np.ndarray] = {}
    for it in items:
        firsts.setdefault(it["family"], it["sheet"])
    if not firsts:
        return
    from twinsim.sim.families.sheet import save_png

    gap = ((0, 4), (0, 0), (0, 0))
    save_png(np.concatenate([np.pad(x, gap, constant_values=255) for x in firsts.values()]), path)
    print(f"wrote {path}")


def window_bench_args(
    argv: list[str] | None, doc: str, families: Sequence[str], scenes: int, sheet: Path
) -> tuple[argparse.Namespace, list[str]]:
    """Parse the options of a per-family benchmark over held-out windows (--scenes, --families,
    --workers, --no-write, --sheet); returns the options and the families asked for."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--scenes", type=int, default=scenes, help="held-out windows per family")
    ap.add_argument("--families", default=",".join(families))
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    ap.add_argument(
        "--sheet", help=f"contact sheet PNG (default {sheet}, not written with --no-write)"
    )
    a = ap.parse_args(argv)
    a.sheet = sheet_path(a.sheet, sheet, a.no_write)
    fams = [f for f in a.families.split(",") if f]
    unknown = sorted(set(fams) - set(families))
    if unknown or a.scenes < 1 or a.workers < 1:
        ap.error(f"need --scenes, --workers >= 1 and families among {families} (got {unknown})")
    return a, fams


def map_windows(
    item: Callable[[tuple[str, int]], dict | None],
    jobs: Sequence[tuple[str, int]],
    workers: int,
    describe: Callable[[dict], str],
) -> list[dict]:
    """``item`` over the (family, index) ``jobs`` in ``workers`` processes, in order, with a
    progress line per job (``describe(result)``, or "still window, skipped" for None, which is
    left out of the returned list)."""
    items = []
    with ProcessPoolExecutor(workers) as pool:
        for n, it in enumerate(pool.map(item, jobs), 1):
            if it is None:
                print(f"[{n}/{len(jobs)}] still window, skipped", flush=True)
                continue
            items.append(it)
            print(f"[{n}/{len(jobs)}] {describe(it)}", flush=True)
    return items


def finish_bench(
    script: str, argv: list[str] | None, note: str, table: str, t0: float, write: bool
) -> None:
    """Print ``table`` and the run time; unless ``write`` is False, append them to RESULTS.md
    with the command that reproduces the run (``script`` with ``argv``)."""
    print(table)
    print(f"{time.time() - t0:.0f} s")
    if write:
        cmd = f"python benchmarks/{script} " + " ".join(argv if argv is not None else sys.argv[1:])
        append_results(f"{note}, {time.time() - t0:.0f} s", table, [cmd])
