"""rollout(): one call that asks the engine, the neural model or the hybrid predictor for frames.

Frames are always uint8 ``(T, H, W, 3)``. The engine renders a :class:`~twinsim.sim.SceneSpec`
with exact labels; the neural model continues frames it is given (for a scene, the engine's
first ``context`` frames); ``"hybrid"`` calls ``twinsim.neural.hybrid.predict_hybrid`` (an
estimated scene plus the engine) when that module is installed.

The ``auto`` rule (first match wins; :attr:`RolloutResult.reason` says which one fired):

1. the input is raw frames (no scene; the engine cannot continue a video without one): the
   hybrid or the neural model, whichever predicted the clip's own last 3 frames better from the
   frames before them (:mod:`twinsim.bridge.hindcast_check`; a tie goes to the neural model, which
   is cheaper; the check costs one more hybrid estimate, seconds); ``neural`` without that
   check when actions are given, the clip is shorter than 9 frames or the hybrid is not
   installed;
2. labels or exact physics were asked for (``labels=...`` or ``exact=True``): ``engine``;
3. the scene is outside the neural model's training ranges (its family was not trained on, the
   camera is not ``model.resolution`` square, it has a violation, or it is longer than
   ``MAX_NEURAL_HORIZON`` frames): ``engine``;
4. otherwise the cheaper of the two for this request, by the per-frame costs in
   :data:`COST_PER_FRAME` (measured by ``benchmarks/bench_bridge.py``): on these CPUs the engine
   renders 64 px frames faster than the model predicts them, so it is usually ``engine``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from twinsim.bridge.hindcast_check import HOLDOUT, MARGIN_DB, MIN_PAST, Hindcast, hindcast
from twinsim.bridge.rollout_backends import (
    _engine,
    _hybrid,
    _neural,
    _resolve_model,
    hybrid_available,
)
from twinsim.bridge.rollout_inputs import load_scene_or_frames, with_frames  # noqa: F401 (with_frames re-exported)
from twinsim.bridge.rollout_result import Cost, RolloutResult
from twinsim.sim import CameraSpec, SceneSpec

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


def _auto_for_frames(
    frames: np.ndarray, model: WorldModel | None, actions: bool, camera: CameraSpec | None
) -> tuple[str, str, Hindcast | None]:
    """Rule 1: the hybrid or the neural model for raw frames, by a hindcast where one can run:
    (backend, reason, the hindcast or None)."""
    base = "auto: raw frames and no scene, so the engine cannot continue them"
    if actions:
        return "neural", f"{base}; actions given, which only the neural model takes", None
    if not hybrid_available():
        return "neural", f"{base}; the hybrid is not installed", None
    if len(frames) < MIN_PAST + HOLDOUT:
        why = f"{len(frames)} frames are too few to check the hybrid on"
        return "neural", f"{base}; {why} (a hindcast needs {MIN_PAST + HOLDOUT})", None
    hc = hindcast(frames, model if model is not None else _resolve_model(None), camera=camera)
    pick = hc.choice()
    lead = f" by more than {MARGIN_DB:g} dB" if MARGIN_DB else ""
    why = f"{hc.summary()}: {pick} (the hybrid must lead{lead}; a tie is neural's)"
    return pick, f"{base}; {why}", hc


def choose_backend(
    inp: SceneSpec | np.ndarray,
    horizon: int,
    *,
    want_labels: bool,
    exact: bool,
    model: WorldModel | None,
    context: int,
    actions: bool = False,
    camera: CameraSpec | None = None,
) -> tuple[str, str]:
    """The ``auto`` rule of the module docstring: (backend, reason). ``actions``: per-step
    actions were given (only the neural model takes them); ``camera``: the camera of raw
    frames, when known (the hybrid's hindcast reads it from the frames otherwise)."""
    if isinstance(inp, np.ndarray):
        return _auto_for_frames(inp, model, actions, camera)[:2]
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
    samples: int = 1,
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
        seed: seed for samplers (the bundled models are deterministic; the hybrid's
            material draws).
        samples: hybrid only: the mean of this many draws of the unseen masses, frictions and
            bounces (``predict_hybrid(samples=K)``; ``extra["material_spread"]`` per frame).

    Raises:
        ValueError: unknown backend, bad frames, a horizon < 1, actions for the engine, or the
            engine asked to continue raw frames.
        ImportError: backend="hybrid" while ``twinsim.neural.hybrid`` is not installed.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if samples != 1 and backend != "hybrid":
        raise ValueError(
            f"samples={samples!r} is for backend='hybrid' (material draws); got {backend!r}"
        )
    if horizon is not None and (
        isinstance(horizon, bool) or int(horizon) != horizon or horizon < 1
    ):
        raise ValueError(f"horizon must be an integer >= 1, got {horizon!r}")
    inp = load_scene_or_frames(scene_or_frames)
    wm = _resolve_model(model) if backend in ("neural", "auto") or model is not None else None
    k = context if context is not None else (wm.context if wm is not None else 4)
    if k < 1:
        raise ValueError(f"context must be >= 1 frame, got {k}")
    reason, checked = "asked for", None
    if backend == "auto" and isinstance(inp, np.ndarray):
        backend, reason, checked = _auto_for_frames(inp, wm, actions is not None, None)
    elif backend == "auto":
        h = horizon or inp.world.num_frames
        backend, reason = choose_backend(
            inp,
            h,
            want_labels=labels is not None,
            exact=exact,
            model=wm,
            context=k,
            actions=actions is not None,
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
        res = _neural(
            inp, horizon or 16, actions, k, wm or _resolve_model(None), renderer, seed, reason
        )
    else:
        res = _hybrid(inp, horizon or 16, k, renderer, seed, reason, samples)
    if checked is not None:  # the figures auto chose by, for callers that read numbers
        res.extra["hindcast_psnr"] = {name: round(db, 2) for name, db in checked.psnr.items()}
    return res
