"""What a rollout returns: the frames, the backend that made them and what they cost."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from twinsim.sim import Rollout, SceneSpec


@dataclass(frozen=True)
class Cost:
    """What a rollout cost: wall seconds and frames produced per second."""

    wall_s: float
    frames: int

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else float("inf")

    def to_dict(self) -> dict[str, float]:
        return {"wall_s": round(self.wall_s, 4), "frames": self.frames, "fps": round(self.fps, 1)}


@dataclass
class RolloutResult:
    """A rollout from one backend.

    Attributes:
        frames: (T, H, W, 3) uint8, the produced frames (engine: scene frames 0..T-1; neural and
            hybrid: the frames *after* the context).
        backend: the backend that ran ("engine", "neural" or "hybrid").
        reason: why this backend was used (the ``auto`` rule that fired, or "asked for").
        cost: wall time and frames/s of producing ``frames``.
        labels: the engine's labels (a :class:`twinsim.sim.Rollout`) for the frames the engine
            rendered: all of ``frames`` for the engine, the context frames for a neural rollout
            of a scene, None for raw frames.
        context: (K, H, W, 3) uint8 frames the prediction was conditioned on (None for engine).
        start_frame: scene frame index of ``frames[0]`` (0 for engine, K for a scene's
            prediction, ``len(context)`` for raw frames).
        spec: the scene (given, or estimated by the hybrid backend); None for raw frames.
        fps: frames per second of the video.
        extra: backend-specific details (the hybrid backend's uncertainty and camera_source:
            given, estimated or assumed; the model name; with ``auto`` on raw frames,
            ``hindcast_psnr``: each predictor's dB on the clip's last frames, which it chose by).
    """

    frames: np.ndarray
    backend: str
    reason: str
    cost: Cost
    labels: Rollout | None = None
    context: np.ndarray | None = None
    start_frame: int = 0
    spec: SceneSpec | None = None
    fps: float = 24.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    def summary(self) -> str:
        """One line: backend, frames, size, cost and reason."""
        t, h, w = self.frames.shape[:3]
        return (
            f"{self.backend}: {t} frames {w}x{h} from scene frame {self.start_frame} in "
            f"{self.cost.wall_s:.2f} s ({self.cost.fps:.0f} frames/s); {self.reason}"
        )

    def to_json(self) -> dict[str, Any]:
        """A small JSON-able summary (no frame data)."""
        t, h, w = self.frames.shape[:3]
        return {
            "backend": self.backend,
            "reason": self.reason,
            "frames": t,
            "height": h,
            "width": w,
            "fps": self.fps,
            "start_frame": self.start_frame,
            "context_frames": 0 if self.context is None else len(self.context),
            "labels": sorted(self.labels.labels) if self.labels is not None else [],
            "cost": self.cost.to_dict(),
            "family": self.spec.family if self.spec is not None else None,
            "extra": {k: v for k, v in self.extra.items() if _jsonable(v)},
        }

    def save_video(self, path: str | Path) -> Path:
        """Write ``frames`` as an H.264 mp4 (atomic rename)."""
        from twinsim.sim.fileio import write_mp4

        return write_mp4(path, self.frames, self.fps)


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True
