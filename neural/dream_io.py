"""What the two dream models share: checkpoint files, the action input and the training loop.

Checkpoints are ``FOLDER/<stem>.safetensors`` + ``FOLDER/<stem>.json``.

The JSON holds ``format`` (checked on load), the model's dataclass ``config`` and free-form
``info``; weights are safetensors (no pickle). Tensors whose size depends on the data (banks of
episode starts) are resized to the file's before loading.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save
from twinsim.sim.fileio import write_bytes, write_json

__all__ = ["encode_action", "fit", "load_checkpoint", "save_checkpoint"]


def save_checkpoint(
    model: torch.nn.Module, folder: str | Path, stem: str, fmt: str, info: dict | None
) -> None:
    """Write ``model`` (with a dataclass ``model.cfg``) atomically, through fileio."""
    folder = Path(folder)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    write_bytes(folder / f"{stem}.safetensors", save(tensors, metadata={"format": fmt}))
    meta = {"format": fmt, "config": asdict(model.cfg), "info": info or {}}
    write_json(folder / f"{stem}.json", meta, indent=2)


def load_checkpoint(
    cls: Any, cfg_cls: Any, folder: str | Path, stem: str, fmt: str, what: str, sized: str
) -> Any:
    """Build ``cls(cfg_cls(**config))`` and load its weights; ``sized`` names the buffer whose
    length comes from the file. Errors name the missing file or the wrong format."""
    folder = Path(folder)
    meta_path, w_path = folder / f"{stem}.json", folder / f"{stem}.safetensors"
    for path in (meta_path, w_path):
        if not path.is_file():
            raise FileNotFoundError(f"{what} checkpoint file {str(path)!r} is missing")
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != fmt:
        raise ValueError(f"{meta_path}: not a {what} (format {meta.get('format')!r})")
    model = cls(cfg_cls(**meta["config"]))
    tensors = load_file(str(w_path))
    setattr(model, sized, torch.zeros_like(tensors[sized]))
    model.load_state_dict(tensors)
    return model.eval()


def encode_action(act: torch.Tensor, num_actions: int, batch: int) -> torch.Tensor:
    """(batch, A) float input: one-hot for a Discrete action (``num_actions > 0``), else as is."""
    if num_actions:
        return torch.nn.functional.one_hot(act.long().reshape(-1), num_actions).float()
    return act.float().reshape(batch, -1)


def fit(
    model: torch.nn.Module,
    steps: int,
    lr: float,
    loss_step: Callable[[], tuple[torch.Tensor, Callable[[], str]]],
    *,
    seconds: float | None,
    log: Callable[[str], object],
    log_every: int,
) -> torch.nn.Module:
    """AdamW with a cosine schedule over ``steps`` calls of ``loss_step``, within ``seconds``.

    ``loss_step()`` returns the loss and a function that words it; the words are only built on
    logged steps (``.item()`` waits for the device).
    """
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    start = time.monotonic()
    for step in range(steps):
        loss, words = loss_step()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % log_every == 0 or step == steps - 1:
            log(f"  step {step}/{steps} {words()}")
        if seconds is not None and time.monotonic() - start > seconds:
            log(f"  time budget reached at step {step}")
            break
    return model.eval()
