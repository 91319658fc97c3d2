"""The dataset manifest (``DIR/manifest.json``) and the array schema it documents.

The manifest holds the data-determining config, the canonical command line, the label schema,
the planned splits and counts, every *complete* shard with its checksums, and the engine
failures that were retried. It is rewritten atomically (temp file + rename) after each shard,
and its final form depends only on the config, so equal settings give identical bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from twinsim.sim.datasets.config import DatasetConfig, DatasetError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "array_schema",
    "check_compatible",
    "read_manifest",
    "write_json_atomic",
]

FORMAT = "twinsim-dataset"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_PER_SCENE = ["N"]

# array -> (label, dtype, shape after the N axis, units / meaning)
_SCHEMA: dict[str, tuple[str, str, list[Any], str]] = {
    "rgb": ("rgb", "uint8", ["T", "H", "W", 3], "sRGB colour, 0-255"),
    "depth": ("depth", "float32", ["T", "H", "W"], "metres along the optical axis; far = none"),
    "segmentation": (
        "segmentation",
        "int32",
        ["T", "H", "W"],
        "0 = background/floor, i + 1 = spec.objects[i] (clip's names[i])",
    ),
    "flow": ("flow", "float32", ["T", "H", "W", 2], "forward flow (du, dv) t -> t+1, pixels"),
    "object_position": ("objects", "float64", ["T", "K", 3], "metres, world frame, z up"),
    "object_orientation": ("objects", "float64", ["T", "K", 4], "quaternion (x, y, z, w)"),
    "object_linear_velocity": ("objects", "float64", ["T", "K", 3], "m/s"),
    "object_angular_velocity": ("objects", "float64", ["T", "K", 3], "rad/s"),
    "object_present": ("objects", "bool", ["T", "K"], "body exists (False also for padding)"),
    "object_bbox": ("visibility", "float32", ["T", "K", 4], "pixels x0,y0,x1,y1; -1 = unseen"),
    "object_visible_fraction": ("visibility", "float32", ["T", "K"], "visible / unoccluded px"),
    "object_occluded": ("visibility", "bool", ["T", "K"], "in view yet fully hidden"),
    "camera_K": ("camera", "float64", [3, 3], "pinhole intrinsics, pixels"),
    "camera_world_to_camera": ("camera", "float64", ["T", 4, 4], "OpenCV extrinsics"),
}
_ALWAYS: dict[str, tuple[str, list[Any], str]] = {
    "scene": ("int64", [], "scene index i in the dataset plan"),
    "impossible": ("bool", [], "True for the impossible twin of a pair"),
    "pair_id": ("int64", [], "scene index shared by both twins of a pair; -1 = unpaired"),
    "violation_frame": ("int32", [], "first impossible frame; -1 = none"),
    "num_objects": ("int32", [], "bodies of the clip (K is the shard's maximum; padded)"),
}
CONTACT_COLUMNS = (
    "row",
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


def array_schema(config: DatasetConfig) -> dict[str, dict[str, Any]]:
    """Name -> {label, dtype, shape (symbolic), per_frame, units} of every stored array."""
    dims = {"T": config.frames, "H": config.size, "W": config.size}
    out: dict[str, dict[str, Any]] = {}
    for name, (label, dtype, shape, units) in _SCHEMA.items():
        if label in config.labels:
            out[name] = {
                "label": label,
                "dtype": dtype,
                "shape": _PER_SCENE + [dims.get(s, s) for s in shape],
                "per_frame": shape[:1] == ["T"],
                "units": units,
            }
    if "contacts" in config.labels:
        out["contacts"] = {
            "label": "contacts",
            "dtype": "float64",
            "shape": ["M", len(CONTACT_COLUMNS)],
            "per_frame": False,
            "units": "columns " + ", ".join(CONTACT_COLUMNS) + "; ids as segmentation, "
            "floor = 0; position m, impulse N s; row = clip row in the shard",
        }
    for name, (dtype, shape, units) in _ALWAYS.items():
        out[name] = {
            "label": "meta",
            "dtype": dtype,
            "shape": _PER_SCENE + shape,
            "per_frame": False,
            "units": units,
        }
    return out


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as sorted, indented JSON under a temp name, then rename into place."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def read_manifest(root: str | Path) -> dict[str, Any]:
    """Load ``DIR/manifest.json``.

    Raises:
        DatasetError: when it is missing, unreadable or not a twinsim dataset manifest.
    """
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise DatasetError(f"{root}: no {MANIFEST}; not a twinsim dataset (run twinsim generate)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DatasetError(f"{path}: not a {FORMAT} manifest")
    if data.get("format_version") != FORMAT_VERSION:
        raise DatasetError(
            f"{path}: format_version {data.get('format_version')}; this twinsim reads "
            f"{FORMAT_VERSION}"
        )
    return data


def check_compatible(existing: dict[str, Any], config: DatasetConfig, root: Path) -> None:
    """Raise DatasetError unless ``existing`` was generated with the same data settings."""
    old, new = existing.get("config", {}), config.identity()
    diff = [
        f"{k}: {old.get(k)!r} (on disk) != {new.get(k)!r}"
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    ]
    if diff:
        raise DatasetError(
            f"{root} holds a dataset generated with other settings ({'; '.join(diff)}); "
            "choose another --out or delete it"
        )
