"""The result of simulating a scene: frames plus labels, with their shapes, dtypes and units.

All per-frame arrays share the leading axis T = ``spec.world.num_frames`` (frame 0 is t = 0).
Labels not requested are None. See docs/conventions.md for coordinate conventions.

On disk (:meth:`Rollout.save`): ``preview.mp4``, ``arrays.npz`` and ``labels.json`` in one folder.

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from twinsim.sim import fileio
from twinsim.sim.errors import UnknownNameError
from twinsim.sim.labels import ARRAYS, CONTACT_COLUMNS
from twinsim.sim.spec import SceneSpec

__all__ = [
    "LABEL_SCHEMA_VERSION",
    "CameraTrack",
    "Contact",
    "ObjectTrack",
    "Rollout",
    "load_rollout",
    "rollout_arrays",
    "save_rollout",
]


@dataclass
class ObjectTrack:
    """Per-frame state of one body (world frame, SI units).

    Attributes:
        name: the spec object's name; its segmentation id is ``spec.names.index(name) + 1``.
        position: (T, 3) float64, metres, centre of mass.
        orientation: (T, 4) float64 quaternion (x, y, z, w).
        linear_velocity: (T, 3) float64, m/s.
        angular_velocity: (T, 3) float64, rad/s.
        present: (T,) bool, False while the body does not exist (vanished / not yet appeared).
        bbox: (T, 4) float32 pixel box (x0, y0, x1, y1) of its visible pixels, x1/y1 exclusive;
            all -1 when not visible. None unless the "visibility" label was requested.
        visible_fraction: (T,) float32 in [0, 1], visible pixels / pixels it would cover if alone
            in the scene (0 when outside the view). None unless "visibility" was requested.
        occluded: (T,) bool, present and in view, yet not visible (visible_fraction == 0
            while its unoccluded silhouette is non-empty). None unless "visibility" was requested.
    """

    name: str
    position: np.ndarray
    orientation: np.ndarray
    linear_velocity: np.ndarray
    angular_velocity: np.ndarray
    present: np.ndarray
    bbox: np.ndarray | None = None
    visible_fraction: np.ndarray | None = None
    occluded: np.ndarray | None = None


@dataclass
class CameraTrack:
    """Pinhole camera, OpenCV convention: x right, y down, z forward (optical axis).

    Attributes:
        name: the spec camera's name.
        width, height: image size in pixels.
        K: (3, 3) float64 intrinsics; pixel (u, v) = K @ (x/z, y/z, 1), pixel centres at +0.5.
        world_to_camera: (T, 4, 4) float64 extrinsics per frame (camera may move).
        near, far: clipping planes in metres; depth of background pixels is ``far``.
    """

    name: str
    width: int
    height: int
    K: np.ndarray
    world_to_camera: np.ndarray
    near: float
    far: float


@dataclass(frozen=True)
class Contact:
    """One contact point between two bodies ("floor" for the ground plane) during a frame's steps.

    ``frame`` is the frame the contact precedes (steps between frame-1 and frame), ``position`` is
    on body ``a`` in world coordinates (m), ``normal`` points from b to a, ``normal_impulse`` is
    in N s (force times the physics timestep).
    """

    frame: int
    a: str
    b: str
    position: tuple[float, float, float]
    normal: tuple[float, float, float]
    normal_impulse: float


@dataclass
class Rollout:
    """A simulated scene with the labels requested from :func:`twinsim.sim.simulate`.

    Attributes:
        spec: the scene that was simulated.
        times: (T,) float64 seconds.
        rgb: (T, H, W, 3) uint8.
        depth: (T, H, W) float32 metric depth in metres along the optical axis (z in camera
            frame), ``camera.far`` for background pixels.
        segmentation: (T, H, W) int32; 0 = background and floor, ``i + 1`` = ``spec.objects[i]``.
        flow: (T, H, W, 2) float32 forward optical flow (du, dv) in pixels from frame t to t + 1,
            computed from the known 3D motion; the last frame is all zeros.
        objects: one :class:`ObjectTrack` per spec object, in spec order.
        camera: :class:`CameraTrack`.
        contacts: contact events (only when "contacts" was requested).
        labels: the label names that were computed.
    """

    spec: SceneSpec
    times: np.ndarray
    labels: frozenset[str]
    rgb: np.ndarray | None = None
    depth: np.ndarray | None = None
    segmentation: np.ndarray | None = None
    flow: np.ndarray | None = None
    objects: list[ObjectTrack] = field(default_factory=list)
    camera: CameraTrack | None = None
    contacts: list[Contact] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        return len(self.times)

    @property
    def id_to_name(self) -> dict[int, str]:
        """Segmentation id -> object name (0, the background, is not listed)."""
        return {i + 1: n for i, n in enumerate(self.spec.names)}

    def save(self, directory: str | Path) -> Path:
        """Write preview.mp4, arrays.npz and labels.json into ``directory`` (atomic renames)."""
        return save_rollout(self, directory)

    @classmethod
    def load(cls, directory: str | Path) -> Rollout:
        """Read a folder written by :meth:`save`."""
        return load_rollout(directory)

    def track(self, name: str) -> ObjectTrack:
        """The track of the body called ``name``."""
        for t in self.objects:
            if t.name == name:
                return t
        raise UnknownNameError("body", name, [t.name for t in self.objects])


# -- on disk --------------------------------------------------------------------------------

LABEL_SCHEMA_VERSION = 1
# ObjectTrack fields stored as ``object_<field>`` (T, K, ...) arrays.
_TRACK_FIELDS = tuple(n.removeprefix("object_") for n in ARRAYS if n.startswith("object_"))


def rollout_arrays(rollout: Rollout, labels: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """The rollout's arrays by name, laid out and typed as :data:`twinsim.sim.labels.ARRAYS`.

    Args:
        rollout: the rollout.
        labels: only the arrays of these labels, ``contacts`` included as an (M, 10) array
            of :data:`~twinsim.sim.labels.CONTACT_COLUMNS`; a body track the rollout lacks is
            all zeros. None: every array the rollout holds (contacts stay objects).
    """
    chosen = None if labels is None else frozenset(labels)
    out: dict[str, np.ndarray] = {}
    for name, info in ARRAYS.items():
        if chosen is not None and info.label not in chosen:
            continue
        value = _array(rollout, name, fill=chosen is not None)
        if value is not None:
            out[name] = np.asarray(value).astype(info.dtype, copy=False)
    if chosen is not None and "contacts" in chosen:
        ids = {n: i + 1 for i, n in enumerate(rollout.spec.names)} | {"floor": 0}
        rows = [
            (c.frame, ids.get(c.a, -1), ids.get(c.b, -1), *c.position, *c.normal, c.normal_impulse)
            for c in rollout.contacts
        ]
        out["contacts"] = np.asarray(rows, np.float64).reshape(len(rows), len(CONTACT_COLUMNS))
    return out


def _array(rollout: Rollout, name: str, *, fill: bool) -> np.ndarray | None:
    if name.startswith("object_"):
        field, tracks = name.removeprefix("object_"), rollout.objects
        if not tracks:
            if not fill:
                return None
            tail = ARRAYS[name].shape[2:]
            return np.zeros(
                (rollout.num_frames, len(rollout.spec.objects), *tail), ARRAYS[name].dtype
            )
        if getattr(tracks[0], field) is None:
            return None
        return np.stack([getattr(t, field) for t in tracks], axis=1)
    if name.startswith("camera_"):
        cam = rollout.camera
        return None if cam is None else getattr(cam, name.removeprefix("camera_"))
    return getattr(rollout, name)


def save_rollout(rollout: Rollout, directory: str | Path, *, compress: bool = True) -> Path:
    """Write ``rollout`` into ``directory`` (created if needed); returns the directory.

    Every file is written to a temporary name and renamed, so an existing rollout in
    ``directory`` is replaced whole or left untouched.
    """
    out = fileio.prepare_output_dir(directory)
    arrays = {"times": rollout.times, **rollout_arrays(rollout)}
    cam = rollout.camera
    fileio.write_npz(out / "arrays.npz", arrays, compress=compress)
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
    fileio.write_bytes(out / "labels.json", json.dumps(meta, indent=1).encode())
    if rollout.rgb is not None:
        fileio.write_mp4(out / "preview.mp4", rollout.rgb, spec.world.fps)
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
