"""Checkpoints: a folder with ``model.safetensors`` + ``config.json`` (+ ``state.safetensors`` and
``state.json`` with optimiser, RNG and step for resuming). No pickle anywhere.

A training run keeps ``RUN/checkpoints/step-NNNNNN/`` folders, each written into a temporary
folder and renamed into place, and ``RUN/last.json`` (atomically replaced) naming the newest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from twinsim.neural.config import RunConfig
from twinsim.neural.model import FlowMemoryNet
from twinsim.sim.errors import UserError
from twinsim.sim.fileguard import UnsafePathError, confined
from twinsim.sim.fileio import atomic_dir, write_bytes
from twinsim.sim.fileio import write_text as write_atomic  # the name train.py uses

__all__ = [
    "CheckpointError",
    "load_model",
    "load_state",
    "read_tensors",
    "resolve_checkpoint",
    "save_checkpoint",
    "write_atomic",
]

FORMAT = "twinsim-worldmodel"


class CheckpointError(UserError, ValueError):
    """A checkpoint is missing, malformed or does not match the expected configuration."""


def _optim_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[Any]]:
    sd = opt.state_dict()
    tensors = {}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            t = v if torch.is_tensor(v) else torch.tensor(v)
            tensors[f"optim.{idx}.{k}"] = t.detach().clone().contiguous()
    return tensors, sd["param_groups"]


def save_checkpoint(
    folder: str | Path,
    model: torch.nn.Module,
    cfg: RunConfig,
    optimizer: torch.optim.Optimizer | None = None,
    step: int = 0,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint folder atomically (temp folder, then rename over any old one)."""
    folder = Path(folder)
    with atomic_dir(folder) as tmp:
        weights = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        # bytes through fileio: safetensors' save_file creates files 0600, not umask's mode
        write_bytes(tmp / "model.safetensors", save(weights, metadata={"format": FORMAT}))
        (tmp / "config.json").write_text(cfg.to_json())
        if optimizer is not None:
            tensors, groups = _optim_tensors(optimizer)
            tensors["rng.torch"] = torch.get_rng_state()
            write_bytes(tmp / "state.safetensors", save(tensors, metadata={"format": FORMAT}))
            state = {"step": step, "param_groups": groups, **(extra or {})}
            (tmp / "state.json").write_text(json.dumps(state, indent=2))
    return folder


def read_tensors(path: Path, device: str = "cpu") -> dict[str, torch.Tensor]:
    """A safetensors file's tensors; a damaged or missing file is a CheckpointError."""
    try:
        return load_file(str(path), device=device)
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing") from None
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None


def _read_last(p: Path) -> Path:
    """The checkpoint a run folder's last.json names, confined to the run folder."""
    where = p / "last.json"
    try:
        name = json.loads(where.read_text(encoding="utf-8"))["checkpoint"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{where}: unreadable ({exc})") from None
    except (KeyError, TypeError):
        raise CheckpointError(f'{where}: expected {{"checkpoint": "checkpoints/step-N"}}') from None
    try:
        return confined(p, name, f"{where} field 'checkpoint'").resolve()
    except UnsafePathError as exc:
        raise CheckpointError(str(exc)) from None


def resolve_checkpoint(path: str | Path) -> Path:
    """The checkpoint folder for a folder, a run folder (via last.json) or a model file.

    ``last.json`` may only name a folder inside its run folder, and chains of last.json files
    end after a few hops (a loop is an error, not a RecursionError).
    """
    p = Path(path)
    if p.is_file() and p.suffix == ".safetensors":
        p = p.parent
    seen: list[Path] = []
    while not (p / "model.safetensors").is_file() and (p / "last.json").is_file():
        if p.resolve() in seen or len(seen) >= 8:
            chain = " -> ".join(str(s) for s in [*seen, p.resolve()])
            raise CheckpointError(f"last.json files form a loop or a chain too long: {chain}")
        seen.append(p.resolve())
        p = _read_last(p)
    if (p / "model.safetensors").is_file():
        return p
    if not p.exists():
        raise FileNotFoundError(f"checkpoint {p} does not exist")
    raise CheckpointError(f"{p} holds no model.safetensors (nor a last.json of a training run)")


def load_model(
    path: str | Path, expected: RunConfig | None = None, device: str = "cpu"
) -> tuple[FlowMemoryNet, RunConfig]:
    """Rebuild the model from a checkpoint's config and load its weights.

    Args:
        path: checkpoint folder, run folder or model.safetensors file.
        expected: if given, the checkpoint's model config must equal ``expected.model``.

    Raises:
        CheckpointError: unreadable config, config/weights mismatch or unexpected config,
            naming the differing fields or tensors.
    """
    folder = resolve_checkpoint(path)
    try:
        cfg = RunConfig.from_json((folder / "config.json").read_text())
    except FileNotFoundError as exc:
        raise CheckpointError(f"{folder}: config.json is missing") from exc
    except (ValueError, TypeError) as exc:
        raise CheckpointError(
            f"{folder}/config.json is not a valid world-model config: {exc}"
        ) from None
    if expected is not None and expected.model != cfg.model:
        a, b = cfg.model.__dict__, expected.model.__dict__
        diff = [f"model.{k}: checkpoint {a[k]!r} vs expected {b[k]!r}" for k in a if a[k] != b[k]]
        raise CheckpointError(f"{folder} has a different model config: " + "; ".join(diff))
    from twinsim.neural.guards import check_model_memory

    check_model_memory(cfg.model, f"the model of {folder}/config.json")
    weights = read_tensors(folder / "model.safetensors", device)
    model = FlowMemoryNet(cfg.model)
    own = model.state_dict()
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    wrong = [
        f"{k} {tuple(weights[k].shape)} (config expects {tuple(v.shape)})"
        for k, v in own.items()
        if k in weights and weights[k].shape != v.shape
    ]
    if missing or unexpected or wrong:
        parts = []
        if wrong:
            parts.append("shape mismatch: " + ", ".join(wrong[:3]))
        if missing:
            parts.append("missing tensors: " + ", ".join(missing[:3]))
        if unexpected:
            parts.append("unexpected tensors: " + ", ".join(unexpected[:3]))
        raise CheckpointError(
            f"weights in {folder} do not match its config.json (model {cfg.model}): "
            + "; ".join(parts)
        )
    model.load_state_dict(weights)
    from twinsim.neural.guards import check_finite_model

    check_finite_model(model, f"{folder}/model.safetensors")
    return model.to(device).eval(), cfg


def load_state(
    folder: str | Path, optimizer: torch.optim.Optimizer, max_step: int | None = None
) -> dict[str, Any]:
    """Restore optimiser and torch RNG state; returns state.json (with ``step``).

    Raises:
        CheckpointError: missing or damaged state files, or a ``step`` that is not an integer
            in ``[0, max_step]``.
    """
    folder = resolve_checkpoint(folder)
    if not (folder / "state.safetensors").is_file():
        raise CheckpointError(f"{folder} has no training state (state.safetensors) to resume")
    tensors = read_tensors(folder / "state.safetensors")
    where = folder / "state.json"
    try:
        meta = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{where}: unreadable ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{where}: expected a JSON object with step and param_groups")
    step = meta.get("step")
    top = "" if max_step is None else f", at most train.steps = {max_step}"
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise CheckpointError(f"{where}: field 'step' must be an integer >= 0{top}, got {step!r}")
    if max_step is not None and step > max_step:
        raise CheckpointError(f"{where}: field 'step' is {step}; expected 0..{max_step}")
    state: dict[int, dict[str, torch.Tensor]] = {}
    try:
        for key, t in tensors.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = t
        optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
        torch.set_rng_state(tensors["rng.torch"])
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(
            f"{folder}: optimiser state does not match this model ({type(exc).__name__}: {exc})"
        ) from None
    return meta
