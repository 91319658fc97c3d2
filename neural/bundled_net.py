"""The hybrid's small bundled networks (the perception and camera models): weights in
``model.safetensors``, what built them in ``config.json``; each file written atomically. No
pickle anywhere."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from torch import nn
from twinsim.sim.fileio import write_bytes, write_json

__all__ = ["load_small_net", "save_small_net"]

Net = TypeVar("Net", bound=nn.Module)


def save_small_net(folder: str | Path, net: nn.Module, info: dict[str, Any]) -> Path:
    """Write ``net``'s weights and ``info`` (JSON) into ``folder`` (created if missing)."""
    from safetensors.torch import save

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # bytes through fileio: safetensors' save_file creates files 0600, not umask's mode
    write_bytes(
        folder / "model.safetensors", save({k: v.contiguous() for k, v in net.state_dict().items()})
    )
    write_json(folder / "config.json", info, indent=2)
    return folder


def load_small_net(
    folder: str | Path, build: Callable[[dict[str, Any]], Net], what: str, module: str
) -> Net:
    """``build(info)`` with the weights of ``folder`` loaded into it.

    Raises:
        FileNotFoundError: no ``model.safetensors`` / ``config.json`` there; the message says
            how to train one (``python -m {module} --out FOLDER``).
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    if not (folder / "model.safetensors").is_file() or not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"no {what} in {folder}; train one with `python -m {module} --out {folder}`"
        )
    net = build(json.loads((folder / "config.json").read_text()))
    net.load_state_dict(load_file(str(folder / "model.safetensors")))
    return net
