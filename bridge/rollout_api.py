"""rollout(): one call that asks the engine, the neural model or the hybrid predictor for frames.

Frames are always uint8 ``(T, H, W, 3)``. The engine renders a :class:`~twinsim.sim.SceneSpec`
with exact labels; the neural model continues frames it is given (for a scene, the engine's
first ``context`` frames); ``"hybrid"`` calls ``twinsim.neural.hybrid.predict_hybrid`` (an
estimated scene plus the engine) when that module is installed.

The ``auto`` rule (first match wins; :attr:`RolloutResult.reason` says which one fired):

1. the input is raw frames (no scene): ``neural`` - the engine cannot continue a video without
   a scene;
2. labels or exact physics were asked for (``labels=...`` or ``exact=True``): ``engine``;
3. the scene is outside the neural model's training ranges (its family was not trained on, the
   camera is not ``model.resolution`` square, it has a violation, or it is longer than
   ``MAX_NEURAL_HORIZON`` frames): ``engine``;
4. otherwise the cheaper of the two for this request, by the per-frame costs in
   :data:`COST_PER_FRAME` (measured by ``benchmarks/bench_bridge.py``): on these CPUs the engine
   renders 64 px frames faster than the model predicts them, so it is usually ``engine``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from twinsim.sim import Rollout, SceneSpec, simulate

if TYPE_CHECKING:
    from twinsim.neural import WorldModel

__all__ = [
    "BACKENDS",
    "COST_PER_FRAME",
    "MAX_NEURAL_HORIZON",
    "Backend",
    "Cost",
    "RolloutResult",
    "choose_backend",
    "load_scene_or_frames",
    "rollout",
]

Backend = Literal["engine", "neural", "hybrid", "auto"]
BACKENDS: tuple[str, ...] = ("engine", "neural", "hybrid", "auto")
# Longest neural rollout that auto will pick (the bundled models unroll 6-12 steps in training;
# errors compound past a few dozen frames).
MAX_NEURAL_HORIZON = 48
# Seconds per 64x64 frame at batch 1, one torch thread, measured by benchmarks/bench_bridge.py
# on the shared 2-core CPU machine, 2026-12-01 (engine: tiny renderer, rgb only; neural: the
# bundled "cpu" model): 10.1 and 39.5 ms.
COST_PER_FRAME: dict[str, float] = {"engine": 0.010, "neural": 0.040}
_VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif")


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
        extra: backend-specific details (the hybrid backend's uncertainty, the model name).
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


def _in_distribution(spec: SceneSpec, model: WorldModel, horizon: int) -> str | None:
    """Why ``spec`` is outside the model's training ranges, or None when it is inside."""
    trained = tuple(dict.fromkeys(model.config.data.families))
    cam = spec.cameras[0]
    if spec.family not in trained:
        return f"family {spec.family!r} is not one the model was trained on {list(trained)}"
    if (cam.width, cam.height) != (model.resolution, model.resolution):
        return f"camera {cam.width}x{cam.height} is not the model's {model.resolution}px square"
    if spec.violation is not None:
        return "the scene has a scripted violation the model never saw"
    if horizon > MAX_NEURAL_HORIZON:
        return (
            f"horizon {horizon} is beyond the {MAX_NEURAL_HORIZON} frames auto trusts the model for"
        )
    return None


def choose_backend(
    inp: SceneSpec | np.ndarray,
    horizon: int,
    *,
    want_labels: bool,
    exact: bool,
    model: WorldModel | None,
    context: int,
) -> tuple[str, str]:
    """The ``auto`` rule of the module docstring: (backend, reason)."""
    if isinstance(inp, np.ndarray):
        return "neural", "auto: raw frames and no scene, so only the neural model can continue them"
    if want_labels or exact:
        asked = "labels" if want_labels else "exact physics"
        return "engine", f"auto: {asked} asked for, which only the engine gives"
    if model is None:
        from twinsim.neural import load_pretrained

        model = load_pretrained()
    why_not = _in_distribution(inp, model, horizon)
    if why_not is not None:
        return "engine", f"auto: outside the neural model's training ranges ({why_not})"
    px = inp.cameras[0].width * inp.cameras[0].height / 64**2
    engine_s = COST_PER_FRAME["engine"] * px * (context + horizon)
    neural_s = COST_PER_FRAME["engine"] * px * context + COST_PER_FRAME["neural"] * horizon
    if neural_s < engine_s:
        return "neural", (
            f"auto: preview of an in-distribution scene, neural is cheaper "
            f"(~{neural_s:.2f} s vs ~{engine_s:.2f} s for the engine)"
        )
    return "engine", (
        f"auto: preview of an in-distribution scene, the engine is cheaper "
        f"(~{engine_s:.2f} s vs ~{neural_s:.2f} s for the neural model)"
    )


def rollout(
    scene_or_frames: SceneSpec | np.ndarray | str | Path | dict,
    horizon: int | None = None,
    backend: Backend = "auto",
    actions: np.ndarray | None = None,
    *,
    context: int | None = None,
    labels: str | list[str] | None = None,
    exact: bool = False,
    model: WorldModel | str | None = None,
    renderer: str = "tiny",
    seed: int = 0,
) -> RolloutResult:
    """Render or predict a rollout with one backend.

    Args:
        scene_or_frames: a SceneSpec (or its dict / ``.json`` path), or frames uint8
            (T, H, W, 3) (or a video path) to continue.
        horizon: frames to produce. Engine: scene frames 0..horizon-1 (default: the scene's own
            length). Neural/hybrid: frames after the context (default 16).
        backend: "engine", "neural", "hybrid" or "auto" (see the module docstring's rule).
        actions: per-step actions (horizon, A) for action-conditioned neural models; the engine
            takes scripted forces through ``spec.events`` instead.
        context: frames the neural model starts from when given a scene (default: the model's
            ``context``); for raw frames all given frames are context.
        labels: engine labels to compute (see ``twinsim.sim.ALL_LABELS``); asking for labels
            makes ``auto`` pick the engine. Default for the engine: rgb, segmentation, objects,
            visibility, camera.
        exact: exact physics wanted (``auto`` picks the engine).
        model: a loaded WorldModel or a bundled model name (default "cpu").
        renderer: engine renderer name.
        seed: seed for samplers (the bundled models are deterministic).

    Raises:
        ValueError: unknown backend, bad frames, a horizon < 1, actions for the engine, or the
            engine asked to continue raw frames.
        ImportError: backend="hybrid" while ``twinsim.neural.hybrid`` is not installed.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if horizon is not None and (
        isinstance(horizon, bool) or int(horizon) != horizon or horizon < 1
    ):
        raise ValueError(f"horizon must be an integer >= 1, got {horizon!r}")
    inp = load_scene_or_frames(scene_or_frames)
    wm = _resolve_model(model) if backend in ("neural", "auto") or model is not None else None
    k = context if context is not None else (wm.context if wm is not None else 4)
    if k < 1:
        raise ValueError(f"context must be >= 1 frame, got {k}")
    reason = "asked for"
    if backend == "auto":
        h = horizon or (inp.world.num_frames if isinstance(inp, SceneSpec) else 16)
        backend, reason = choose_backend(
            inp, h, want_labels=labels is not None, exact=exact, model=wm, context=k
        )
    if backend == "engine":
        if actions is not None:
            raise ValueError(
                "the engine takes no per-step actions; script forces with spec.events, or use "
                "backend='neural' with an action-conditioned model"
            )
        if isinstance(inp, np.ndarray):
            raise ValueError(
                "the engine needs a scene, not raw frames; pass a SceneSpec, or use "
                "backend='neural' or 'hybrid' (which estimates a scene from the frames)"
            )
        return _engine(inp, horizon, labels, renderer, reason)
    if backend == "neural":
        return _neural(
            inp, horizon or 16, actions, k, wm or _resolve_model(None), renderer, seed, reason
        )
    return _hybrid(inp, horizon or 16, k, renderer, seed, reason)


def _resolve_model(model: WorldModel | str | None) -> WorldModel:
    from twinsim.neural import WorldModel, load_pretrained

    if isinstance(model, WorldModel):
        return model
    return load_pretrained(model or "cpu")


_ENGINE_LABELS = ("rgb", "segmentation", "objects", "visibility", "camera")


def _engine(
    spec: SceneSpec, horizon: int | None, labels: Any, renderer: str, reason: str
) -> RolloutResult:
    if horizon is not None:
        spec = with_frames(spec, horizon)
    wanted = labels if labels is not None else _ENGINE_LABELS
    if isinstance(wanted, str) and wanted != "all":
        wanted = [s.strip() for s in wanted.split(",") if s.strip()]
    if wanted != "all" and "rgb" not in wanted:
        wanted = ["rgb", *wanted]
    t0 = time.perf_counter()
    sim = simulate(spec, renderer=renderer, labels=wanted)
    cost = Cost(time.perf_counter() - t0, sim.num_frames)
    return RolloutResult(
        frames=sim.rgb,
        backend="engine",
        reason=reason,
        cost=cost,
        labels=sim,
        start_frame=0,
        spec=spec,
        fps=spec.world.fps,
    )


def _context_frames(
    inp: SceneSpec | np.ndarray, k: int, renderer: str
) -> tuple[np.ndarray, Rollout | None, SceneSpec | None, float]:
    if isinstance(inp, np.ndarray):
        return inp, None, None, 24.0
    ctx = simulate(with_frames(inp, k), renderer=renderer, labels=_ENGINE_LABELS)
    return ctx.rgb, ctx, inp, inp.world.fps


def _neural(
    inp: SceneSpec | np.ndarray,
    horizon: int,
    actions: np.ndarray | None,
    k: int,
    model: WorldModel,
    renderer: str,
    seed: int,
    reason: str,
) -> RolloutResult:
    frames, ctx, spec, fps = _context_frames(inp, k, renderer)
    t0 = time.perf_counter()
    out = model.predict(frames, horizon, actions=actions, seed=seed)
    cost = Cost(time.perf_counter() - t0, horizon)
    return RolloutResult(
        frames=out,
        backend="neural",
        reason=reason,
        cost=cost,
        labels=ctx,
        context=frames,
        start_frame=len(frames),
        spec=spec,
        fps=fps,
        extra={"model": model.config.name, "resolution": model.resolution},
    )


def hybrid_available() -> bool:
    """True when ``twinsim.neural.hybrid.predict_hybrid`` can be imported."""
    try:
        from twinsim.neural.hybrid import predict_hybrid  # noqa: F401
    except ImportError:
        return False
    return True


def _hybrid(
    inp: SceneSpec | np.ndarray, horizon: int, k: int, renderer: str, seed: int, reason: str
) -> RolloutResult:
    try:
        from twinsim.neural.hybrid import predict_hybrid
    except ImportError as exc:
        raise ImportError(
            "backend='hybrid' needs twinsim.neural.hybrid.predict_hybrid, which is not in this "
            f"installation ({exc}); use backend='engine' or 'neural'"
        ) from None
    import inspect

    frames, ctx, spec, fps = _context_frames(inp, k, renderer)
    kwargs: dict[str, Any] = {"seed": seed}
    if spec is not None and "camera" in inspect.signature(predict_hybrid).parameters:
        kwargs["camera"] = spec.cameras[0]  # the true camera beats the assumed default one
    t0 = time.perf_counter()
    pred = predict_hybrid(frames, horizon, **kwargs)
    cost = Cost(time.perf_counter() - t0, horizon)
    unc = getattr(pred, "uncertainty", None)
    extra: dict[str, Any] = {}
    score = getattr(unc, "score", unc)
    if isinstance(score, int | float | np.floating):
        extra["uncertainty"] = float(score)
    return RolloutResult(
        frames=np.asarray(pred.frames, dtype=np.uint8),
        backend="hybrid",
        reason=reason,
        cost=cost,
        labels=ctx,
        context=frames,
        start_frame=len(frames),
        spec=getattr(pred, "spec", None) or spec,
        fps=fps,
        extra=extra,
    )
