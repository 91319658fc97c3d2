"""The sim -> neural seam: one clip source for stored datasets and on-the-fly scenes alike.

A :class:`ClipSource` holds scenes as *raw engine labels* (``rgb``, ``segmentation``, ``flow``,
``depth``) plus each scene's family and body names, either in memory (scenes simulated now, toy
scenes) or memory-mapped from a ``twinsim generate`` dataset. Every training clip is cut from
it and turned into the same dict by one function, :func:`derive_labels`:

* ``rgb`` (L, R, R, 3) uint8 — always;
* ``occluder`` (L, R, R) bool — pixels of bodies whose family declares the role ``occluder``;
* ``visible`` (L,) float — visible share of the family's ``target`` body (1 without one);
* ``flow`` (L, R, R, 2) float32 and ``flow_valid`` (L, R, R) bool — *backward* flow of frame t
  (where each pixel of frame t was in frame t - 1, in pixels, the convention of the model's
  warp), splatted from the engine's forward flow with a depth test, so a moving body passes in
  front of what it hides; pixels nothing lands on (disoccluded) and frame 0 are invalid.

Roles come from the engine's families (``Family.roles``), never from literal body names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

__all__ = [
    "CLIP_LABELS",
    "ClipSource",
    "backward_flow",
    "dataset_source",
    "derive_labels",
    "engine_source",
    "render_spec",
    "toy_source",
]

TOY = "toy"  # built-in pure-numpy family: moving squares and a sliding occluder bar (tests)
CLIP_LABELS = ("rgb", "occluder", "visible", "flow")  # what a clip dict can carry
_RAW_FOR = {  # engine labels each derived label needs
    "rgb": ("rgb",),
    "occluder": ("segmentation",),
    "visible": ("segmentation",),
    "flow": ("flow", "depth"),
}


def raw_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """Engine labels needed to derive the clip ``labels``."""
    out: list[str] = []
    for name in labels:
        if name not in _RAW_FOR:
            from twinsim.sim.errors import UnknownNameError

            raise UnknownNameError("clip label", name, CLIP_LABELS)
        out += [r for r in _RAW_FOR[name] if r not in out]
    return tuple(out)


@dataclass(frozen=True)
class SceneMeta:
    """Family and body names of one scene (segmentation id ``i + 1`` is ``names[i]``)."""

    family: str
    names: tuple[str, ...]


def _role_ids(meta: SceneMeta, role: str) -> list[int]:
    """Segmentation ids of the bodies the scene's family declares with ``role``."""
    if meta.family == TOY:  # the toy generator draws its occluder bar as id 1
        return [1] if role == "occluder" else []
    from twinsim.sim.families import family_info

    try:
        bodies = family_info(meta.family).bodies_with_role(role)
    except Exception:  # a family this installation does not know: no roles
        return []
    return [i + 1 for i, n in enumerate(meta.names) if n in bodies]


def backward_flow(flow: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Backward flow from the engine's forward flow (T, H, W, 2) and depth (T, H, W).

    Entry t (t >= 1) says, for each pixel of frame t, where it was in frame t - 1 (du, dv) in
    pixels: every pixel p of frame t - 1 is splatted to round(p + f(p)) with value -f(p); where
    several land, the nearest (smallest depth) wins. Returns ``(flow, valid)``: (T, H, W, 2)
    float32 and (T, H, W) bool (False at frame 0 and where nothing landed: disoccluded pixels).
    """
    t_n, h, w = depth.shape
    out = np.zeros((t_n, h, w, 2), np.float32)
    valid = np.zeros((t_n, h, w), bool)
    v, u = np.mgrid[0:h, 0:w]
    for t in range(1, t_n):
        f = np.asarray(flow[t - 1], np.float32)
        qu = np.rint(u + f[..., 0]).astype(np.int64).ravel()
        qv = np.rint(v + f[..., 1]).astype(np.int64).ravel()
        ok = (qu >= 0) & (qu < w) & (qv >= 0) & (qv < h)
        idx = np.flatnonzero(ok)
        dst = qv[idx] * w + qu[idx]
        z = np.asarray(depth[t - 1], np.float32).ravel()[idx]
        order = np.lexsort((-z, dst))  # per destination, the nearest source last
        dst, src = dst[order], idx[order]
        flat = out[t].reshape(-1, 2)
        flat[dst] = -f.reshape(-1, 2)[src]  # later (nearer) writes win
        valid[t].reshape(-1)[dst] = True
    return out, valid


def derive_labels(
    raw: dict[str, np.ndarray], meta: SceneMeta, labels: Sequence[str]
) -> dict[str, np.ndarray]:
    """The clip dict (see the module docstring) of a window of raw engine labels."""
    out: dict[str, np.ndarray] = {"rgb": np.asarray(raw["rgb"])}
    n = len(out["rgb"])
    if "occluder" in labels or "visible" in labels:
        seg = np.asarray(raw["segmentation"])
        if "occluder" in labels:
            ids = _role_ids(meta, "occluder")
            out["occluder"] = np.isin(seg, ids) if ids else np.zeros(seg.shape, bool)
        if "visible" in labels:
            target = _role_ids(meta, "target")
            vis = np.ones(n, np.float32)
            if target:
                count = np.isin(seg, target).sum(axis=(1, 2)).astype(np.float32)
                vis = count / max(float(count.max()), 1.0)
            out["visible"] = vis
    if "flow" in labels:
        out["flow"], out["flow_valid"] = backward_flow(raw["flow"], raw["depth"])
    return out


@dataclass
class ClipSource:
    """Scenes to cut training clips from; see the module docstring.

    Attributes:
        labels: the clip labels this source derives (``rgb`` always first).
        scenes: in-memory scenes: one dict of raw engine arrays per scene (or None when
            ``reader`` serves them).
        metas: family and body names per scene.
        reader: a dataset ClipReader (from ``open_dataset(...).reader``) of whole scenes.
        frames: frames per scene (every scene of a source has the same count).
    """

    labels: tuple[str, ...]
    metas: list[SceneMeta]
    frames: int
    scenes: list[dict[str, np.ndarray]] | None = None
    reader: Any = None
    _visible: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.metas)

    def raw(self, i: int, start: int = 0, length: int | None = None) -> dict[str, np.ndarray]:
        """Raw engine arrays of scene ``i``, frames ``start .. start + length``."""
        end = self.frames if length is None else start + length
        if self.scenes is not None:
            return {k: v[start:end] for k, v in self.scenes[i].items()}
        item = self.reader.get(i)
        return {k: np.asarray(item[k][start:end]) for k in raw_labels(self.labels)}

    def clip(self, i: int, start: int = 0, length: int | None = None) -> dict[str, np.ndarray]:
        """The clip dict of scene ``i``, frames ``start .. start + length``."""
        return derive_labels(self.raw(i, start, length), self.metas[i], self.labels)

    def rgb(self, i: int) -> np.ndarray:
        """Whole scene ``i`` as (T, R, R, 3) uint8."""
        return np.asarray(self.raw(i)["rgb"])

    def visible(self) -> np.ndarray:
        """(N, T) visible share of each scene's target (computed once, from segmentation)."""
        if self._visible is None:
            if "visible" not in self.labels:
                raise ValueError("this clip source was built without the 'visible' label")
            self._visible = np.stack([self.clip(i)["visible"] for i in range(len(self))])
        return self._visible


def render_spec(spec, resolution: int, frames: int | None = None, labels=("rgb",)):
    """Simulate ``spec`` with square ``resolution`` cameras (and ``frames`` frames if given)."""
    from twinsim.sim import simulate
    from twinsim.sim.spec import with_image_size

    spec = with_image_size(spec, resolution)
    if frames is not None:
        world = dataclasses.replace(spec.world, duration=(frames - 1) / spec.world.fps)
        spec = dataclasses.replace(spec, world=world)
    return simulate(spec, labels=labels)


def _fit(a: np.ndarray, frames: int) -> np.ndarray:
    """``frames`` frames of ``a``: cut, or a short scene holds its last frame."""
    if len(a) >= frames:
        return a[:frames]
    return np.concatenate([a, np.repeat(a[-1:], frames - len(a), 0)])


def _compact(name: str, a: np.ndarray) -> np.ndarray:
    """Smaller in-memory dtypes (a 240-scene training set stays a few hundred MB)."""
    if name == "segmentation":
        return a.astype(np.uint8)
    if name in ("flow", "depth"):
        return a.astype(np.float16)
    return a


def engine_source(
    families: Sequence[str],
    n: int,
    frames: int,
    resolution: int,
    seed: int,
    labels: Sequence[str] = ("rgb",),
    progress: bool = True,
    deadline: float | None = None,
) -> ClipSource:
    """Simulate ``n`` possible scenes now, family ``families[i % F]`` with seed ``seed + i``
    (``toy`` scenes come from :func:`toy_scenes`). ``deadline`` (time.time()) stops early."""
    import time

    from twinsim.sim.families import sample_scene

    labels = tuple(dict.fromkeys(("rgb", *labels)))
    need = raw_labels(labels)
    scenes, metas = [], []
    for i in tqdm(range(n), desc="simulate scenes", unit="scene", disable=not progress):
        fam = families[i % len(families)]
        if fam == TOY:
            raw, meta = _toy_scene(frames, resolution, seed + i)
        else:
            spec = sample_scene(fam, seed + i)
            res = render_spec(spec, resolution, frames, labels=need)
            raw = {k: _compact(k, _fit(np.asarray(getattr(res, k)), frames)) for k in need}
            meta = SceneMeta(fam, tuple(spec.names))
        scenes.append({k: raw[k] for k in need if k in raw})
        metas.append(meta)
        if deadline is not None and time.time() > deadline and i >= 1:
            tqdm.write(f"simulate scenes: time budget spent after {i + 1} of {n} scenes")
            break
    if any(fam == TOY for fam in families) and "flow" in labels:
        raise ValueError("the toy family has no flow labels; use engine families for flow loss")
    return ClipSource(labels, metas, frames, scenes=scenes)


def _toy_scene(frames: int, resolution: int, seed: int) -> tuple[dict[str, np.ndarray], SceneMeta]:
    rgb, seg = _toy(frames, resolution, seed)
    return {"rgb": rgb, "segmentation": seg}, SceneMeta(TOY, ("bar",))


def toy_source(n: int, frames: int, resolution: int, seed: int, labels=("rgb",)) -> ClipSource:
    """``n`` pure-numpy toy scenes (no engine) as a clip source."""
    labels = tuple(dict.fromkeys(("rgb", *labels)))
    if "flow" in labels:
        raise ValueError("the toy family has no flow labels; use engine families for flow loss")
    pairs = [_toy_scene(frames, resolution, seed + i) for i in range(n)]
    return ClipSource(labels, [m for _, m in pairs], frames, scenes=[r for r, _ in pairs])


def _toy(frames: int, r: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One toy scene: 1-2 coloured squares on a floor and a dark bar sliding across (id 1)."""
    rgb = np.zeros((frames, r, r, 3), np.uint8)
    seg = np.zeros((frames, r, r), np.uint8)
    rng = np.random.default_rng([seed])
    bg = rng.integers(150, 230, 3)
    objs = []
    for _ in range(int(rng.integers(1, 3))):
        size = int(rng.integers(r // 8, r // 4))
        pos = rng.uniform(0, r - size, 2)
        vel = rng.uniform(-1.5, 1.5, 2) * r / 32
        objs.append((size, pos, vel, rng.integers(0, 255, 3)))
    bar_w, bar_v = r // 5, rng.choice([-1, 1]) * rng.uniform(0.8, 1.6) * r / 32
    bar_x = -bar_w if bar_v > 0 else r
    bar_c = rng.integers(0, 100, 3)
    for t in range(frames):
        img = rgb[t]
        img[:] = bg
        img[int(r * 0.75) :] = bg // 2
        for size, pos, vel, col in objs:
            x, y = (pos + vel * t).astype(int)
            # bounce off the borders: reflect the unbounded coordinate
            x = abs((x + r - size) % (2 * (r - size)) - (r - size))
            y = abs((y + r - size) % (2 * (r - size)) - (r - size))
            img[y : y + size, x : x + size] = col
        bx = int(bar_x + bar_v * t)
        img[:, max(bx, 0) : max(bx + bar_w, 0)] = bar_c
        seg[t, :, max(bx, 0) : max(bx + bar_w, 0)] = 1
    return rgb, seg


def toy_scenes(n: int, frames: int, resolution: int, seed: int) -> np.ndarray:
    """(n, frames, R, R, 3) uint8 toy scenes (see :func:`toy_source`)."""
    return np.stack([_toy(frames, resolution, seed + i)[0] for i in range(n)])


def dataset_source(
    root: str | Path,
    split: str,
    resolution: int,
    labels: Sequence[str] = ("rgb",),
    possible_only: bool = True,
    max_scenes: int | None = None,
) -> ClipSource:
    """Whole scenes of one split of a ``twinsim generate`` dataset, read lazily (memory-mapped).

    Raises:
        DatasetError / UnknownNameError: the dataset lacks a label the clip labels need (the
            message says which to generate), or its frame size differs from ``resolution``.
        ValueError: the split has no possible scene.
    """
    import json

    from twinsim.sim import DatasetError, open_dataset

    labels = tuple(dict.fromkeys(("rgb", *labels)))
    need = raw_labels(labels)
    try:  # the manifest's documented JSON (docs/datasets.md); open_dataset validates it below
        manifest = json.loads((Path(root) / "manifest.json").read_text("utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{root} is not a twinsim dataset (no manifest.json)") from None
    stored = manifest["config"]["labels"]
    missing = [r for r in need if r not in stored]
    if missing:
        raise DatasetError(
            f"{root} does not store {', '.join(missing)}, which the clip labels "
            f"{', '.join(labels)} need (training losses that use engine labels); regenerate "
            f"with `twinsim generate ... --labels {','.join(dict.fromkeys(('rgb', *need)))}` "
            f"or switch those losses off"
        )
    size = manifest["config"].get("size", resolution)
    if size != resolution:
        raise DatasetError(
            f"{root} has {size}x{size} frames; the model needs {resolution}x{resolution} "
            f"(generate with --size {resolution})"
        )
    reader = open_dataset(root, split, labels=list(need)).reader  # torch-free ClipReader
    keep, metas = [], []
    row = 0
    for shard, clips in enumerate(reader.clips):
        doc = json.loads((reader.root / reader.shards[shard] / "shard.json").read_text("utf-8"))
        for c_slim, c_full in zip(clips, doc["clips"], strict=True):
            if not (possible_only and c_slim["role"] == "impossible"):
                keep.append(row)
                metas.append(SceneMeta(c_full["family"], tuple(c_full.get("names", ()))))
            row += 1
    if max_scenes is not None:
        keep, metas = keep[:max_scenes], metas[:max_scenes]
    if not keep:
        raise ValueError(f"dataset {root} has no possible clips in split {split!r}")
    return ClipSource(labels, metas, int(manifest["config"]["frames"]), reader=_Rows(reader, keep))


class _Rows:
    """A ClipReader of whole scenes restricted to some rows (possible clips only)."""

    def __init__(self, reader: Any, rows: list[int]) -> None:
        self.reader, self.rows = reader, rows

    def get(self, i: int) -> dict[str, Any]:
        return self.reader.get(self.rows[i])
