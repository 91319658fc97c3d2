"""Typed, validated configs for the neural world model (named presets: :mod:`twinsim.neural.presets`).

A :class:`RunConfig` nests the model, data and training settings; it round-trips through JSON
(stored beside every checkpoint) and is validated on construction so bad values fail at the
boundary with an error that names the field, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from twinsim.sim.codec import check_fields, decode
from twinsim.sim.errors import SpecError
from twinsim.sim.errors import require as _check

# The families the world model trains and is evaluated on unless a config says otherwise.
DEFAULT_FAMILIES: tuple[str, ...] = ("occlusion", "drop", "collide", "ramp")

__all__ = [
    "DataConfig",
    "InferenceConfig",
    "ModelConfig",
    "RunConfig",
    "TrainConfig",
]

CONFIG_VERSION = 1
LEGACY_INFERENCE_FIELDS = ("snap", "recall")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the flow + memory U-Net predictor (see docs/neural.md).

    Attributes:
        resolution: square frame side in pixels (must be divisible by 2**levels).
        context: number of context frames K fed to the network at each step.
        channels: U-Net width per level, finest first.
        action_dim: size of the optional per-step action vector (0 = no actions).
        max_flow: largest flow the network can output, in pixels.
        stem_stride: 2 runs the U-Net at half resolution behind a light full-resolution stem
            (about 3x cheaper on CPU); 1 runs it at full resolution.
        stem_channels: width of the full-resolution stem.
        hard_write: round the memory write mask to 0/1 in the forward pass (straight-through
            gradient), so a pixel kept behind an occluder does not leak away frame by frame,
            and give the network a memory-validity channel (pixel stored at least once).
        keep_gate: a learned per-pixel gate "this pixel keeps the newest frame's value",
            trained against where the true next frame is unchanged (``train.keep_weight``);
            at inference gated pixels show the newest frame exactly (a learned ``snap``).
        motion_prior: start the flow from a constant-velocity guess made without learning
            (``neural/motion_prior.py``: match the two newest context frames, splat the
            displacement forward); the network sees the guess and outputs a per-pixel gate
            on it (where to trust it) and a correction. Needs context >= 2 and an even resolution.
    """

    resolution: int = 64
    context: int = 4
    channels: tuple[int, ...] = (16, 32, 64)
    action_dim: int = 0
    max_flow: float = 8.0
    stem_stride: int = 2
    stem_channels: int = 8
    hard_write: bool = False
    keep_gate: bool = False
    motion_prior: bool = False

    def __post_init__(self) -> None:
        _check(len(self.channels) >= 1, "model.channels", self.channels, "1+ positive ints")
        _check(all(c > 0 for c in self.channels), "model.channels", self.channels, "ints > 0")
        _check(self.stem_stride in (1, 2), "model.stem_stride", self.stem_stride, "1 or 2")
        _check(self.stem_channels > 0, "model.stem_channels", self.stem_channels, "> 0")
        step = 2 ** (len(self.channels) - 1) * self.stem_stride
        _check(
            self.resolution >= 8 and self.resolution % step == 0,
            "model.resolution",
            self.resolution,
            f">= 8 and divisible by {step}",
        )
        _check(1 <= self.context <= 16, "model.context", self.context, "1..16")
        _check(self.action_dim >= 0, "model.action_dim", self.action_dim, ">= 0")
        _check(self.max_flow > 0, "model.max_flow", self.max_flow, "> 0")
        _check(
            not self.motion_prior or (self.context >= 2 and self.resolution % 2 == 0),
            "model.motion_prior",
            self.motion_prior,
            "false when model.context is 1 or model.resolution is odd (the guess matches two"
            " frames at half resolution)",
        )


@dataclass(frozen=True)
class InferenceConfig:
    """Load-time settings: not part of what a checkpoint *is* (never in its config.json), with
    defaults here; override with ``load_pretrained(..., snap=0)`` or ``--set inference.snap=0``.
    Training ignores them.

    Attributes:
        snap: pixels whose predicted change from the previous frame is below ``snap`` grey
            levels (of 255, max over channels) keep the previous value, so static regions stay
            exactly static instead of drifting (0 disables).
        recall: for models with ``hard_write`` memory: where the newest frame was *not* written
            to memory (an occluder covered the pixel) and the prediction moves more than
            ``recall`` grey levels away from it (the occluder leaves), show the memory there,
            what was last seen behind the occluder (0 disables; ignored without hard writes).
        fallback: keep the last frame (copy-last) for a clip whose observed frames the model
            predicted (one step ahead, from the true frames before) no better than copy-last
            did: the model judges itself on the context it was given and steps back where it
            does not help (needs at least 2 observed frames; off for action-conditioned models,
            whose future depends on the actions).
        compile: run the network's step through ``torch.compile``: the same frames (within 1
            grey level), about 1.2-1.3x the frames/s at batch 1 on 2 CPU cores but 0.9x at
            batch 32 (benchmarks/RESULTS.md), after about 25 s of compiling per batch size. Worth
            it for long rollouts of single clips; where compiling fails (no C++ compiler), a warning says
            so and the step runs uncompiled.
        carry: follow small moving bodies by colour and, when one slides out of sight behind
            a still occluder, carry it on (slowing as the families' sliding bodies do) and draw
            it where it comes out (:mod:`twinsim.neural.carry`; RGB only, no learning; needs 5
            seen frames).
        keep_freed_memory: when a model is made, ask glibc to keep freed memory for reuse
            instead of handing each large tensor back to the operating system
            (:mod:`twinsim.neural.allocator`): about 1.1x the frames/s at batch 32 on 2
            cores. Process-wide and for the rest of the process (the resident size stays near
            its peak); false leaves the allocator alone. No effect off glibc.
    """

    snap: float = 16.0
    recall: float = 16.0
    fallback: bool = True
    compile: bool = False
    carry: bool = True
    keep_freed_memory: bool = True

    def __post_init__(self) -> None:
        _check(0 <= self.snap < 255, "inference.snap", self.snap, "0 <= snap < 255 grey levels")
        _check(
            0 <= self.recall < 255, "inference.recall", self.recall, "0 <= recall < 255 grey levels"
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InferenceConfig:
        return _build(cls, data, "inference")

    def override(self, assignments: Sequence[str]) -> InferenceConfig:
        """Copy with ``inference.FIELD=VALUE`` assignments applied (validated, JSON values)."""
        data = dataclasses.asdict(self)
        for item in assignments:
            key, sep, raw = item.partition("=")
            section, dot, name = key.strip().partition(".")
            if not sep or not dot or section != "inference":
                fields = ", ".join(f.name for f in dataclasses.fields(InferenceConfig))
                raise SpecError("--set", item, f"inference.FIELD=VALUE with FIELD one of {fields}")
            try:
                data[name] = json.loads(raw)
            except json.JSONDecodeError:
                data[name] = raw
        return InferenceConfig.from_dict(data)


@dataclass(frozen=True)
class DataConfig:
    """Where training clips come from.

    Attributes:
        families: engine scenario families used when clips are generated on the fly.
        scenes: number of scenes generated on the fly (ignored with a dataset directory).
        frames: frames per generated scene.
        clip_length: frames per training clip (warm-up context + unrolled targets).
        real_fraction: share of each batch drawn from real footage (when footage is given).
        seed: data seed; scene i uses ``seed + i``.
        occlusion_windows: share of the synthetic clips of each batch drawn from windows that
            span a whole occlusion (object visible, hidden during the warm-up, back in the
            unrolled part); needs engine scenes generated on the fly (segmentation labels).
    """

    families: tuple[str, ...] = DEFAULT_FAMILIES
    scenes: int = 200
    frames: int = 48
    clip_length: int = 12
    real_fraction: float = 0.2
    seed: int = 0
    occlusion_windows: float = 0.0

    def __post_init__(self) -> None:
        _check(len(self.families) >= 1, "data.families", self.families, "1+ family names")
        _check(self.scenes >= 1, "data.scenes", self.scenes, ">= 1")
        _check(self.clip_length >= 2, "data.clip_length", self.clip_length, ">= 2")
        _check(self.frames >= self.clip_length, "data.frames", self.frames, ">= clip_length")
        _check(0.0 <= self.real_fraction <= 1.0, "data.real_fraction", self.real_fraction, "0..1")
        _check(
            0.0 <= self.occlusion_windows <= 1.0,
            "data.occlusion_windows",
            self.occlusion_windows,
            "0..1",
        )


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Attributes:
        steps: optimiser steps (a ``--minutes`` budget may stop earlier).
        batch_size: clips per step (per process under DDP).
        lr: peak Adam learning rate (linear warm-up, cosine decay).
        unroll: autoregressive steps per clip in the loss (prediction fed back as input).
        warmup_steps: learning-rate warm-up steps.
        val_every: validation interval in steps.
        ckpt_every: checkpoint interval in steps.
        seed: model-initialisation and batch-sampling seed.
        grad_clip: max gradient norm.
        write_weight: weight of the auxiliary memory-write loss: binary cross-entropy of the
            write mask against "store every pixel except an occluder's" (engine segmentation
            labels; real clips: store everything). 0 disables it.
        keep_weight: weight of the keep-gate loss (``model.keep_gate``): binary cross-entropy
            of the gate against "the true next frame equals the newest input frame here"
            (within 2 grey levels); needs no labels.
        flow_weight: weight of the flow loss: mean absolute error (in units of
            ``model.max_flow``) of every step's warp against the engine's backward optical flow
            at full resolution (splatted from forward flow with a depth test: at a motion
            boundary the nearer body wins). Needs engine scenes with flow and depth labels.
        recall_weight: weight of the recall loss: binary cross-entropy pushing the blend
            towards memory on pixels an occluder covered in the newest input frame and no
            longer covers in the predicted one (engine segmentation and the families' roles).
    """

    steps: int = 2000
    batch_size: int = 16
    lr: float = 2e-3
    unroll: int = 6
    warmup_steps: int = 50
    val_every: int = 200
    ckpt_every: int = 200
    seed: int = 0
    grad_clip: float = 1.0
    write_weight: float = 0.0
    keep_weight: float = 0.0
    flow_weight: float = 0.0
    recall_weight: float = 0.0

    def __post_init__(self) -> None:
        _check(self.steps >= 1, "train.steps", self.steps, ">= 1")
        _check(self.batch_size >= 1, "train.batch_size", self.batch_size, ">= 1")
        _check(self.lr > 0, "train.lr", self.lr, "> 0")
        _check(self.unroll >= 1, "train.unroll", self.unroll, ">= 1")
        _check(self.val_every >= 1, "train.val_every", self.val_every, ">= 1")
        _check(self.ckpt_every >= 1, "train.ckpt_every", self.ckpt_every, ">= 1")
        _check(self.grad_clip > 0, "train.grad_clip", self.grad_clip, "> 0")
        _check(self.write_weight >= 0, "train.write_weight", self.write_weight, ">= 0")
        _check(self.keep_weight >= 0, "train.keep_weight", self.keep_weight, ">= 0")
        _check(self.flow_weight >= 0, "train.flow_weight", self.flow_weight, ">= 0")
        _check(self.recall_weight >= 0, "train.recall_weight", self.recall_weight, ">= 0")


@dataclass(frozen=True)
class RunConfig:
    """Everything needed to rebuild and continue a run; stored as config.json."""

    name: str = "custom"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    version: int = CONFIG_VERSION

    def __post_init__(self) -> None:
        check_fields(self, recurse=True)  # types, and no NaN/inf anywhere
        _check(
            self.train.keep_weight == 0 or self.model.keep_gate,
            "train.keep_weight",
            self.train.keep_weight,
            "0 unless model.keep_gate",
        )
        _check(
            self.train.recall_weight == 0 or self.model.hard_write,
            "train.recall_weight",
            self.train.recall_weight,
            "0 unless model.hard_write (memory to recall from)",
        )
        warm = self.data.clip_length - self.train.unroll
        _check(
            warm >= 1,
            "data.clip_length",
            self.data.clip_length,
            f">= train.unroll + 1 = {self.train.unroll + 1}",
        )

    def clip_labels(self) -> tuple[str, ...]:
        """Clip labels (see neural/clips.py) the training losses and sampling need."""
        d, t = self.data, self.train
        labels = ["rgb"]
        if t.write_weight > 0 or t.recall_weight > 0:
            labels.append("occluder")
        if d.occlusion_windows > 0:
            labels.append("visible")
        if t.flow_weight > 0:
            labels.append("flow")
        return tuple(labels)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Build from a dict; unknown or missing sections fail with the field name."""
        if not isinstance(data, dict):
            raise SpecError("config", type(data).__name__, "a JSON object")
        parts: dict[str, Any] = {}
        subs = {"model": ModelConfig, "data": DataConfig, "train": TrainConfig}
        for key, value in data.items():
            if key in subs:
                parts[key] = _build(subs[key], value, key)
            elif key in ("name", "version"):
                parts[key] = value
            else:
                raise SpecError(f"config.{key}", value, "name, model, data, train, version")
        if parts.get("version", CONFIG_VERSION) != CONFIG_VERSION:
            raise SpecError("config.version", parts["version"], str(CONFIG_VERSION))
        return cls(**parts)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        return cls.from_dict(json.loads(text))

    def override(self, assignments: Sequence[str]) -> RunConfig:
        """Copy with ``"section.field=value"`` assignments applied (value parsed as JSON),
        type-checked and validated exactly like a loaded config.

        Raises:
            SpecError: a malformed assignment, an unknown section or field, a value of the
                wrong type, or a value the field does not allow.
        """
        data = self.to_dict()
        for item in assignments:
            key, sep, raw = item.partition("=")
            section, dot, name = key.strip().partition(".")
            if not sep or not dot or section not in ("model", "data", "train"):
                raise SpecError(
                    "--set", item, "SECTION.FIELD=VALUE with SECTION one of model, data, train"
                )
            try:
                data[section][name] = json.loads(raw)
            except json.JSONDecodeError:  # left to the field's type check to name what it wants
                data[section][name] = raw
        return RunConfig.from_dict(data)

    def replace(self, **sections: Any) -> RunConfig:
        """Copy with whole sections replaced, e.g. ``cfg.replace(train=new_train)``."""
        return dataclasses.replace(self, **sections)


def _build(cls: type, value: Any, path: str) -> Any:
    """A config section from JSON, every field type-checked by the scene-spec codec."""
    if not isinstance(value, dict):
        raise SpecError(f"config.{path}", value, "a JSON object")
    hints = typing.get_type_hints(cls)
    if cls is ModelConfig:
        # configs written before the config split carried the inference settings snap and
        # recall in the model section; they are load-time settings now (InferenceConfig)
        value = {k: v for k, v in value.items() if k not in LEGACY_INFERENCE_FIELDS}
    for key in value:
        if key not in hints:
            raise SpecError(f"config.{path}.{key}", value[key], ", ".join(sorted(hints)))
    return cls(**{k: decode(hints[k], v, f"config.{path}.{k}") for k, v in value.items()})
