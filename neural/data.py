"""Training clips: synthetic scenes (engine families, a generated dataset, or a toy generator)
mixed with real footage, sampled statelessly from a seed so that resumed runs see the same data.

A :class:`ClipBank` holds whole scenes in memory as uint8 (N, T, R, R, 3); a batch for global step
``s`` depends only on ``(seed, s, rank)``, never on how many batches were drawn before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm
from twinsim.neural.footage import Clip

__all__ = [
    "ClipBank",
    "dataset_scenes",
    "engine_scenes",
    "labelled_scenes",
    "render_spec",
    "synthetic_scenes",
    "toy_scenes",
]

TOY = "toy"  # built-in pure-numpy family: moving squares and a sliding occluder (for tests)
OCCLUDER_NAMES = ("occluder", "screen")  # bodies whose pixels the memory should not store


@dataclass
class ClipBank:
    """Scenes to draw training clips from.

    Attributes:
        synthetic: (N, T, R, R, 3) uint8 synthetic scenes.
        real: decoded real clips at the same resolution (may be empty).
        real_fraction: share of each batch taken from ``real`` when it is not empty.
        occluder: optional (N, T, R, R) bool, pixels covered by an occluder (engine labels).
        visible: optional (N, T) float, visible fraction of the occluded object per frame
            (1 where a scene has no occluder); used to sample windows spanning an occlusion.
    """

    synthetic: np.ndarray
    real: list[Clip] = field(default_factory=list)
    real_fraction: float = 0.0
    occluder: np.ndarray | None = None
    visible: np.ndarray | None = None
    _spans: dict[tuple[int, int], list[tuple[int, int]]] = field(default_factory=dict, repr=False)

    def batch(
        self, seed: int, step: int, batch_size: int, length: int, rank: int = 0
    ) -> np.ndarray:
        """Clips (B, length, R, R, 3) uint8 for global ``step``; a pure function of its args."""
        return self.sample(seed, step, batch_size, length, rank)[0]

    def sample(
        self,
        seed: int,
        step: int,
        batch_size: int,
        length: int,
        rank: int = 0,
        warm: int = 0,
        span_fraction: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Clips (B, length, R, R, 3) uint8 and occluder masks (B, length, R, R) bool.

        A share ``span_fraction`` of the synthetic clips is drawn from windows that span an
        occlusion: the object is visible at the start, fully hidden within the first ``warm``
        frames and at least half visible again within the rest (see :meth:`spanning_starts`).
        Masks are None without engine labels; real clips have no occluder. A pure function of
        its arguments.
        """
        rng = np.random.default_rng([seed, step, rank])
        real = [c for c in self.real if len(c.frames) >= length]
        n_real = round(batch_size * self.real_fraction) if real else 0
        out, masks = [], []
        n, t = self.synthetic.shape[:2]
        if t < length:
            raise ValueError(f"clip length {length} exceeds the {t} frames per scene")
        spans = self.spanning_starts(length, warm) if span_fraction > 0 else []
        n_span = round((batch_size - n_real) * span_fraction) if spans else 0
        for j in range(batch_size - n_real):
            if j < n_span:
                i, s = spans[rng.integers(len(spans))]
            else:
                i, s = rng.integers(n), rng.integers(t - length + 1)
            out.append(self.synthetic[i, s : s + length])
            if self.occluder is not None:
                masks.append(self.occluder[i, s : s + length])
        for _ in range(n_real):
            c = real[rng.integers(len(real))]
            s = rng.integers(len(c.frames) - length + 1)
            clip = c.frames[s : s + length]
            out.append(clip[:, :, ::-1] if rng.random() < 0.5 else clip)  # mirror augmentation
            if self.occluder is not None:
                masks.append(np.zeros(clip.shape[:3], bool))
        m = np.ascontiguousarray(np.stack(masks)) if masks else None
        return np.ascontiguousarray(np.stack(out)), m

    def spanning_starts(self, length: int, warm: int) -> list[tuple[int, int]]:
        """(scene, start) of every window that spans an occlusion (see :meth:`sample`)."""
        if self.visible is None:
            return []
        if (length, warm) in self._spans:
            return self._spans[length, warm]
        out: list[tuple[int, int]] = []
        for i, vis in enumerate(self.visible):
            for s in range(len(vis) - length + 1):
                w = vis[s : s + length]
                hidden = np.flatnonzero(w[:warm] < 0.05)
                if w[0] < 0.95 or len(hidden) == 0:
                    continue
                back = np.flatnonzero(w[hidden[-1] :] >= 0.5)
                if len(back) and hidden[-1] + back[0] >= warm:
                    out.append((i, s))
        self._spans[length, warm] = out
        return out


def toy_scenes(n: int, frames: int, resolution: int, seed: int) -> np.ndarray:
    """Pure-numpy scenes: 1-2 coloured squares moving on a floor, a bar sliding across.

    Fast and engine-free, used by the tests and as a fallback; (n, frames, R, R, 3) uint8.
    """
    out = np.zeros((n, frames, resolution, resolution, 3), np.uint8)
    r = resolution
    for i in range(n):
        rng = np.random.default_rng([seed, i])
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
            img = out[i, t]
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
    return out


def render_spec(spec, resolution: int, frames: int | None = None, labels=("rgb",)):
    """Simulate ``spec`` with square ``resolution`` cameras (and ``frames`` frames if given)."""
    from twinsim.sim import simulate

    cams = tuple(dataclasses.replace(c, width=resolution, height=resolution) for c in spec.cameras)
    world = spec.world
    if frames is not None:
        world = dataclasses.replace(world, duration=(frames - 1) / world.fps)
    return simulate(dataclasses.replace(spec, cameras=cams, world=world), labels=labels)


def _scene_sampler():
    """``twinsim.sim.families.sample_scene``, or the minimal fallback scenes when absent."""
    try:
        from twinsim.sim.families import sample_scene
    except ImportError:
        from twinsim.neural.fallback_scenes import fallback_scene

        tqdm.write("twinsim.sim.families unavailable: using neural/fallback_scenes.py")
        return fallback_scene
    return sample_scene


def engine_scenes(
    families: Sequence[str], n: int, frames: int, resolution: int, seed: int, progress: bool = True
) -> np.ndarray:
    """Simulate ``n`` possible scenes, family ``families[i % F]`` with seed ``seed + i``."""
    sample_scene = _scene_sampler()
    out = np.zeros((n, frames, resolution, resolution, 3), np.uint8)
    for i in tqdm(range(n), desc="simulate scenes", unit="scene", disable=not progress):
        spec = sample_scene(families[i % len(families)], seed + i)
        rgb = render_spec(spec, resolution, frames).rgb
        out[i, : len(rgb)] = rgb[:frames]
        out[i, len(rgb) :] = rgb[-1]  # a short scene holds its last frame
    return out


def _occluder_labels(result) -> tuple[np.ndarray, np.ndarray]:
    """Occluder pixel masks (T, R, R) and the occluded object's visible fraction (T,)."""
    names = result.spec.names
    seg = np.asarray(result.segmentation)
    ids = [k + 1 for k, name in enumerate(names) if name in OCCLUDER_NAMES]
    occ = np.isin(seg, ids) if ids else np.zeros(seg.shape, bool)
    vis = np.ones(len(seg))
    if ids and "target" in names:
        count = (seg == names.index("target") + 1).sum(axis=(1, 2)).astype(float)
        vis = count / max(count.max(), 1.0)
    return occ, vis


def labelled_scenes(
    families: Sequence[str], n: int, frames: int, resolution: int, seed: int, progress: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`engine_scenes`, plus occluder masks (n, frames, R, R) bool and the occluded
    object's visible fraction (n, frames) from the engine's segmentation labels."""
    sample_scene = _scene_sampler()
    rgb_out = np.zeros((n, frames, resolution, resolution, 3), np.uint8)
    occ_out = np.zeros((n, frames, resolution, resolution), bool)
    vis_out = np.ones((n, frames))
    for i in tqdm(range(n), desc="simulate scenes", unit="scene", disable=not progress):
        spec = sample_scene(families[i % len(families)], seed + i)
        res = render_spec(spec, resolution, frames, labels=("rgb", "segmentation"))
        occ, vis = _occluder_labels(res)
        k = min(len(res.rgb), frames)
        rgb_out[i, :k], occ_out[i, :k], vis_out[i, :k] = res.rgb[:k], occ[:k], vis[:k]
        rgb_out[i, k:], occ_out[i, k:], vis_out[i, k:] = res.rgb[k - 1], occ[k - 1], vis[k - 1]
    return rgb_out, occ_out, vis_out


def synthetic_scenes(
    families: Sequence[str], n: int, frames: int, resolution: int, seed: int, progress: bool = True
) -> np.ndarray:
    """Engine scenes for engine families, toy scenes for the ``toy`` family, interleaved."""
    if all(f == TOY for f in families):
        return toy_scenes(n, frames, resolution, seed)
    if TOY not in families:
        return engine_scenes(families, n, frames, resolution, seed, progress)
    engine = [f for f in families if f != TOY]
    n_toy = n // len(families)
    parts = [
        toy_scenes(n_toy, frames, resolution, seed),
        engine_scenes(engine, n - n_toy, frames, resolution, seed + n_toy, progress),
    ]
    return np.concatenate(parts)


def dataset_scenes(
    root: str | Path,
    split: str,
    resolution: int,
    max_scenes: int = 2000,
    possible_only: bool = True,
) -> np.ndarray:
    """Whole scenes (rgb) of a ``twinsim generate`` dataset split, resized if needed."""
    from twinsim.neural.footage import resize_frames
    from twinsim.sim import open_dataset

    ds = open_dataset(root, split=split, labels=["rgb"])
    scenes = []
    for i in range(len(ds)):
        item = ds[i]
        if possible_only and item.get("impossible"):
            continue
        rgb = np.asarray(item["rgb"])
        if rgb.shape[1] != resolution:
            rgb = resize_frames(rgb, resolution)
        scenes.append(rgb)
        if len(scenes) >= max_scenes:
            break
    if not scenes:
        raise ValueError(f"dataset {root} has no possible clips in split {split!r}")
    t = min(len(s) for s in scenes)
    return np.stack([s[:t] for s in scenes])
