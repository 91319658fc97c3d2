"""Reading datasets: a torch-free clip reader (the torch view is :mod:`.torch_dataset`).

Arrays are memory-mapped lazily, per process, on first access, so a DataLoader with
``num_workers > 0`` (fork or spawn) opens its own maps and reads only the bytes it needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from twinsim.sim.datasets.config import DatasetError
from twinsim.sim.datasets.manifest import MANIFEST, read_manifest, read_shard_json
from twinsim.sim.datasets.writer import SHARD_JSON
from twinsim.sim.errors import UnknownNameError
from twinsim.sim.fileguard import confined
from twinsim.sim.labels import pad_bodies

__all__ = ["ClipReader"]

_META = ("scene", "impossible", "pair_id", "violation_frame", "num_objects")


class ClipReader:
    """Clips of one split as dicts of numpy arrays (no torch needed).

    Args:
        root: dataset directory.
        split: ``train``, ``val``, ``test`` or ``ood`` (those the dataset has).
        labels: stored labels to return (None: every stored label except ``contacts``).
        clip_length: frames per clip (None: whole scenes).
        stride: frames between consecutive clip starts within a scene.
        frame_step: temporal subsampling inside a clip (1 = consecutive frames).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        labels: list[str] | tuple[str, ...] | str | None = None,
        clip_length: int | None = None,
        stride: int = 1,
        frame_step: int = 1,
    ) -> None:
        self.root = Path(root)
        manifest = read_manifest(self.root)
        if not manifest.get("complete"):
            raise DatasetError(f"{root}: dataset is incomplete; finish it with generate --resume")
        if split not in manifest["splits"]:
            raise UnknownNameError("split", split, manifest["splits"])
        stored = [n for n in manifest["config"]["labels"] if n != "contacts"]
        if isinstance(labels, str):
            labels = [s.strip() for s in labels.split(",") if s.strip()]
        chosen = list(stored if labels is None else labels)
        for name in chosen:
            if name == "contacts":
                raise DatasetError(
                    "contacts are variable-length; read <shard>/contacts.npy directly"
                )
            if name not in stored:
                raise UnknownNameError("stored label", name, stored)
        T = manifest["config"]["frames"]
        span = T if clip_length is None else (clip_length - 1) * frame_step + 1
        if clip_length is not None and not 1 <= span <= T:
            raise DatasetError(
                f"clip_length={clip_length} with frame_step={frame_step} spans {span} frames; "
                f"scenes have {T}"
            )
        if stride < 1 or frame_step < 1:
            raise DatasetError(f"stride ({stride}) and frame_step ({frame_step}) must be >= 1")
        self.split, self.labels, self.span, self.frame_step = split, tuple(chosen), span, frame_step
        self.schema = manifest["arrays"]
        self.names = [n for n, a in self.schema.items() if a["label"] in chosen]
        entries = [s for s in manifest["shards"] if s["split"] == split]
        self.max_objects = max((s["max_objects"] for s in entries), default=0)
        self.shards = [s["path"] for s in entries]
        where = f"{self.root / MANIFEST} shards"
        self._dirs = [confined(self.root, p, where) for p in self.shards]
        self._rows = [s["num_clips"] for s in entries]
        self.clips: list[list[dict[str, Any]]] = []
        items = []
        for k, folder in enumerate(self._dirs):
            doc = read_shard_json(folder / SHARD_JSON)
            if doc["num_frames"] != T or doc["num_clips"] != self._rows[k]:
                raise DatasetError(
                    f"{folder / SHARD_JSON}: {doc['num_clips']} clips of {doc['num_frames']} "
                    f"frames; the manifest says {self._rows[k]} of {T} (run twinsim verify)"
                )
            self.clips.append([_slim(c, folder / SHARD_JSON) for c in doc["clips"]])
            for row in range(doc["num_clips"]):
                items.extend((k, row, s) for s in range(0, T - span + 1, stride))
        self._items = np.asarray(items, np.int64).reshape(-1, 3)
        self._maps: dict[tuple[int, str], np.ndarray] = {}
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self._items)

    def __getstate__(self) -> dict[str, Any]:  # spawn workers re-open their own maps
        state = self.__dict__.copy()
        state["_maps"] = {}
        return state

    def _array(self, shard: int, name: str) -> np.ndarray:
        if self._pid != os.getpid():  # forked worker: do not share the parent's maps
            self._maps, self._pid = {}, os.getpid()
        key = (shard, name)
        if key not in self._maps:
            path = self._dirs[shard] / f"{name}.npy"
            try:
                mm = np.load(path, mmap_mode="r", allow_pickle=False)
            except Exception as exc:  # numpy raises ValueError, OSError, EOFError, ... on damage
                raise DatasetError(
                    f"{path}: unreadable ({type(exc).__name__}: {exc}); run twinsim verify"
                ) from None
            self._check(path, mm, name, shard)
            self._maps[key] = mm
        return self._maps[key]

    def _check(self, path: Path, mm: np.ndarray, name: str, shard: int) -> None:
        """The array must have the manifest's dtype and shape (never reinterpret bytes)."""
        sch = self.schema[name]
        want = [self._rows[shard] if d == "N" else d for d in sch["shape"]]
        ok = mm.dtype.name == sch["dtype"] and mm.ndim == len(want)
        ok = ok and all(
            not isinstance(w, int) or g == w for g, w in zip(mm.shape, want, strict=False)
        )
        if not ok:
            raise DatasetError(
                f"{path}: dtype {mm.dtype.name} shape {list(mm.shape)}; the manifest says "
                f"{sch['dtype']} {want} (run twinsim verify)"
            )

    def get(self, index: int) -> dict[str, Any]:
        """Clip ``index``: label arrays (T' leading axis) plus metadata."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"clip {index} out of range for {len(self)} clips")
        shard, row, start = (int(x) for x in self._items[index])
        out: dict[str, Any] = {}
        for name in self.names:
            mm = self._array(shard, name)
            if self.schema[name]["per_frame"]:
                a = np.array(mm[row, start : start + self.span : self.frame_step])
            else:
                a = np.array(mm[row])
            if name.startswith("object_"):
                a = pad_bodies(name, a, self.max_objects)
            out[name] = a
        for name in _META:
            out[name] = self._array(shard, name)[row].item()
        meta = self.clips[shard][row]
        out.update(meta)
        out["start"] = start
        out["shard"] = self.shards[shard]
        return out

    __getitem__ = get


def _slim(clip: dict[str, Any], where: Path) -> dict[str, Any]:
    """Per-clip metadata kept in memory (strings only; the spec stays in shard.json)."""
    v = clip.get("violation") or {}
    try:
        return {
            "family": str(clip["family"]),
            "split": str(clip["split"]),
            "role": str(clip["role"]),
            "violation_kind": str(v.get("kind", "")) if isinstance(v, dict) else "",
        }
    except KeyError as exc:
        raise DatasetError(f"{where}: a clip lacks field {exc}") from None
