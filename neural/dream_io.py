"""Checkpoint files of the dream models: ``FOLDER/<stem>.safetensors`` + ``FOLDER/<stem>.json``.

The JSON holds ``format`` (checked on load), the model's dataclass ``config`` and free-form
``info``; weights are safetensors (no pickle). Tensors whose size depends on the data (banks of
episode starts) are resized to the file's before loading.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save
from twinsim.sim.fileio import write_bytes, write_json

__all__ = ["load_checkpoint", "save_checkpoint"]


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
