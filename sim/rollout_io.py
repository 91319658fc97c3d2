"""Rollout on disk: ``preview.mp4``, ``arrays.npz`` and ``labels.json`` in one folder.

arrays.npz keys (absent when the label was not computed): ``times`` (T,), ``rgb``, ``depth``,
``segmentation``, ``flow`` (per-frame arrays, see Rollout), object tracks stacked over bodies in
spec order: ``object_position`` (T, N, 3), ``object_orientation`` (T, N, 4),
``object_linear_velocity`` / ``object_angular_velocity`` (T, N, 3), ``object_present`` (T, N),
``object_bbox`` (T, N, 4), ``object_visible_fraction`` (T, N), ``object_occluded`` (T, N);
camera ``camera_K`` (3, 3) and ``camera_world_to_camera`` (T, 4, 4).
labels.json: schema version, spec, labels, id_to_name, camera, contacts, violation.
Every file is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
from twinsim.sim.rollout import CameraTrack, Contact, ObjectTrack, Rollout
from twinsim.sim.spec import SceneSpec

__all__ = ["LABEL_SCHEMA_VERSION", "load_rollout", "save_rollout", "write_preview"]

LABEL_SCHEMA_VERSION = 1
_TRACK_FIELDS = (
    "position",
    "orientation",
    "linear_velocity",
    "angular_velocity",
    "present",
    "bbox",
    "visible_fraction",
    "occluded",
)


def write_preview(rgb: np.ndarray, path: str | Path, fps: float) -> Path:
    """Encode (T, H, W, 3) uint8 frames as H.264 mp4 (odd sizes padded by one pixel)."""
    import imageio.v2 as imageio

    path = Path(path)
    h, w = rgb.shape[1:3]
    frames = np.pad(rgb, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.mp4")
    with imageio.get_writer(
        tmp, fps=fps, codec="libx264", macro_block_size=1, quality=8, pixelformat="yuv420p"
    ) as writer:
        for frame in frames:
            writer.append_data(frame)
    os.replace(tmp, path)
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def prepare_output_dir(directory: str | Path) -> Path:
    """Create ``directory`` if needed and check it is a writable folder.

    Raises:
        NotADirectoryError: the path (or a parent) exists and is not a folder.
        PermissionError: the folder cannot be written.
    """
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"output path {str(out)!r} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(f"output path {str(out)!r}: a parent is not a folder") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise PermissionError(f"output folder {str(out)!r} is not writable")
    return out


def save_rollout(rollout: Rollout, directory: str | Path, *, compress: bool = True) -> Path:
    """Write ``rollout`` into ``directory`` (created if needed); returns the directory.

    Every file is written to a temporary name and renamed, so an existing rollout in
    ``directory`` is replaced whole or left untouched.
    """
    out = prepare_output_dir(directory)
    arrays: dict[str, np.ndarray] = {"times": rollout.times}
    for key in ("rgb", "depth", "segmentation", "flow"):
        value = getattr(rollout, key)
        if value is not None:
            arrays[key] = value
    if rollout.objects:
        for f in _TRACK_FIELDS:
            if getattr(rollout.objects[0], f) is not None:
                arrays[f"object_{f}"] = np.stack([getattr(o, f) for o in rollout.objects], 1)
    cam = rollout.camera
    if cam is not None:
        arrays["camera_K"] = cam.K
        arrays["camera_world_to_camera"] = cam.world_to_camera
    tmp = out / f".arrays.tmp{os.getpid()}.npz"
    (np.savez_compressed if compress else np.savez)(tmp, **arrays)
    os.replace(tmp, out / "arrays.npz")
    spec = rollout.spec
    meta = {
        "schema_version": LABEL_SCHEMA_VERSION,
        "labels": sorted(rollout.labels),
        "num_frames": rollout.num_frames,
        "fps": spec.world.fps,
        "object_names": list(spec.names),
        "id_to_name": {str(k): v for k, v in rollout.id_to_name.items()},
        "camera": None
        if cam is None
        else {
            "name": cam.name,
            "width": cam.width,
            "height": cam.height,
            "K": cam.K.tolist(),
            "near": cam.near,
            "far": cam.far,
        },
        "contacts": [dataclasses.asdict(c) for c in rollout.contacts],
        "violation": None if spec.violation is None else spec.to_dict()["violation"],
        "spec": spec.to_dict(),
    }
    _write_atomic(out / "labels.json", json.dumps(meta, indent=1).encode())
    if rollout.rgb is not None:
        write_preview(rollout.rgb, out / "preview.mp4", spec.world.fps)
    return out


def load_rollout(directory: str | Path) -> Rollout:
    """Read a folder written by :func:`save_rollout` (no pickles are loaded)."""
    src = Path(directory)
    for name in ("labels.json", "arrays.npz"):
        if not (src / name).is_file():
            raise FileNotFoundError(f"{src / name} not found: not a saved rollout folder")
    meta = json.loads((src / "labels.json").read_text())
    if meta.get("schema_version") != LABEL_SCHEMA_VERSION:
        raise ValueError(
            f"labels.json schema_version {meta.get('schema_version')!r}; "
            f"this twinsim reads {LABEL_SCHEMA_VERSION}"
        )
    spec = SceneSpec.from_dict(meta["spec"])
    with np.load(src / "arrays.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    objects = []
    if "object_position" in arrays:
        for i, name in enumerate(meta["object_names"]):
            kw = {f: arrays[f"object_{f}"][:, i] for f in _TRACK_FIELDS if f"object_{f}" in arrays}
            objects.append(ObjectTrack(name=name, **kw))
    camera = None
    if meta["camera"] is not None:
        c = meta["camera"]
        camera = CameraTrack(
            name=c["name"],
            width=c["width"],
            height=c["height"],
            K=arrays["camera_K"],
            world_to_camera=arrays["camera_world_to_camera"],
            near=c["near"],
            far=c["far"],
        )
    contacts = [
        Contact(**{**c, "position": tuple(c["position"]), "normal": tuple(c["normal"])})
        for c in meta["contacts"]
    ]
    return Rollout(
        spec=spec,
        times=arrays["times"],
        labels=frozenset(meta["labels"]),
        rgb=arrays.get("rgb"),
        depth=arrays.get("depth"),
        segmentation=arrays.get("segmentation"),
        flow=arrays.get("flow"),
        objects=objects,
        camera=camera,
        contacts=contacts,
    )
