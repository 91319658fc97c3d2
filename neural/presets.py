"""The named run configs: ``tiny`` (tests, toy scenes), ``cpu`` (the bundled default), ``gpu``."""

from __future__ import annotations

import dataclasses

from twinsim.neural.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from twinsim.sim.errors import UnknownNameError

__all__ = ["PRESETS", "preset"]


def _tiny() -> RunConfig:
    return RunConfig(
        name="tiny",
        model=ModelConfig(resolution=32, context=2, channels=(8, 16)),
        data=DataConfig(families=("toy",), scenes=6, frames=16, clip_length=6),
        train=TrainConfig(steps=20, batch_size=4, unroll=2, warmup_steps=2, val_every=10),
    )


def _cpu() -> RunConfig:
    """The bundled default: hard-write memory, keep gate, engine-label losses (flow, write,
    recall), occlusion-spanning windows; about 25 minutes on 2 CPU cores."""
    return RunConfig(
        name="cpu",
        model=ModelConfig(
            resolution=64, context=4, channels=(16, 32, 64), hard_write=True, keep_gate=True
        ),
        data=DataConfig(
            families=("occlusion", "drop", "occlusion", "collide", "ramp", "push"),
            scenes=240,
            frames=72,
            clip_length=20,
            real_fraction=0.25,
            occlusion_windows=0.5,
        ),
        train=TrainConfig(
            steps=700,
            batch_size=8,
            unroll=12,
            val_every=100,
            ckpt_every=100,
            write_weight=0.05,
            keep_weight=0.01,
            flow_weight=0.02,
            recall_weight=0.01,
        ),
    )


def _gpu() -> RunConfig:
    """The ``cpu`` recipe, wider and on 10x the scenes, for a CUDA device."""
    base = _cpu()
    return RunConfig(
        name="gpu",
        model=dataclasses.replace(base.model, channels=(32, 64, 128)),
        data=dataclasses.replace(base.data, scenes=2000),
        train=dataclasses.replace(base.train, steps=20_000, batch_size=32),
    )


PRESETS = {
    "tiny": _tiny,
    "cpu": _cpu,
    "gpu": _gpu,
}


def preset(name: str) -> RunConfig:
    """The named preset: ``tiny`` (tests, toy scenes), ``cpu`` (the bundled default), ``gpu``."""
    if name not in PRESETS:
        raise UnknownNameError("preset", name, sorted(PRESETS))
    return PRESETS[name]()
