"""twinsim.sim: the PyBullet engine core — scene specs, worlds, labelled rendering, families.

Public API (names other parts of twinsim and users rely on):
    families, sample_scene, simulate, SceneSpec, Rollout, World, open_dataset, ...
"""

from twinsim.sim.errors import SimError, SpecError, UnknownNameError
from twinsim.sim.labels import ALL_LABELS, DEFAULT_LABELS, resolve_labels
from twinsim.sim.rollout import CameraTrack, Contact, ObjectTrack, Rollout
from twinsim.sim.spec import (
    SHAPES,
    SPEC_VERSION,
    VIOLATIONS,
    CameraKeyframe,
    CameraSpec,
    EventSpec,
    JointSpec,
    Keyframe,
    LightSpec,
    ObjectSpec,
    SceneSpec,
    Violation,
    WorldSpec,
)

__all__ = [
    "ALL_LABELS",
    "DEFAULT_LABELS",
    "SHAPES",
    "SPEC_VERSION",
    "VIOLATIONS",
    "CameraKeyframe",
    "CameraSpec",
    "CameraTrack",
    "Contact",
    "EventSpec",
    "JointSpec",
    "Keyframe",
    "LightSpec",
    "ObjectSpec",
    "ObjectTrack",
    "Rollout",
    "SceneSpec",
    "SimError",
    "SpecError",
    "UnknownNameError",
    "Violation",
    "WorldSpec",
    "resolve_labels",
]
