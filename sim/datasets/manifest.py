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
    "read_shard_json",
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
    _check_manifest(data, path)
    return data


_INT = (int,)
_LIST = (list,)
_DICT = (dict,)
_STR = (str,)
_KIND = {int: "an integer", list: "a list", dict: "an object", str: "a string", bool: "a boolean"}


def _field(doc: Any, key: str, types: tuple[type, ...], where: str) -> Any:
    """``doc[key]``, which must exist and be one of ``types`` (bool is not an integer)."""
    if not isinstance(doc, dict) or key not in doc:
        raise DatasetError(f"{where}: missing field '{key}'")
    value = doc[key]
    if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
        want = " or ".join(_KIND.get(t, t.__name__) for t in types)
        raise DatasetError(f"{where}: field '{key}' must be {want}, got {value!r:.60}")
    return value


def _check_manifest(data: dict[str, Any], path: Path) -> None:
    """Check the structure every reader relies on, naming the file and field that is wrong."""
    w = str(path)
    config = _field(data, "config", _DICT, w)
    _field(config, "frames", _INT, f"{w} config")
    _field(config, "labels", _LIST, f"{w} config")
    _field(data, "complete", (bool,), w)
    for name, info in _field(data, "arrays", _DICT, w).items():
        where = f"{w} arrays.{name}"
        _field(info, "dtype", _STR, where)
        _field(info, "label", _STR, where)
        _field(info, "per_frame", (bool,), where)
        shape = _field(info, "shape", _LIST, where)
        if not all(isinstance(d, int | str) and not isinstance(d, bool) for d in shape):
            raise DatasetError(f"{where}: field 'shape' must list integers or axis names")
    for i, entry in enumerate(_field(data, "shards", _LIST, w)):
        where = f"{w} shards[{i}]"
        for key in ("path", "split", "shard_json_sha256"):
            _field(entry, key, _STR, where)
        for key in ("index", "num_clips", "max_objects", "bytes"):
            _field(entry, key, _INT, where)
        arrays = _field(entry, "arrays", _DICT, where)
        if not all(isinstance(v, str) for v in arrays.values()):
            raise DatasetError(f"{where}: field 'arrays' must map names to sha256 strings")
    _field(data, "failures", _LIST, w)
    for split, info in _field(data, "splits", _DICT, w).items():
        where = f"{w} splits.{split}"
        _field(info, "clips", _INT, where)
        shards = _field(info, "shards", _LIST, where)
        if not all(isinstance(v, str) for v in shards):
            raise DatasetError(f"{where}: field 'shards' must list shard paths")
    _field(_field(data, "counts", _DICT, w), "clips", _INT, f"{w} counts")


def read_shard_json(path: Path) -> dict[str, Any]:
    """Load and structure-check a shard's ``shard.json``.

    Raises:
        DatasetError: unreadable, not JSON, or a field missing or of the wrong type.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: unreadable ({exc})") from None
    w = str(path)
    n = _field(doc, "num_clips", _INT, w)
    _field(doc, "num_frames", _INT, w)
    clips = _field(doc, "clips", _LIST, w)
    if len(clips) != n or not all(isinstance(c, dict) for c in clips):
        raise DatasetError(f"{w}: field 'clips' must list {n} clip objects (num_clips)")
    for name, info in _field(doc, "arrays", _DICT, w).items():
        where = f"{w} arrays.{name}"
        _field(info, "dtype", _STR, where)
        _field(info, "sha256", _STR, where)
        _field(info, "bytes", _INT, where)
        shape = _field(info, "shape", _LIST, where)
        if not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
            raise DatasetError(f"{where}: field 'shape' must list integers")
    return doc


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
