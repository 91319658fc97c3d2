"""twinsim: a hybrid neural + physics-engine simulator.

Subpackages: :mod:`twinsim.sim` (PyBullet engine, labelled scenes, datasets),
:mod:`twinsim.neural` (video world model), :mod:`twinsim.envs` (gymnasium environments),
:mod:`twinsim.bridge` (one API for Python code and language planners).

The most used names are re-exported here and imported on first use, so ``import twinsim``
stays cheap (no torch, no pybullet until needed)::

    import twinsim

    spec = twinsim.sample_scene("occlusion", seed=3, impossible="vanish")
    rollout = twinsim.simulate(spec)  # rgb (T, H, W, 3) uint8, depth, segmentation, ...
    model = twinsim.load_pretrained()
    future = model.predict(rollout.rgb[:8], horizon=16)  # (16, 64, 64, 3) uint8
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "families": "twinsim.sim",
    "family_info": "twinsim.sim",
    "sample_scene": "twinsim.sim",
    "simulate": "twinsim.sim",
    "SceneSpec": "twinsim.sim",
    "Rollout": "twinsim.sim",
    "World": "twinsim.sim",
    "DatasetConfig": "twinsim.sim",
    "generate_dataset": "twinsim.sim",
    "open_dataset": "twinsim.sim",
    "verify_dataset": "twinsim.sim",
    "WorldModel": "twinsim.neural",
    "load_pretrained": "twinsim.neural",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'twinsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
