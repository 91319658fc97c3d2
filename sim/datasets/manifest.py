"""The dataset manifest (``DIR/manifest.json``) and the array schema it documents.

The manifest holds the data-determining config, the canonical command line, the label schema,
the planned splits and counts, every *complete* shard with its checksums, and the engine
failures that were retried. It is rewritten atomically (:mod:`twinsim.sim.fileio`) after each shard,
and its final form depends only on the config, so equal settings give identical bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from twinsim.sim.datasets.config import DatasetConfig, DatasetError
from twinsim.sim.labels import ARRAYS, CONTACT_COLUMNS

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "array_schema",
    "check_compatible",
    "read_manifest",
]

FORMAT = "twinsim-dataset"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_PER_SCENE = ["N"]

_ALWAYS: dict[str, tuple[str, list[Any], str]] = {
    "scene": ("int64", [], "scene index i in the dataset plan"),
    "impossible": ("bool", [], "True for the impossible twin of a pair"),
    "pair_id": ("int64", [], "scene index shared by both twins of a pair; -1 = unpaired"),
    "violation_frame": ("int32", [], "first impossible frame; -1 = none"),
    "num_objects": ("int32", [], "bodies of the clip (K is the shard's maximum; padded)"),
}


def array_schema(config: DatasetConfig) -> dict[str, dict[str, Any]]:
    """Name -> {label, dtype, shape (symbolic), per_frame, units} of every stored array."""
    dims = {"T": config.frames, "H": config.size, "W": config.size}
    out: dict[str, dict[str, Any]] = {}
    for name, info in ARRAYS.items():
        if info.label in config.labels:
            out[name] = {
                "label": info.label,
                "dtype": info.dtype,
                "shape": _PER_SCENE + [dims.get(s, s) for s in info.shape],
                "per_frame": info.per_frame,
                "units": info.units,
            }
    if "contacts" in config.labels:
        out["contacts"] = {
            "label": "contacts",
            "dtype": "float64",
            "shape": ["M", 1 + len(CONTACT_COLUMNS)],
            "per_frame": False,
            "units": "columns row, " + ", ".join(CONTACT_COLUMNS) + "; ids as segmentation, "
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
