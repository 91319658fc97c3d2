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

from twinsim.sim._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        [
            "family_names",
            "family_info",
            "sample_scene",
            "simulate",
            "SceneSpec",
            "Rollout",
            "World",
            "DatasetConfig",
            "generate_dataset",
            "open_dataset",
            "verify_dataset",
        ],
        "twinsim.sim",
    ),
    **dict.fromkeys(["WorldModel", "load_pretrained"], "twinsim.neural"),
}

__all__ = ["__version__", *sorted(_LAZY)]
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
