"""twinsim.sim: the PyBullet engine core — scene specs, worlds, labelled rendering, families.

Layout (each sub-package's ``__init__`` says what it offers):

* :mod:`~twinsim.sim.spec` — the validated, versioned scene description (``SceneSpec``);
  :mod:`~twinsim.sim.codec` its JSON codec, :mod:`~twinsim.sim.errors` the error types,
  :mod:`~twinsim.sim.labels` the label names.
* :mod:`twinsim.sim.world` — the physics: one PyBullet client per :class:`World`.
* :mod:`twinsim.sim.render` — renderers, cameras, optical flow and visibility labels.
* :mod:`~twinsim.sim.simulation` — ``simulate``: spec in, :class:`Rollout` (frames + labels) out;
  :mod:`~twinsim.sim.rollout` the rollout and its folder format.
* :mod:`twinsim.sim.families` — seeded scenario families and their impossible twins.
* :mod:`twinsim.sim.datasets` — sharded, resumable datasets and their readers.
* :mod:`~twinsim.sim.fileio` — atomic file writes (every file the engine writes).

The names below are imported on first use, so ``import twinsim.sim`` is cheap.
"""

from __future__ import annotations

from twinsim.sim._lazy import lazy_exports

_S = "twinsim.sim."
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["DatasetConfig", "DatasetError"], _S + "datasets.config"),
    "generate_dataset": _S + "datasets.generate",
    "open_dataset": _S + "datasets.torch_dataset",
    "verify_dataset": _S + "datasets.verify",
    **dict.fromkeys(["SimError", "SpecError", "UnknownNameError"], _S + "errors"),
    **dict.fromkeys(["family_names", "family_info", "sample_scene"], _S + "families"),
    **dict.fromkeys(["ALL_LABELS", "DEFAULT_LABELS", "resolve_labels"], _S + "labels"),
    **dict.fromkeys(["RENDERERS", "get_renderer"], _S + "render.registry"),
    **dict.fromkeys(["CameraTrack", "Contact", "ObjectTrack", "Rollout"], _S + "rollout"),
    "simulate": _S + "simulation",
    **dict.fromkeys(
        [
            "SHAPES",
            "SPEC_VERSION",
            "VIOLATIONS",
            "CameraKeyframe",
            "CameraSpec",
            "EventSpec",
            "JointSpec",
            "Keyframe",
            "LightSpec",
            "ObjectSpec",
            "SceneSpec",
            "Violation",
            "WorldSpec",
        ],
        _S + "spec",
    ),
    "World": _S + "world.world",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
