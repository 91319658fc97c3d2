"""The hybrid predictor: frames -> estimated scene spec -> engine rollout -> rendered future
(the physics surprise that the same machinery gives is :mod:`twinsim.neural.surprise`).

``predict_hybrid(frames, horizon)`` de-animates the clip (:func:`estimate_scene`), simulates the
estimated spec with the engine for ``horizon`` frames and renders them with the TinyRenderer.
See docs/hybrid.md for what is estimated and what is given (the camera), the uncertainty fields
and the measured accuracy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from twinsim.neural.canvas import FrameMismatch
from twinsim.neural.estimate import EstimateConfig, SceneEstimate, estimate_scene
from twinsim.neural.materials import MaterialPrior, sample_materials
from twinsim.neural.settle import apart, moved, moves, settled
from twinsim.neural.sprites import Sprite, paint_sprites
from twinsim.neural.support import reach
from twinsim.sim.rollout import Rollout
from twinsim.sim.spec import CameraSpec, SceneSpec

__all__ = [
    "COMPOSITES",
    "MAX_SAMPLES",
    "WORKING_RESOLUTION",
    "HybridPrediction",
    "HybridUncertainty",
    "play_forward",
    "predict_hybrid",
    "rollout_spec",
]

COMPOSITES = ("changed", "render")
MAX_SAMPLES = 64  # material samples per prediction (each one engine rollout)
# A body that the rollout moves less (a fraction of a pixel) is drawn where it was seen.
_SUBPIXEL = 0.25
# The size the perception network, the camera estimator and the fits were made for: larger
# frames work but cost the square of the size (a 256 px clip about 27x the time of 64 px), so
# callers that take videos (the CLI, the bridge) bring them to this size first.
WORKING_RESOLUTION = 64


@dataclass(frozen=True)
class HybridUncertainty:
    """How far to trust a hybrid prediction.

    Attributes:
        score: in [0, 1]; 0 = every object tracked, visible and explained to the pixel, 1 = the
            estimate is poor (a caller such as ``backend="auto"`` should fall back to a pixel
            model above about 0.5). The max of ``unexplained`` and the objects' scores.
        unexplained: share of the last observed frame's object pixels the estimated scene does
            not reproduce (> 40 grey levels off); high on real footage and unknown shapes.
        camera_source: "given", "estimated" (read from the frames by the bundled camera
            estimator) or "assumed" (the families' default camera).
        camera_given: False when the camera was not an input (then metric errors are
            unreliable even where pixels fit).
        objects: per estimated object name: ``score`` (0..1), ``fit_error`` (mean abs pixel
            error 0..255 of its best frame fit), ``position_sigma`` (m, track residual),
            ``velocity_sigma`` (m/s, standard error), ``frames_hidden`` (frames since last seen),
            ``shape_prob`` (probability of the chosen shape class), ``role``, ``truncated``,
            ``role_guessed`` (scenery's colour at a body's size),
            ``restitution`` (against the floor, measured from a bounce seen; None: assumed),
            ``pushed_for`` (s: a push seen acting at the last frame is taken to act this much
            longer, a guess (:mod:`twinsim.neural.push`); None: no push).
    """

    score: float
    unexplained: float
    camera_source: str
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def camera_given(self) -> bool:
        return self.camera_source == "given"


@dataclass
class HybridPrediction:
    """Result of :func:`predict_hybrid`.

    Attributes:
        frames: (horizon, H, W, 3) uint8 predicted future frames.
        spec: the SceneSpec the engine played (t = 0 is the last observed frame): the
            estimate (``estimate.spec``) with its bodies at rest settled onto their supports
            (:func:`~twinsim.neural.settle.settled`).
        uncertainty: :class:`HybridUncertainty`.
        rendered: (horizon, H, W, 3) uint8 the engine's render of the rollout alone
            (``frames`` equals it with ``composite="render"``); with ``samples`` > 1, the mean
            of the samples' renders.
        estimate: the full :class:`~twinsim.neural.estimate.SceneEstimate` (tracks, fits).
        samples: (K, horizon, H, W, 3) uint8, with ``samples=K`` > 1: each material sample's
            future (composited like ``frames``, of which they are the mean); else None.
        spread: (horizon,) float, with ``samples`` > 1: mean absolute deviation of the samples
            from their mean per frame, in grey levels (how much the unseen materials decide
            each frame); else None.
    """

    frames: np.ndarray
    spec: SceneSpec
    uncertainty: HybridUncertainty
    rendered: np.ndarray
    estimate: SceneEstimate = field(repr=False)
    samples: np.ndarray | None = field(default=None, repr=False)
    spread: np.ndarray | None = None


def rollout_spec(spec: SceneSpec, horizon: int) -> np.ndarray:
    """Simulate ``spec`` with the engine and render frames 0..horizon: (horizon + 1, H, W, 3)."""
    return _simulate(spec, horizon, ("rgb",)).rgb[: horizon + 1]


def _simulate(spec: SceneSpec, horizon: int, labels: tuple[str, ...]) -> Rollout:
    from twinsim.sim import simulate

    world = dataclasses.replace(spec.world, duration=max(horizon, 1) / spec.world.fps)
    return simulate(dataclasses.replace(spec, world=world), labels=labels)


def _uncertainty(est: SceneEstimate) -> HybridUncertainty:
    pushed = {e.body: round(e.duration, 3) for e in est.spec.events if e.kind == "force"}
    objs = {
        o.spec.name: {
            "score": round(o.uncertainty, 4),
            "fit_error": round(o.fit_error, 3),
            "position_sigma": round(o.position_sigma, 5),
            "velocity_sigma": round(o.velocity_sigma, 4),
            "frames_hidden": o.frames_hidden,
            "shape_prob": round(o.shape_probs.get(o.spec.shape, 0.0), 4),
            "role": o.role,
            "truncated": o.truncated,
            "role_guessed": o.role_guessed,
            "restitution": None if o.restitution is None else round(o.restitution, 3),
            "pushed_for": pushed.get(o.spec.name),
        }
        for o in est.objects
    }
    return HybridUncertainty(
        score=est.uncertainty,
        unexplained=est.unexplained,
        camera_source=est.camera_source,
        objects=objs,
    )


def predict_hybrid(
    frames: np.ndarray,
    horizon: int,
    *,
    seed: int = 0,
    camera: CameraSpec | None = None,
    composite: str = "changed",
    window: int = 5,
    max_evals: int = 120,
    estimate_camera: bool = True,
    samples: int = 1,
    prior: MaterialPrior | None = None,
) -> HybridPrediction:
    """Predict ``horizon`` frames after ``frames`` by estimating the scene and simulating it.

    Args:
        frames: (T, H, W, 3) uint8 observed clip, oldest first (all frames are tracked, so a
            longer history keeps objects that are hidden at the end).
        horizon: frames to predict (>= 1).
        seed: seeds the material samples (``samples`` > 1); estimation and the engine are
            deterministic.
        camera: the camera that took the frames; None reads its height, pitch and field of
            view from the frames (the bundled camera estimator; without it the families'
            default camera, ``twinsim.neural.estimate.DEFAULT_CAMERA``, is assumed), reported
            in ``uncertainty.camera_source``.
            ``estimate_camera=False`` assumes the default camera instead of reading it.
        composite: "changed" (default): pixels the rollout leaves unchanged keep the last
            observed frame (textures and misfitted scenery survive), and a moving body that
            does not turn much is drawn with its own pixels from that frame, moved as the
            engine moves it (:mod:`twinsim.neural.sprites`); "render": the engine's render
            alone.
        window: visible frames per object fitted; max_evals: renders per frame fit.
        samples: 1 (default): one rollout with the default materials
            (:class:`~twinsim.neural.estimate.EstimateConfig`). K > 1: K rollouts with the
            movable bodies' mass, friction and unmeasured restitution drawn from ``prior``
            (:class:`~twinsim.neural.materials.MaterialPrior`, default the families' ranges),
            and ``frames`` their per-pixel mean: the expected future under what the frames
            cannot show (higher PSNR, ghosted where the samples part; each sample is in
            ``samples``). At most 64; each costs one engine rollout.

    Raises:
        ValueError: bad frames, horizon, composite or samples (valid choices listed).
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) < 1:
        raise ValueError(
            f"frames must be uint8 (T, H, W, 3) with T >= 1, got {frames.dtype} {frames.shape}"
        )
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1, got {horizon!r}")
    _check_play(composite, samples)  # before the estimate, which takes seconds
    cfg = EstimateConfig(window=window, max_evals=max_evals, estimate_camera=estimate_camera)
    est = estimate_scene(frames, camera, cfg)
    return play_forward(
        est, frames, int(horizon), composite=composite, samples=samples, prior=prior, seed=seed
    )


def play_forward(
    est: SceneEstimate,
    frames: np.ndarray,
    horizon: int,
    *,
    composite: str = "changed",
    samples: int = 1,
    prior: MaterialPrior | None = None,
    seed: int = 0,
) -> HybridPrediction:
    """The second half of :func:`predict_hybrid`: let the engine play an estimate of
    ``frames`` (T, H, W, 3) uint8 forward for ``horizon`` frames and render it (arguments as
    there). With the same estimate, other material draws or another ``samples`` cost only
    engine rollouts, not a new estimate."""
    _check_play(composite, samples)
    moving = _moving_pixels(est, frames) if composite == "changed" else None
    sprites = _sprites(est) if composite == "changed" else ()
    with FrameMismatch(est.spec, frames[-1]) as error:
        played = settled(apart(est.spec, error))
    if samples == 1:
        rendered, out = _future(played, horizon, frames[-1], moving, sprites)
        return HybridPrediction(out, played, _uncertainty(est), rendered, est)
    from twinsim.sim.budget import check_memory

    # the draws (uint8) and their float mean and renders
    check_memory(
        samples * horizon * frames[-1].size * 9,
        f"{samples} material samples of {horizon} frames",
        "lower samples or horizon",
    )
    rng = np.random.default_rng(seed)
    measured = frozenset(o.spec.name for o in est.objects if o.restitution is not None)
    prior = prior if prior is not None else MaterialPrior()
    futures = [
        _future(
            sample_materials(played, prior, rng, measured), horizon, frames[-1], moving, sprites
        )
        for _ in range(samples)
    ]
    renders = np.stack([r for r, _ in futures]).astype(np.float32)
    outs = np.stack([o for _, o in futures])
    mean = outs.astype(np.float32).mean(0)
    spread = np.abs(outs - mean[None]).mean(axis=(0, 2, 3, 4))
    return HybridPrediction(
        frames=_to_uint8(mean),
        spec=played,
        uncertainty=_uncertainty(est),
        rendered=_to_uint8(renders.mean(0)),
        estimate=est,
        samples=outs,
        spread=spread,
    )


def _check_play(composite: str, samples: int) -> None:
    if composite not in COMPOSITES:
        raise ValueError(f"composite must be one of {COMPOSITES}, got {composite!r}")
    if not isinstance(samples, int | np.integer) or not 1 <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be an integer in 1..{MAX_SAMPLES}, got {samples!r}")


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.clip(np.round(x), 0, 255), np.uint8)


def _future(
    spec: SceneSpec,
    horizon: int,
    last: np.ndarray,
    moving: np.ndarray | None,
    sprites: tuple[Sprite, ...] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """(rendered, predicted) (horizon, H, W, 3) uint8: the engine's render of ``spec`` played
    forward, and the same composited over the ``last`` observed frame where ``moving`` (H, W)
    is given (``composite="changed"``): pixels the rollout leaves unchanged keep ``last``, and
    ``sprites`` are painted over it."""
    if moving is None:
        rendered = _padded(rollout_spec(spec, horizon)[1:], horizon)
        return rendered, rendered
    labels = ("rgb", "segmentation", "objects", *(("depth",) if sprites else ()))
    ro = _simulate(spec, horizon, labels)
    rendered = _padded(ro.rgb[1 : horizon + 1], horizon)
    seg = ro.segmentation[: horizon + 1]
    # a body at rest jitters in Bullet's contacts (a tenth of a millimetre; a settled cylinder
    # on its side rocks 2 mm onto a facet of its hull), which flips whole pixels on its edges
    # (nearly still push windows lost 4-13 dB to copy-last-frame on them): pixels that only
    # bodies the rollout never moves by a quarter of a pixel (and the background) cover now
    # and covered at t = 0 are unchanged (where the background covers both, its own colour
    # judges: a shadow moves over the floor). Judged over the whole rollout, not per frame: a
    # ball struck in the first step moves 6 mm in it and on by 8 cm, and its first 6 mm flip
    # pixels that the truth flips too.
    held = _held(spec, ro, len(seg))
    now, then = seg[1:], seg[:1]
    jitter = held[now] & held[then] & ((now > 0) | (then > 0))
    changed = np.any(rendered != ro.rgb[0][None], axis=-1) & ~_padded(jitter, horizon)
    # where a moving body is seen now, the future is the render's too: a body fitted a pixel
    # off would otherwise leave a sliver of itself behind in every frame
    changed = (changed | moving[None])[..., None]
    out = np.ascontiguousarray(np.where(changed, rendered, last[None]), np.uint8)
    return rendered, paint_sprites(out, last, sprites, spec, ro)


def _held(spec: SceneSpec, ro: Rollout, frames: int) -> np.ndarray:
    """(bodies + 1,) bool, indexed by segmentation id: whether the body stays within a quarter
    of a pixel (at its distance from the camera, its turn measured at its farthest point) of
    its pose at t = 0 in frames 0..``frames`` - 1 of ``ro``; the background (id 0) does."""
    held = np.ones(len(ro.objects) + 1, bool)
    cam = spec.cameras[0]
    per_metre = 2 * np.tan(np.radians(cam.fov) / 2) / cam.height  # a pixel's size at 1 m
    for i, (o, tr) in enumerate(zip(spec.objects, ro.objects, strict=True)):
        far = reach(o.shape, o.size)
        p0, q0 = tr.position[0], tr.orientation[0]
        for t in range(1, frames):
            tol = _SUBPIXEL * per_metre * float(np.linalg.norm(tr.position[t] - cam.eye))
            if moved(p0, q0, tr.position[t], tr.orientation[t], tol, tol / far):
                held[i + 1] = False
                break
    return held


def _padded(frames: np.ndarray, horizon: int) -> np.ndarray:
    """``frames`` with its last repeated up to ``horizon`` (cannot be needed with whole frame
    durations; defensive)."""
    if len(frames) >= horizon:
        return frames[:horizon]
    return np.concatenate([frames, np.repeat(frames[-1:], horizon - len(frames), 0)])


def _sprites(est: SceneEstimate) -> tuple[Sprite, ...]:
    """The moving bodies' pixels in the last frame (:mod:`twinsim.neural.sprites`)."""
    return tuple(
        Sprite(o.spec.name, o.track.blobs[-1].mask)
        for o in est.objects
        if o.track.blobs[-1] is not None and o.spec.mass > 0 and moves(o.spec)
    )


def _moving_pixels(est: SceneEstimate, frames: np.ndarray) -> np.ndarray:
    """(H, W) bool: the last frame's pixels of every estimated body that moves, with the loose
    pixels along its edge that no object claimed (a crumb of its shading, a decoded video's
    speckle): left to the last frame, they would stay behind as a dot in every predicted frame."""
    from scipy.ndimage import binary_dilation
    from twinsim.neural.proposals import estimate_backdrop

    out = np.zeros(frames.shape[1:3], bool)
    claimed = np.zeros_like(out)
    for o in est.objects:
        blob = o.track.blobs[-1]
        if blob is None:
            continue
        claimed |= blob.mask
        if moves(o.spec):
            out |= blob.mask
    loose = ~estimate_backdrop(frames).mask(frames[-1]) & ~claimed
    return out | (binary_dilation(out, np.ones((3, 3), bool)) & loose)
