"""Inference API: :class:`WorldModel` loads a checkpoint and predicts future uint8 frames."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from twinsim.neural.allocator import keep_freed_memory
from twinsim.neural.checkpoint import load_model
from twinsim.neural.config import InferenceConfig, RunConfig
from twinsim.neural.footage import resize_frames
from twinsim.neural.model import FlowMemoryNet, frames_to_tensor
from twinsim.sim.errors import UnknownNameError

__all__ = ["BUNDLED", "PRETRAINED", "PRETRAINED_DIR", "Bundled", "WorldModel", "load_pretrained"]

# clips per forward pass: activations grow with the batch (64 clips at 64 px: about 0.45 GB), so
# a caller passing hundreds of windows at once is served in chunks
MAX_CHUNK = 64
PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "assets" / "pretrained"


@dataclass(frozen=True)
class Bundled:
    """A model shipped in ``assets/``: where it is and exactly how it was made.

    Attributes:
        folder: checkpoint folder (``model.safetensors`` + ``config.json``).
        preset: the preset it was trained with; its ``config.json`` equals
            ``preset(preset).override(overrides)`` (checked by the tests).
        overrides: ``--set`` assignments of the training command beyond the preset.
        command: the documented training command.
        inference: the load-time settings it is evaluated and shipped with.
    """

    folder: Path
    preset: str
    command: str
    overrides: tuple[str, ...] = ()
    inference: InferenceConfig = field(default_factory=InferenceConfig)


BUNDLED: Mapping[str, Bundled] = MappingProxyType(
    {
        "cpu": Bundled(
            PRETRAINED_DIR,
            "cpu",
            "twinsim train --preset cpu --footage ../shared/footage --out RUN --minutes 28 "
            "--threads 1; then the same with --minutes 22 --resume (175 steps in all on 2 "
            "shared cores; see assets/pretrained/train_info.json)",
        ),
    }
)
PRETRAINED: Mapping[str, Path] = MappingProxyType({k: b.folder for k, b in BUNDLED.items()})


class WorldModel:
    """A trained video predictor.

    At every step the network sees the last ``context`` frames; a memory image (what is behind
    occluders) is built by scanning *all* frames given, so longer histories help permanence.
    Fewer than ``context`` frames are padded by repeating the first one. Frames of another size
    are centre-cropped and resized to ``resolution``; outputs are always at ``resolution``.
    """

    def __init__(
        self,
        net: FlowMemoryNet,
        config: RunConfig,
        device: str = "cpu",
        inference: InferenceConfig | None = None,
    ) -> None:
        # NHWC weights: oneDNN's convolutions run ~20% faster on CPU (measured at batch 32);
        # here, not in a loader, so that every way to a WorldModel gets them
        self.net = net.to(device, memory_format=torch.channels_last).eval()
        self.config = config
        self.device = device
        if inference is not None:
            self.net.inference = inference
        if self.net.inference.compile:
            self.net.step = _compiled(self.net.step)
        if self.net.inference.keep_freed_memory:
            keep_freed_memory()

    @property
    def inference(self) -> InferenceConfig:
        """The load-time settings in use (snap, recall); not part of the checkpoint."""
        return self.net.inference

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", **settings: Any) -> WorldModel:
        """Load a checkpoint folder, run folder or model.safetensors file.

        ``settings``: inference settings (fields of :class:`InferenceConfig`: ``snap``,
        ``recall``) overriding their defaults.
        """
        net, cfg = load_model(path, device=device)
        return cls(net, cfg, device, _settings(InferenceConfig(), settings))

    @property
    def resolution(self) -> int:
        """Frame side in pixels."""
        return self.config.model.resolution

    @property
    def context(self) -> int:
        """Context frames K the network sees per step."""
        return self.config.model.context

    def _prepare(self, frames: np.ndarray) -> torch.Tensor:
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim != 5 or frames.shape[-1] != 3:
            raise ValueError(
                f"frames must be uint8 (T, H, W, 3) (or (B, T, H, W, 3) for a batch), "
                f"got {frames.dtype} {frames.shape[1:] if frames.ndim == 5 else frames.shape}"
            )
        if frames.shape[1] < 1:
            raise ValueError("at least one context frame is needed")
        b, t = frames.shape[:2]
        if frames.shape[2:4] != (self.resolution, self.resolution):
            flat = frames.reshape(b * t, *frames.shape[2:])
            frames = resize_frames(flat, self.resolution).reshape(b, t, *([self.resolution] * 2), 3)
        return frames_to_tensor(frames, self.device)

    def _actions(
        self, actions: np.ndarray | None, b: int, t: int, horizon: int
    ) -> torch.Tensor | None:
        a_dim = self.config.model.action_dim
        if actions is None or a_dim == 0:
            return None
        a = torch.as_tensor(np.asarray(actions), dtype=torch.float32, device=self.device)
        if a.ndim == 2:
            a = a[None].expand(b, -1, -1)
        if a.shape[-1] != a_dim or a.shape[1] not in (horizon, t - 1 + horizon):
            raise ValueError(
                f"actions must be (horizon, {a_dim}) or (T - 1 + horizon, {a_dim}), got "
                f"{tuple(a.shape)} for T={t}, horizon={horizon}"
            )
        if a.shape[1] == horizon:  # actions for the observed steps are unknown: zeros
            a = torch.cat([a.new_zeros(b, t - 1, a_dim), a], 1)
        return a

    @torch.no_grad()
    def predict_batch(
        self, frames: np.ndarray, horizon: int, actions: np.ndarray | None = None, seed: int = 0
    ) -> np.ndarray:
        """Batched :meth:`predict`: (B, T, H, W, 3) uint8 -> (B, horizon, R, R, 3) uint8.

        Large batches run in chunks of :data:`MAX_CHUNK` clips (the same result, bounded memory).
        """
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        del seed  # the predictor is deterministic (the caller's global RNG is left alone)
        frames = np.asarray(frames)
        if len(frames) > MAX_CHUNK:
            acts = None if actions is None else np.asarray(actions)
            per_clip = acts is not None and acts.ndim == 3
            return np.concatenate(
                [
                    self.predict_batch(
                        frames[i : i + MAX_CHUNK],
                        horizon,
                        acts[i : i + MAX_CHUNK] if per_clip else acts,
                    )
                    for i in range(0, len(frames), MAX_CHUNK)
                ]
            )
        x = self._prepare(frames)
        acts = self._actions(actions, x.shape[0], x.shape[1], horizon)
        roll = self.net.rollout(x, horizon, acts)
        out = _to_bytes(roll.future)
        # (not for action-conditioned models: actions change the future the context cannot judge)
        if self.inference.fallback and not self.config.model.action_dim and x.shape[1] >= 2:
            # self-assessment on the context: one-step error vs copy-last's, per clip
            model_err = ((roll.teacher - x[:, 1:]) ** 2).mean(dim=(1, 2, 3, 4))
            copy_err = ((x[:, :-1] - x[:, 1:]) ** 2).mean(dim=(1, 2, 3, 4))
            keep = (model_err >= copy_err)[:, None, None, None, None]
            if roll.carried.shape[1]:  # a body the carry rule draws is kept in either case
                keep = keep & (roll.carried[:, -horizon:] < 0.5)
            # in uint8 (a quarter of the bytes): the last frame is the input's own bytes
            out = torch.where(keep, _to_bytes(x[:, -1:]).expand_as(out), out)
        return out.permute(0, 1, 3, 4, 2).cpu().numpy()

    def predict(
        self, frames: np.ndarray, horizon: int, actions: np.ndarray | None = None, seed: int = 0
    ) -> np.ndarray:
        """Predict ``horizon`` frames after ``frames`` (T, H, W, 3) uint8 -> (horizon, R, R, 3).

        Args:
            actions: optional (horizon, A) or (T - 1 + horizon, A) per-step actions for models
                trained with ``action_dim`` A (ignored otherwise).
            seed: accepted for API stability; this predictor is deterministic.
        """
        frames = np.asarray(frames)
        if frames.ndim != 4:
            raise ValueError(f"frames must be uint8 (T, H, W, 3), got shape {frames.shape}")
        acts = None if actions is None else np.asarray(actions)[None]
        return self.predict_batch(frames[None], horizon, acts, seed)[0]

    @torch.no_grad()
    def predict_steps(self, frames: np.ndarray) -> np.ndarray:
        """Teacher-forced one-step predictions of frames 1..T-1 of (B, T, H, W, 3) uint8 clips
        (each from the true frames before it): (B, T - 1, R, R, 3) uint8."""
        out = self.net.rollout(self._prepare(frames), 0).teacher
        return (
            (out * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 1, 3, 4, 2).cpu().numpy()
        )

    @torch.no_grad()
    def step_errors(self, frames: np.ndarray) -> np.ndarray:
        """One-step prediction MSE of every observed frame 1..T-1: (B, T-1) float (surprise)."""
        x = self._prepare(frames)
        pred = self.net.rollout(x, 0).teacher
        return ((pred - x[:, 1:]) ** 2).mean(dim=(2, 3, 4)).cpu().numpy()


def _to_bytes(frames: torch.Tensor) -> torch.Tensor:
    """Float frames in [0, 1] -> uint8 (rounded): a frame fed in as bytes comes back exact."""
    return frames.mul(255).round_().clamp_(0, 255).to(torch.uint8)


def _compiled(step: Callable) -> Callable:
    """``step`` through ``torch.compile``, or ``step`` itself from the first call that cannot
    be compiled on (a warning says why; an error of the call itself is raised as usual)."""
    compiled = torch.compile(step, dynamic=False)
    failed = False

    def call(*args, **kwargs):
        nonlocal failed
        if not failed:
            try:
                return compiled(*args, **kwargs)
            except Exception as exc:  # inductor's errors have no common base class
                warnings.warn(
                    f"inference.compile: torch.compile failed ({type(exc).__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''}); running uncompiled",
                    RuntimeWarning,
                    stacklevel=2,
                )
                failed = True
        return step(*args, **kwargs)

    return call


def _settings(base: InferenceConfig, settings: dict[str, Any]) -> InferenceConfig:
    unknown = sorted(set(settings) - set(base.__dataclass_fields__))
    if unknown:
        raise UnknownNameError("inference setting", unknown[0], sorted(base.__dataclass_fields__))
    return InferenceConfig.from_dict({**base.__dict__, **settings})


def load_pretrained(name: str = "cpu", device: str = "cpu", **settings: Any) -> WorldModel:
    """A bundled model from ``assets/`` (see docs/neural.md) with its documented inference
    settings, each overridable, e.g. ``load_pretrained(snap=0)``.

    Args:
        name: ``"cpu"`` (``assets/pretrained/``, the default).
        device: torch device.
        settings: inference settings (:class:`InferenceConfig` fields: ``snap``, ``recall``).

    Raises:
        UnknownNameError: an unknown ``name`` or setting (the valid ones are listed).
        FileNotFoundError: the checkpoint files are missing from this installation.
    """
    if name not in BUNDLED:
        raise UnknownNameError("pretrained model", name, BUNDLED)
    b = BUNDLED[name]
    if not (b.folder / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"no bundled model at {b.folder}; train one with `{b.command}` and copy its "
            f"checkpoint there"
        )
    net, cfg = load_model(b.folder, device=device)
    return WorldModel(net, cfg, device, _settings(b.inference, settings))
