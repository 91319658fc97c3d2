"""Rollout inputs: a scene (spec, dict, JSON file) or frames (array, video file), and its length."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from twinsim.sim import SceneSpec

_VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif")


def load_scene_or_frames(obj: Any) -> SceneSpec | np.ndarray:
    """Normalise a rollout input: a SceneSpec, a spec dict, a ``.json`` spec path, a video path
    (decoded at its own size, up to 256 frames) or a uint8 (T, H, W, 3) array."""
    if isinstance(obj, SceneSpec):
        return obj
    if isinstance(obj, dict):
        return SceneSpec.from_dict(obj)
    if isinstance(obj, str | Path):
        path = Path(obj)
        if not path.is_file():
            raise FileNotFoundError(f"no such scene or video file: {str(path)!r}")
        if path.suffix.lower() == ".json":
            return SceneSpec.from_json(path.read_text())
        if path.suffix.lower() in _VIDEO_SUFFIXES:
            return _read_video(path)
        raise ValueError(
            f"{str(path)!r}: expected a scene spec (.json) or a video ({', '.join(_VIDEO_SUFFIXES)})"
        )
    frames = np.asarray(obj)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) < 1:
        raise ValueError(
            "scene_or_frames must be a SceneSpec, a spec dict, a .json/.mp4 path or uint8 frames "
            f"(T, H, W, 3) with T >= 1; got {frames.dtype} array of shape {frames.shape}"
        )
    return frames


def _read_video(path: Path, max_frames: int = 256) -> np.ndarray:
    import av

    out = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError(f"{str(path)!r} has no video stream")
            for frame in container.decode(container.streams.video[0]):
                out.append(frame.to_ndarray(format="rgb24"))
                if len(out) >= max_frames:
                    break
    except av.error.FFmpegError as exc:  # corrupt or not a video
        raise ValueError(f"cannot decode video {str(path)!r}: {exc}") from None
    if not out:
        raise ValueError(f"no frames decoded from {str(path)!r}")
    return np.stack(out)


def with_frames(spec: SceneSpec, frames: int) -> SceneSpec:
    """``spec`` lasting exactly ``frames`` frames (frame 0 at t = 0)."""
    if frames < 1:
        raise ValueError(f"horizon must be >= 1 frame, got {frames}")
    duration = (frames - 1) / spec.world.fps if frames > 1 else 0.5 / spec.world.fps
    v = spec.violation
    if v is not None and v.frame >= frames:  # it would happen after the last frame: same frames
        spec = replace(spec, violation=None)
    return replace(spec, world=replace(spec.world, duration=duration))
