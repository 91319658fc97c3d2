"""Training-run safety: run-folder checks, pruning by step, finite guards and memory estimates.

Each guard turns a way to lose work or crash the process into a one-line :class:`UserError`:

* :func:`prepare_run_folder` refuses to train into a folder that holds another run unless the
  user asked to ``resume`` it or to ``overwrite`` it (then only the files a run writes go);
* :func:`prune_checkpoints` keeps the newest checkpoints *by step*, never a later step's;
* :func:`check_backward_safe` stops before ``backward()`` on a non-finite loss or warp grid
  (torch's CPU ``grid_sample`` backward crashes the process on a NaN grid);
* :func:`check_finite_model` refuses non-finite weights (after a step, or in a checkpoint);
* :func:`check_model_memory` estimates a model's memory before allocating it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import torch
from twinsim.sim.budget import MemoryBudgetError, available_memory, check_memory
from twinsim.sim.errors import UserError

__all__ = [
    "RUN_FILES",
    "MemoryBudgetError",
    "NonFiniteError",
    "RunFolderError",
    "available_memory",
    "check_backward_safe",
    "check_finite_model",
    "check_memory",
    "check_model_memory",
    "checkpoint_step",
    "model_parameters",
    "prepare_run_folder",
    "prune_checkpoints",
]

# What `twinsim train` writes into a run folder (and all that --overwrite removes).
RUN_FILES = ("checkpoints", "last.json", "config.json", "log.jsonl", "tb", "footage_report.txt")


class RunFolderError(UserError, ValueError):
    """The run folder holds another run and neither resume nor overwrite was asked for."""


class NonFiniteError(UserError, ValueError):
    """Training produced (or a checkpoint holds) NaN or infinite values."""


def prepare_run_folder(run: Path, resume: bool, overwrite: bool, rank: int = 0) -> None:
    """Check (and with ``overwrite`` clear) the run folder before training writes to it.

    Raises:
        RunFolderError: both flags, or a non-empty folder without either flag.
    """
    if resume and overwrite:
        raise RunFolderError("--resume and --overwrite exclude each other; choose one")
    if run.exists() and not run.is_dir():
        raise RunFolderError(f"--out {run} exists and is not a folder")
    present = sorted(p.name for p in run.iterdir()) if run.is_dir() else []
    if not present or resume:
        return
    if not overwrite:
        shown = ", ".join(present[:5]) + (", ..." if len(present) > 5 else "")
        raise RunFolderError(
            f"--out {run} is not empty ({shown}); pass --resume to continue the run saved "
            "there, --overwrite to replace its checkpoints and logs, or choose another --out"
        )
    if rank == 0:  # under torchrun one process clears, before any process writes
        for name in RUN_FILES:
            p = run / name
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            elif p.exists() or p.is_symlink():
                p.unlink()


def checkpoint_step(folder: Path) -> int | None:
    """The step of a ``step-NNNNNNN`` checkpoint folder name, else None."""
    m = re.fullmatch(r"step-(\d+)", folder.name)
    return int(m[1]) if m else None


def prune_checkpoints(ckdir: Path, step: int, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest checkpoints at or before ``step`` (by step number,
    not name); a checkpoint of a later step (not this run's) is never touched. Returns the
    deleted folders."""
    mine = sorted(
        (s, p)
        for p in ckdir.iterdir()
        if p.is_dir() and (s := checkpoint_step(p)) is not None and s <= step
    )
    gone = [p for _, p in mine[: max(0, len(mine) - keep)]]
    for p in gone:
        shutil.rmtree(p, ignore_errors=True)
    return gone


def _graph_nodes(root):
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(fn for fn, _ in node.next_functions)


def check_backward_safe(
    loss: torch.Tensor, step: int, hint: Callable[[], str] | None = None
) -> None:
    """Raise NonFiniteError unless ``loss`` and every warp grid it depends on are finite.

    ``grid_sample`` returns finite values for a NaN grid (the border clamps it) but its CPU
    backward then dies with SIGSEGV, so the grids saved for backward are checked too.
    """
    what = None
    if not bool(torch.isfinite(loss.detach()).all()):
        what = f"the loss is {float(loss.detach())}"
    elif loss.grad_fn is not None:
        for node in _graph_nodes(loss.grad_fn):
            if type(node).__name__.startswith("GridSampler"):
                grid = getattr(node, "_saved_grid", None)
                if grid is not None and not bool(torch.isfinite(grid).all()):
                    what = "the predicted flow (warp grid) is not finite"
                    break
    if what is not None:
        more = f"; {hint()}" if hint is not None else ""
        raise NonFiniteError(f"training stopped at step {step + 1}: {what}{more}")


def check_finite_model(model: torch.nn.Module, where: str | Callable[[], str]) -> None:
    """Raise NonFiniteError naming the first parameter or buffer with NaN or inf values
    (``where``, or its result when callable, says which file or run)."""
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        if t.is_floating_point() and not bool(torch.isfinite(t.detach()).all()):
            place = where() if callable(where) else where
            raise NonFiniteError(f"{place}: tensor {name} holds NaN or infinite values")


def model_parameters(build) -> int:
    """Parameter + buffer count of ``build()`` constructed on the meta device (no memory)."""
    with torch.device("meta"):
        model = build()
    return sum(t.numel() for t in [*model.parameters(), *model.buffers()])


def check_model_memory(model_cfg, what: str, training: bool = False, batch: int = 1) -> int:
    """Estimate the bytes to build (and with ``training`` to train) a FlowMemoryNet of
    ``model_cfg``, refuse when it exceeds the limit, and return the estimate.

    Weights are counted exactly (built on the meta device); training adds gradients and two
    Adam moments, and activations are estimated as 12 floats per feature-map element.
    """
    from twinsim.neural.model import FlowMemoryNet

    params = model_parameters(lambda: FlowMemoryNet(model_cfg))
    need = params * 4 * (4 if training else 1)
    r = model_cfg.resolution
    side = r // model_cfg.stem_stride
    maps = model_cfg.stem_channels * r * r + sum(
        c * (side // 2**i) ** 2 for i, c in enumerate(model_cfg.channels)
    )
    need += 12 * 4 * maps * batch
    check_memory(need, what, "use fewer or narrower model.channels, or a smaller batch/resolution")
    return need
