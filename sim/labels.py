"""Names of the labels a rollout can carry, their selection, and the arrays each one stores.

Each label is opt-in so users pay only for what they ask (see benchmarks/bench_render.py).
:data:`ARRAYS` is the one per-array schema (label, dtype, shape, units, padding) that the rollout
folder format, the dataset writer, its manifest and its reader all use.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twinsim.sim.errors import UnknownNameError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "ALL_LABELS",
    "ARRAYS",
    "CONTACT_COLUMNS",
    "DEFAULT_LABELS",
    "ArrayInfo",
    "pad_bodies",
    "resolve_labels",
]

ALL_LABELS: tuple[str, ...] = (
    "rgb",  # (T, H, W, 3) uint8
    "depth",  # (T, H, W) float32, metres along the optical axis
    "segmentation",  # (T, H, W) int32, 0 = background/floor, i + 1 = spec.objects[i]
    "objects",  # per-object pose and velocity tracks
    "camera",  # intrinsics K and per-frame extrinsics
    "contacts",  # contact events with normal impulse
    "flow",  # (T, H, W, 2) float32 forward optical flow, pixels
    "visibility",  # per-object bbox, visible fraction and occluded flag
)
DEFAULT_LABELS: tuple[str, ...] = ("rgb", "depth", "segmentation", "objects", "camera")


def resolve_labels(labels: str | Iterable[str] | None) -> frozenset[str]:
    """Normalise a label selection: None = defaults, "all" = every label, or names / a CSV string.

    Raises:
        UnknownNameError: naming the bad label and listing the valid ones.
    """
    if labels is None:
        return frozenset(DEFAULT_LABELS)
    if isinstance(labels, str):
        if labels == "all":
            return frozenset(ALL_LABELS)
        labels = [s.strip() for s in labels.split(",") if s.strip()]
    chosen = frozenset(labels)
    for name in chosen:
        if name not in ALL_LABELS:
            raise UnknownNameError("label", name, ALL_LABELS)
    return chosen


@dataclass(frozen=True)
class ArrayInfo:
    """One stored array of a label.

    Attributes:
        label: the label (of :data:`ALL_LABELS`) that stores it.
        dtype: numpy dtype name.
        shape: symbolic shape: ``T`` frames, ``H``/``W`` pixels, ``K`` bodies (spec order).
        units: units or meaning, for documentation (dataset cards, manifests).
        pad: the value of padding entries on the body axis ``K`` (clips of fewer bodies).
    """

    label: str
    dtype: str
    shape: tuple[str | int, ...]
    units: str
    pad: float | bool = 0

    @property
    def per_frame(self) -> bool:
        """True when the leading axis is the frame axis ``T``."""
        return self.shape[:1] == ("T",)


ARRAYS: Mapping[str, ArrayInfo] = types.MappingProxyType(
    {
        "rgb": ArrayInfo("rgb", "uint8", ("T", "H", "W", 3), "sRGB colour, 0-255"),
        "depth": ArrayInfo(
            "depth", "float32", ("T", "H", "W"), "metres along the optical axis; far = none"
        ),
        "segmentation": ArrayInfo(
            "segmentation",
            "int32",
            ("T", "H", "W"),
            "0 = background/floor, i + 1 = spec.objects[i] (clip's names[i])",
        ),
        "flow": ArrayInfo(
            "flow", "float32", ("T", "H", "W", 2), "forward flow (du, dv) t -> t+1, pixels"
        ),
        "object_position": ArrayInfo(
            "objects", "float64", ("T", "K", 3), "metres, world frame, z up"
        ),
        "object_orientation": ArrayInfo(
            "objects", "float64", ("T", "K", 4), "quaternion (x, y, z, w)"
        ),
        "object_linear_velocity": ArrayInfo("objects", "float64", ("T", "K", 3), "m/s"),
        "object_angular_velocity": ArrayInfo("objects", "float64", ("T", "K", 3), "rad/s"),
        "object_present": ArrayInfo(
            "objects", "bool", ("T", "K"), "body exists (False also for padding)", pad=False
        ),
        "object_bbox": ArrayInfo(
            "visibility", "float32", ("T", "K", 4), "pixels x0,y0,x1,y1; -1 = unseen", pad=-1.0
        ),
        "object_visible_fraction": ArrayInfo(
            "visibility", "float32", ("T", "K"), "visible / unoccluded px"
        ),
        "object_occluded": ArrayInfo(
            "visibility", "bool", ("T", "K"), "in view yet fully hidden", pad=False
        ),
        "camera_K": ArrayInfo("camera", "float64", (3, 3), "pinhole intrinsics, pixels"),
        "camera_world_to_camera": ArrayInfo("camera", "float64", ("T", 4, 4), "OpenCV extrinsics"),
    }
)
# Columns of the ``contacts`` label stored as an (M, 10) float64 array, one row per contact.
CONTACT_COLUMNS: tuple[str, ...] = (
    "frame",
    "a_id",
    "b_id",
    "x",
    "y",
    "z",
    "normal_x",
    "normal_y",
    "normal_z",
    "normal_impulse",
)


def pad_bodies(name: str, array: np.ndarray, bodies: int) -> np.ndarray:
    """``array`` (T, K, ...) of :data:`ARRAYS` entry ``name`` padded on axis 1 to ``bodies``."""
    import numpy as np  # here: the CLI imports the label names without numpy

    missing = bodies - array.shape[1]
    if missing <= 0:
        return array
    pad = [(0, 0)] * array.ndim
    pad[1] = (0, missing)
    return np.pad(array, pad, constant_values=ARRAYS[name].pad)
