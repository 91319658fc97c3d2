"""The three rollout backends: engine render, neural continuation, hybrid estimate + engine."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
from twinsim.bridge.rollout_inputs import with_frames
from twinsim.bridge.rollout_result import Cost, RolloutResult
from twinsim.sim import Rollout, SceneSpec, simulate

if TYPE_CHECKING:
    from twinsim.neural import WorldModel


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


def _at_working_size(inp: SceneSpec | np.ndarray) -> SceneSpec | np.ndarray:
    """Frames or a scene's camera larger than the hybrid's working size, brought to it: frames
    centre-cropped and area-resized (as the CLI decodes videos), a scene rendered at it."""
    import dataclasses

    from twinsim.neural.hybrid import WORKING_RESOLUTION as R

    if isinstance(inp, np.ndarray):
        if max(inp.shape[1:3]) <= R:
            return inp
        from twinsim.neural.footage import resize_frames

        return resize_frames(inp, R)
    cam = inp.cameras[0]
    if max(cam.width, cam.height) <= R:
        return inp
    return dataclasses.replace(inp, cameras=(dataclasses.replace(cam, width=R, height=R),))


def _hybrid(
    inp: SceneSpec | np.ndarray,
    horizon: int,
    k: int,
    renderer: str,
    seed: int,
    reason: str,
    samples: int = 1,
) -> RolloutResult:
    try:
        from twinsim.neural.hybrid import predict_hybrid
    except ImportError as exc:
        raise ImportError(
            "backend='hybrid' needs twinsim.neural.hybrid.predict_hybrid, which is not in this "
            f"installation ({exc}); use backend='engine' or 'neural'"
        ) from None
    import inspect

    frames, ctx, spec, fps = _context_frames(_at_working_size(inp), k, renderer)
    kwargs: dict[str, Any] = {"seed": seed}
    if samples != 1:
        kwargs["samples"] = samples
    if spec is not None and "camera" in inspect.signature(predict_hybrid).parameters:
        kwargs["camera"] = spec.cameras[0]  # the true camera beats one read from the frames
    t0 = time.perf_counter()
    pred = predict_hybrid(frames, horizon, **kwargs)
    cost = Cost(time.perf_counter() - t0, horizon)
    unc = getattr(pred, "uncertainty", None)
    extra: dict[str, Any] = {}
    score = getattr(unc, "score", unc)
    if isinstance(score, int | float | np.floating):
        extra["uncertainty"] = float(score)
    if isinstance(getattr(unc, "camera_source", None), str):
        extra["camera_source"] = unc.camera_source  # given, estimated or assumed
    if getattr(pred, "spread", None) is not None:  # how much unseen materials decide a frame
        extra["material_spread"] = [round(float(x), 3) for x in pred.spread]
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
