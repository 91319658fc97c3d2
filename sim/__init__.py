"""twinsim.sim: the PyBullet engine core — scene specs, worlds, labelled rendering, families.

Public API (names other parts of twinsim and users rely on):
    families, sample_scene, simulate, SceneSpec, Rollout, World, open_dataset, ...
"""

from twinsim.sim.dataset_config import DatasetConfig, DatasetError
from twinsim.sim.dataset_generate import generate_dataset
from twinsim.sim.dataset_load import open_dataset
from twinsim.sim.dataset_verify import verify_dataset
from twinsim.sim.errors import SimError, SpecError, UnknownNameError
from twinsim.sim.families import families, family_info, sample_scene
from twinsim.sim.labels import ALL_LABELS, DEFAULT_LABELS, resolve_labels
from twinsim.sim.renderers import RENDERERS, get_renderer
from twinsim.sim.rollout import CameraTrack, Contact, ObjectTrack, Rollout
from twinsim.sim.simulate import simulate
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
from twinsim.sim.world import World

__all__ = [
    "ALL_LABELS",
    "DEFAULT_LABELS",
    "RENDERERS",
    "SHAPES",
    "SPEC_VERSION",
    "VIOLATIONS",
    "CameraKeyframe",
    "CameraSpec",
    "CameraTrack",
    "Contact",
    "DatasetConfig",
    "DatasetError",
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
    "World",
    "WorldSpec",
    "families",
    "family_info",
    "generate_dataset",
    "get_renderer",
    "open_dataset",
    "resolve_labels",
    "sample_scene",
    "simulate",
    "verify_dataset",
]
