"""De-animation: frames -> an estimated :class:`~twinsim.sim.SceneSpec` (objects with shape
class, size, colour, pose and velocity, the camera, floor colour) plus per-object uncertainty.

Pipeline: colour-blob proposals -> tracks through the clip -> shape class (the perception
network, or analysis by synthesis over every class) -> per-frame pose/size fit by rendering
(:mod:`twinsim.neural.track_fit`, on :mod:`twinsim.neural.refine`) over the last ``window``
visible frames -> scale from floor contact -> velocity from the track -> the state at the last
frame (objects hidden then are carried forward from their last sighting with the engine). What
is estimated and what is given is listed in docs/hybrid.md.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from twinsim.neural.bodies import (
    angular_velocity,
    carried,
    flat_box,
    level_cylinder,
    moving_scenery,
    unblocked,
)
from twinsim.neural.canvas import Canvas
from twinsim.neural.contact import moving_together
from twinsim.neural.cues import (
    completed,
    edge_velocity,
    entering,
    extrapolated_path,
)
from twinsim.neural.estimate_types import (
    STILL_SPEED,
    EstimateConfig,
    ObjectEstimate,
    SceneEstimate,
)
from twinsim.neural.polish import alone_on_the_floor, polished
from twinsim.neural.push import HeldPush, push_events
from twinsim.neural.refine import FrameFit, lowest_offset
from twinsim.neural.scale import (
    held_down,
    resolve_scale,
    resting_fit,
    steadiest_fit,
    trusted_tail,
)
from twinsim.neural.settle import at_rest
from twinsim.neural.support import FLOOR, Support, box_top, half_extents, reach
from twinsim.neural.track import Track, track_objects
from twinsim.neural.track_fit import TrackFitter
from twinsim.neural.track_frames import clear_frames
from twinsim.neural.track_motion import track_motion
from twinsim.sim.spec import CameraSpec, ObjectSpec, SceneSpec, WorldSpec

__all__ = [
    "DEFAULT_CAMERA",
    "EstimateConfig",
    "ObjectEstimate",
    "SceneEstimate",
    "default_camera",
    "estimate_scene",
]

# The camera the motion families are drawn with, before their per-scene jitter (docs/families.md).
DEFAULT_CAMERA = CameraSpec(eye=(0.0, -1.8, 0.92), target=(0.0, 0.0, 0.3), fov=50.0)
# A body is taken for scenery when its colour is dull on both counts: little chroma (max - min
# of RGB) and little chroma for its brightness ((max - min) / max). The second keeps dark palette
# colours movable (brown: chroma 0.22-0.25 once lit, but 0.71 of its brightness; scenery's wood
# and navy are at most 0.45 of theirs).
_SCENERY_CHROMA = 0.22
_SCENERY_SATURATION = 0.6
# The families' scenery (walls, screens, ramps) is never under 0.3 m of half-extent, their bodies
# never over 0.2 m: a body of scenery's colour and a body's size breaks that convention.
_SCENERY_MIN_HALF_EXTENT = 0.2


def default_camera(height: int = 64, width: int = 64) -> CameraSpec:
    """:data:`DEFAULT_CAMERA` at the frame size (the camera assumed when none is given)."""
    return dataclasses.replace(DEFAULT_CAMERA, width=width, height=height)


def _body_sized(fits: dict[int, FrameFit], tr: Track) -> bool:
    """Whether a track's last fit (at its scenery scale) is smaller than any of the families'
    scenery, and whole: scenery cut by the image side (a wall sliding in) shows a sliver."""
    last = fits[max(fits)]
    blob = tr.blobs[max(fits)]
    if blob is None or blob.touches_border:
        return False
    return max(half_extents(last.shape, last.size)) < _SCENERY_MIN_HALF_EXTENT


def _dull(color) -> bool:
    """Scenery's look: greys, wood and navy (docs/families.md), not the saturated palette."""
    hi, lo = max(color[:3]), min(color[:3])
    return bool(hi - lo < _SCENERY_CHROMA and hi - lo < _SCENERY_SATURATION * max(hi, 1e-6))


def estimate_scene(
    frames: np.ndarray,
    camera: CameraSpec | None = None,
    cfg: EstimateConfig | None = None,
    classifier=None,
) -> SceneEstimate:
    """De-animate (T, H, W, 3) uint8 ``frames`` into a scene at the last frame.

    Args:
        frames: the observed clip (every frame is tracked; the last ``cfg.window`` visible
            frames of each object are fitted).
        camera: the camera that took the frames; None reads it from the frames
            (``cfg.estimate_camera``) or else assumes :func:`default_camera`.
        cfg: estimation knobs.
        classifier: ``f(frame, blob) -> {shape: prob}``; None uses the bundled perception
            network when ``cfg.use_network`` and it is installed, else the shape class is
            chosen by pixel error alone (every class fitted).
    """
    cfg = cfg or EstimateConfig()
    if classifier is None and cfg.use_network:
        classifier = _bundled_classifier()
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) < 1:
        raise ValueError(
            f"frames must be uint8 (T, H, W, 3) with T >= 1, got {frames.dtype} {frames.shape}"
        )
    T, H, W = frames.shape[:3]
    camera, source = _camera(frames, camera, cfg)
    cam = dataclasses.replace(camera, width=W, height=H, path=())
    tracks, bd = track_objects(frames)
    tracks.sort(key=lambda tr: -max(b.area for b in tr.blobs if b is not None))
    est = TrackFitter(frames, cam, cfg, classifier, tracks)
    floor_color = est.calibrate_floor(bd.floor)
    world = WorldSpec(floor_color=floor_color, floor_restitution=cfg.floor_restitution)
    results = []
    sighted: dict[str, ObjectSpec] = {}  # each body carried out of sight, as last seen
    pushes: dict[str, HeldPush] = {}
    supports = [FLOOR]  # grows with the static boxes found (tracks go largest first)
    for k, tr in enumerate(tracks):
        raw, probs = est.fit_track(k, tr)
        if not any(math.isfinite(f.error) for f in raw.values()):
            continue  # no body draws these pixels (a highlight, a strip of sky)
        # Scenery (walls, screens, occluders) is drawn in greys, wood and navy; movable bodies
        # in saturated palette colours (docs/families.md).
        scenery_look = _dull(np.mean([f.color for f in raw.values()], 0))
        movable = not scenery_look
        fits, touching = resolve_scale(raw, est.eye, movable, supports)
        # Scenery's colour at a body's size, moving: a pastel body (no scenery of the families is
        # that small). Not when still: a wall seen in part behind a ramp fits body-sized, and at
        # rest the role changes nothing
        colour_overruled = (
            scenery_look
            and _body_sized(fits, tr)
            and est.pixels_moved(k, tr, [t for t in sorted(fits) if tr.blobs[t] is not None])
        )
        if colour_overruled:
            scenery_look, movable = False, True
            fits, touching = resolve_scale(raw, est.eye, movable, supports)
        if movable and min(touching.values()) < 0:  # a longer arc is a better ruler (below)
            more = [t for t in clear_frames(tr, cfg.flight_window) if t < min(raw)]
            if more:
                est.fit_back(k, tr, more, raw)
                est.fit_forward(k, tr, raw)  # from earlier frames that fit well
                fits, touching = resolve_scale(raw, est.eye, movable, supports)
        if movable:
            fits, touching = trusted_tail(fits, touching)
            fits, touching = held_down(fits, touching, est.eye, supports)
        scaled_fits = fits
        m = track_motion(est, k, tr, fits, touching, supports, movable, cfg, world.floor_friction)
        fits, ts, fit, p_end, vel = m.fits, m.ts, m.fit, m.position, m.velocity
        sig, v_se, moved, airborne = m.sigma, m.velocity_se, m.moved, m.airborne
        slope, accel = m.slope, m.accel
        t_last = ts[-1]
        big = max(half_extents(fit.shape, fit.size)) > 0.25
        if scenery_look:  # scenery cut by the image side: its one visible edge says how it moves
            edge = edge_velocity(tr, W, est.canvas.pose, fit.position)
            if edge is not None:
                vel, p_end, moved = edge, fit.position, True
        speed = float(np.linalg.norm(vel))
        still = speed < STILL_SPEED or not moved or est.rested(k, tr, p_end, vel)
        if still:
            vel = np.zeros(3)
            fit = resting_fit(scaled_fits, touching, fit)
        role = "dynamic"
        if scenery_look or (big and still):
            role = "kinematic" if not still else "static"
        if role == "static":
            fit = steadiest_fit(scaled_fits, touching, fit)
        if accel is not None and not still:
            role = "extrapolated"
        p_now = p_end if not still else fit.position
        if role != "dynamic":
            vel[2] = 0.0
        truncated = role == "kinematic" and fit.shape == "box"
        truncated = truncated and entering(tr.blobs[t_last], est.canvas.pose, p_now, vel, W)
        if truncated:
            fit, p_now = completed(fit, p_now, vel, tr.blobs[t_last], est.canvas.pose)
        role_guessed = colour_overruled  # the colour convention says scenery, the size a body
        if role == "dynamic" and not airborne and slope is None and m.topple is None:
            vel[2] = 0.0
            base = _level_base(supports, touching.get(t_last, -1))
            if fit.shape == "box":  # resting on a face: keep the yaw, drop the fitted tilt
                fit = flat_box(fit, base)
            elif fit.shape == "cylinder":  # on a cap or its side: likewise
                fit = level_cylinder(fit, base)
            p_now = np.array([p_now[0], p_now[1], fit.position[2]])
        if p_now[2] + reach(fit.shape, fit.size) < FLOOR.offset:
            # wholly under the floor, where the engine would never draw it: a blob of two
            # pixels (a 2.5 cm box on a box), fitted exactly, then grown to the smallest body
            # size along its line of sight, ended 46 cm underground; its pixels are left to
            # ``unexplained``
            continue
        if role == "dynamic" and still and not airborne:  # a box at rest carries what is on it
            top = box_top(fit.shape, fit.size, p_now, fit.orientation)
            if top is not None:
                supports.append(top)
        colors = np.mean([f.color for f in fits.values()], 0)
        name = f"obj{k}"
        common = dict(
            name=name,
            shape=fit.shape,
            size=tuple(float(s) for s in fit.size),
            color=tuple(float(np.clip(c, 0, 1)) for c in colors),
            orientation=tuple(float(q) for q in fit.orientation / np.linalg.norm(fit.orientation)),
        )
        if role == "dynamic":
            # still: no turn either (its fits' turn is their scatter; a spin alone made a
            # still box a moving body, neither settled nor drawn as seen)
            roll = vel if m.spun is None else m.spun  # the roll it had before a blow
            if still:
                ang = np.zeros(3)
            elif m.topple is not None:
                ang = m.topple.angular_velocity
            else:
                ang = angular_velocity({t: fits[t] for t in ts}, fit, roll, not airborne)
            spec = ObjectSpec(
                **common,
                mass=cfg.mass,
                friction=cfg.friction,
                restitution=cfg.restitution,
                position=tuple(float(x) for x in p_now),
                linear_velocity=tuple(float(x) for x in vel),
                angular_velocity=tuple(float(x) for x in ang),
            )
        elif role == "static":
            spec = ObjectSpec(**common, mass=0.0, position=tuple(float(x) for x in p_now))
            top = box_top(fit.shape, fit.size, p_now, fit.orientation)
            if top is not None:
                supports.append(top)
        elif role == "extrapolated":
            low = lowest_offset(fit.shape, fit.size, fit.orientation)
            path = extrapolated_path(p_now, vel, accel, low, common["orientation"], T - 1 - t_last)
            spec = ObjectSpec(**common, mass=0.0, position=path[0].position, path=path)
        else:  # moving scenery: keep its velocity for the whole rollout
            spec = moving_scenery(common, p_now, vel)
        if role == "dynamic" and m.push is not None and not still:
            pushes[name] = m.push
        hidden = T - 1 - t_last
        if hidden > 0 and role != "extrapolated":  # carry it from its last sighting to now
            sighted[name] = spec
            spec = carried(spec, role == "kinematic", vel, hidden, world)
        results.append(
            ObjectEstimate(
                spec=spec,
                role=role,
                shape_probs=probs,
                fit_error=float(min(f.error for f in fits.values())),
                position_sigma=sig,
                velocity_sigma=v_se,
                frames_hidden=hidden,
                truncated=truncated,
                role_guessed=role_guessed,
                track=tr,
                positions={t: fits[t].position for t in ts},
                restitution=m.restitution,
            )
        )
    world = _bounciness(world, results, cfg)
    in_view = tuple(o.spec for o in results if o.frames_hidden == 0)
    for o in results:
        if o.role == "dynamic" and o.spec.name in sighted:
            o.spec = unblocked(o.spec, sighted[o.spec.name], o.frames_hidden, world, in_view)
    moving_together(results)
    _polish(results, frames[-1], est.canvas)
    bodies = tuple(o.spec for o in results)
    paths = {o.spec.name: o.positions for o in results}
    spec = SceneSpec(
        objects=bodies,
        cameras=(cam,),
        light=est.light,
        world=world,
        events=push_events(pushes, bodies, paths, world.floor_friction),
    )
    unexplained = _unexplained(est.canvas, frames[-1], spec, bd)
    est.canvas.close()
    return SceneEstimate(spec, results, source, unexplained, floor_color)


def _polish(results: list[ObjectEstimate], frame: np.ndarray, canvas: Canvas) -> None:
    """Polish each body found at rest in full view, alone on the floor, against ``frame``, the
    others drawn as estimated (:func:`twinsim.neural.polish.polished`), in place."""
    for i, o in enumerate(results):
        specs = [r.spec for r in results]
        seen = o.frames_hidden == 0 and not o.truncated
        if o.role == "dynamic" and at_rest(o.spec) and seen and alone_on_the_floor(specs, i):
            o.spec = polished(specs, i, frame, canvas)


def _level_base(supports: list[Support], index: int) -> float:
    """The height of the level support a resting body touches (the floor's 0 when it touches
    none or a tilted one)."""
    if index < 0 or supports[index].tilted:
        return 0.0
    s = supports[index]
    return float(s.offset / s.normal[2])


def _camera(frames: np.ndarray, camera: CameraSpec | None, cfg: EstimateConfig):
    """(camera, source): the given one, else the one read from ``frames``, else the default."""
    if camera is not None:
        return camera, "given"
    H, W = frames.shape[1:3]
    estimator = _bundled_camera_estimator() if cfg.estimate_camera else None
    if estimator is None:
        return default_camera(H, W), "assumed"
    return estimator(frames).camera(W, H), "estimated"


def _bounciness(world: WorldSpec, results: list[ObjectEstimate], cfg: EstimateConfig):
    """The world with its floor as bouncy as the bounciest measured body, and every dynamic
    body's restitution set so that its product with the floor's (what Bullet applies) is the
    measured one, or the assumed ``cfg.restitution`` x the default floor's."""
    measured = [o.restitution for o in results if o.restitution is not None]
    if not measured:
        return world
    floor = max(world.floor_restitution, *measured)
    for o in results:
        if o.role == "dynamic":
            e = o.restitution
            e = cfg.restitution * world.floor_restitution if e is None else e
            o.spec = dataclasses.replace(o.spec, restitution=min(1.0, e / floor))
    return dataclasses.replace(world, floor_restitution=floor)


def _unexplained(canvas: Canvas, frame: np.ndarray, spec: SceneSpec, bd) -> float:
    """Share of observed object pixels that the estimate's render gets wrong (> 40 levels)."""
    rgb, _ = canvas.render(list(spec.objects))
    fg = ~bd.mask(frame)
    if not fg.any():
        return 0.0
    bad = np.abs(rgb.astype(np.float32) - frame.astype(np.float32)).sum(-1) > 120
    return float((bad & fg).sum() / fg.sum())


@functools.cache
def _bundled_classifier():
    """The bundled shape classifier, loaded once per process; None when not installed."""
    from twinsim.neural.perception import load_perception

    try:
        return load_perception()
    except FileNotFoundError:
        return None


@functools.cache
def _bundled_camera_estimator():
    """The bundled camera estimator, loaded once per process; None when not installed."""
    from twinsim.neural.camera_estimate import load_camera_estimator

    try:
        return load_camera_estimator()
    except FileNotFoundError:
        return None
