"""Training batches: clips of a :class:`~twinsim.neural.clips.ClipSource` (engine scenes
simulated now, a stored dataset, or toy scenes) mixed with real footage, sampled statelessly
from a seed so that resumed runs see the same data.

A batch for global step ``s`` depends only on ``(seed, s, rank)``, never on how many batches
were drawn before. Every batch is a dict of stacked clip labels (see :mod:`.clips`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from twinsim.neural.clips import (
    TOY,
    ClipSource,
    engine_source,
    render_spec,
    toy_scenes,
)
from twinsim.neural.footage import Clip

__all__ = ["TOY", "ClipBank", "render_spec", "synthetic_scenes", "toy_scenes"]


@dataclass
class ClipBank:
    """Scenes to draw training batches from.

    Attributes:
        source: the synthetic scenes and the labels derived from them.
        real: decoded real clips at the same resolution (may be empty).
        real_fraction: share of each batch taken from ``real`` when it is not empty.
    """

    source: ClipSource
    real: list[Clip] = field(default_factory=list)
    real_fraction: float = 0.0
    _spans: dict[tuple[int, int], list[tuple[int, int]]] = field(default_factory=dict, repr=False)

    def batch(
        self, seed: int, step: int, batch_size: int, length: int, rank: int = 0
    ) -> np.ndarray:
        """Clips (B, length, R, R, 3) uint8 for global ``step``; a pure function of its args."""
        return self.sample(seed, step, batch_size, length, rank)["rgb"]

    def sample(
        self,
        seed: int,
        step: int,
        batch_size: int,
        length: int,
        rank: int = 0,
        warm: int = 0,
        span_fraction: float = 0.0,
    ) -> dict[str, np.ndarray]:
        """A batch dict: every label of the source stacked to (B, length, ...).

        A share ``span_fraction`` of the synthetic clips is drawn from windows that span an
        occlusion: the object is visible at the start, fully hidden within the first ``warm``
        frames and at least half visible again within the rest (see :meth:`spanning_starts`).
        Real clips carry no labels: no occluder, no target, flow invalid. A pure function of
        its arguments.
        """
        rng = np.random.default_rng([seed, step, rank])
        real = [c for c in self.real if len(c.frames) >= length]
        n_real = round(batch_size * self.real_fraction) if real else 0
        n, t = len(self.source), self.source.frames
        if t < length:
            raise ValueError(f"clip length {length} exceeds the {t} frames per scene")
        spans = self.spanning_starts(length, warm) if span_fraction > 0 else []
        n_span = round((batch_size - n_real) * span_fraction) if spans else 0
        clips = []
        for j in range(batch_size - n_real):
            if j < n_span:
                i, s = spans[rng.integers(len(spans))]
            else:
                i, s = int(rng.integers(n)), int(rng.integers(t - length + 1))
            clips.append(self.source.clip(i, s, length))
        for _ in range(n_real):
            c = real[rng.integers(len(real))]
            s = rng.integers(len(c.frames) - length + 1)
            rgb = c.frames[s : s + length]
            clips.append(_unlabelled(rgb[:, :, ::-1] if rng.random() < 0.5 else rgb, clips))
        return {k: np.ascontiguousarray(np.stack([c[k] for c in clips])) for k in clips[0]}

    def spanning_starts(self, length: int, warm: int) -> list[tuple[int, int]]:
        """(scene, start) of every window that spans an occlusion (see :meth:`sample`)."""
        if "visible" not in self.source.labels:
            return []
        if (length, warm) in self._spans:
            return self._spans[length, warm]
        out: list[tuple[int, int]] = []
        for i, vis in enumerate(self.source.visible()):
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


def _unlabelled(rgb: np.ndarray, like: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """A real clip as a clip dict with the same keys as the synthetic ones (no labels)."""
    out = {"rgb": np.ascontiguousarray(rgb)}
    keys = like[0].keys() if like else ()
    shape = rgb.shape[:3]
    if "occluder" in keys:
        out["occluder"] = np.zeros(shape, bool)
    if "visible" in keys:
        out["visible"] = np.ones(len(rgb), np.float32)
    if "flow" in keys:
        out["flow"] = np.zeros((*shape, 2), np.float32)
        out["flow_valid"] = np.zeros(shape, bool)
    return out


def synthetic_scenes(
    families: Sequence[str], n: int, frames: int, resolution: int, seed: int, progress: bool = True
) -> np.ndarray:
    """(n, frames, R, R, 3) uint8 scenes of ``families`` (see :func:`.clips.engine_source`)."""
    src = engine_source(families, n, frames, resolution, seed, progress=progress)
    return np.stack([src.rgb(i) for i in range(len(src))])
