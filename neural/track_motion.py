"""How a fitted track moved: its state and velocity at its last fitted frame, from the frame fits
at metric scale, for :func:`twinsim.neural.estimate.estimate_scene`.

On the floor a line slowed by friction; in the air a ballistic arc (from the last floor contact
on); on a slope a constant acceleration along it; a body moving off the floor without falling
freely is extrapolated (:mod:`twinsim.neural.cues`); a free flight that ends on the floor inside
the window is a *landing*, fitted as one path through the bounce (:mod:`twinsim.neural.bounce`);
a box or cylinder caught toppling turns on about its edge (:mod:`twinsim.neural.topple`).
The last state is then refitted jointly to every frame of the window
(:mod:`twinsim.neural.trajectory`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from twinsim.neural.bounce import Landing, landing
from twinsim.neural.cues import on_arc, supported_motion
from twinsim.neural.kinematics import (
    FPS,
    G,
    across_sight,
    constant_acceleration,
    motion_fit,
    velocity_break,
)
from twinsim.neural.push import HeldPush, held_push
from twinsim.neural.refine import FrameFit, project, scaled
from twinsim.neural.scale import first_contact, touched_support
from twinsim.neural.support import FLOOR, Support
from twinsim.neural.topple import Topple, toppling
from twinsim.neural.track import Track
from twinsim.neural.trajectory import fit_trajectory, struck_start

if TYPE_CHECKING:
    from twinsim.neural.estimate import EstimateConfig
    from twinsim.neural.track_fit import TrackFitter

__all__ = ["Motion", "since_contact", "track_motion"]

DEPTH_MIN_FRAMES = 4  # fewer fitted frames do not give a speed along the line of sight
_ARC_MIN_FRAMES = 4  # an arc through fewer pixel positions does not fix the scale
_IMPACT_TAIL = 2  # frames on the floor at the end of a fall that may be its impact
_QUADRATIC_MIN_FRAMES = 4  # three positions fit any constant acceleration exactly
_LATE_FALL_PX = 0.75  # a frame this close to its fall's arc has not met the floor yet
_IMPACT_STEP_MIN = 0.2  # m/s: a quarter pixel a frame at 2 m, the fits' scatter at an impact


@dataclass
class Motion:
    """A track's motion at its last fitted frame.

    Attributes:
        fits: the frame fits used (at metric scale); ts: their frames, sorted.
        fit: the fit at the last frame ``ts[-1]`` (its position may be refined).
        position, velocity: (3,) state at the last frame (m, m/s).
        sigma, velocity_se: residual scatter (m) and the velocity's standard error (m/s).
        moved: its pixels changed over the window; airborne: off the floor in some frame.
        slope: the tilted support it moves along, or None; accel: (3,) the constant
            acceleration of an unexplained supported motion (extrapolated), or None.
        restitution: against the floor (body x floor), measured from a landing, else None.
        spun: (3,) velocity of a ball before a collision inside the window, whose roll its spin
            still is (a blow through its centre does not turn it), or None.
        push: a push still acting at the last frame (:mod:`twinsim.neural.push`), or None.
        topple: the turn of a body caught toppling about its edge on the floor
            (:mod:`twinsim.neural.topple`), or None.
    """

    fits: dict[int, FrameFit]
    ts: list[int]
    fit: FrameFit
    position: np.ndarray
    velocity: np.ndarray
    sigma: float
    velocity_se: float
    moved: bool
    airborne: bool
    slope: Support | None = None
    accel: np.ndarray | None = None
    restitution: float | None = None
    spun: np.ndarray | None = None
    push: HeldPush | None = None
    topple: Topple | None = None


def track_motion(
    est: TrackFitter,
    k: int,
    tr: Track,
    fits: dict[int, FrameFit],
    touching: dict[int, int],
    supports: list[Support],
    movable: bool,
    cfg: EstimateConfig,
    floor_friction: float,
) -> Motion:
    """The motion of track ``k`` from its scaled ``fits`` and the support each touches
    (``touching``: index into ``supports``, -1 when off every one); ``floor_friction``: the
    estimated world's (a struck body slides on at the rollout's own friction)."""
    frames = est.frames
    scenery_look = not movable
    ts = sorted(fits)
    grounded = {t: touching[t] >= 0 for t in ts}
    # resting on a slope in every fitted frame (a ball on a ramp): it moves along the slope
    slope = supports[touching[ts[-1]]] if all(grounded.values()) else None
    slope = slope if slope is not None and slope.tilted else None
    # on the floor before its last two frames, and turning fast about an edge since
    topple = toppling(fits, est.eye) if movable and any(grounded[t] for t in ts[:-2]) else None
    if topple is not None:
        times = np.array(ts, float) / FPS
        _, _, sig, v_se = motion_fit(times, np.stack([fits[t].position for t in ts]), False)
        fits = {**fits, ts[-1]: topple.fit}
        moved = est.pixels_moved(k, tr, ts)
        pos, vel = topple.fit.position, topple.velocity
        return Motion(fits, ts, topple.fit, pos, vel, sig, v_se, moved, False, topple=topple)
    if movable and not grounded[ts[0]] and len(ts) > _ARC_MIN_FRAMES:
        landed = landing(fits, est.canvas.pose, est.eye)
        if landed is not None:
            return _landed(landed, est.pixels_moved(k, tr, ts))
        fall, arc = _fall_before_impact(fits, ts, grounded, est)
        ball = fits[ts[-1]].shape == "sphere"
        if fall is not None and ball:  # carried through the impact by the engine
            fits = {t: fits[t] for t in fall}
            ts = fall
        elif _still_falling(fits, ts, est):
            # the contact ruler put the fall's lowest frames on the floor: in flight throughout
            grounded = dict.fromkeys(ts, False)
        elif fall is not None:
            moved = est.pixels_moved(k, tr, ts)
            late = _late_fall(arc, fall, ts, fits, est, moved)
            return late if late is not None else _impact(arc, fall, ts, est, moved)
    # On the floor only if on it in every fitted frame; otherwise a ballistic arc from the
    # last floor contact on (a bounce inside the window would break either model), or the
    # slide of its last stay on the floor
    airborne = not all(grounded[t] for t in ts)
    touched = any(grounded[t] for t in ts[:-1])  # the floor before the last frame
    if airborne:
        ts = since_contact(ts, grounded)
        airborne = not all(grounded[t] for t in ts)
    times = np.array(ts, float) / FPS
    moved = est.pixels_moved(k, tr, ts)

    off_floor = airborne and movable and moved and len(ts) >= _ARC_MIN_FRAMES
    flying = False
    if off_floor:  # free flight fixes the scale that floor contact could not
        arc, flying = on_arc(fits, ts, times, est.canvas.pose, est.eye)
        # A rigid body keeps its size: seen on a support at both ends of the window, an
        # arc that lifts either end off it (a toppling box pivots on its edge: no
        # projectile) is the wrong ruler. One grounded frame proves nothing: the contact
        # scale puts the lowest frame on the floor by construction.
        ends = (ts[0], ts[-1])
        bracketed = all(grounded[t] for t in ends)
        lifted = any(touched_support(arc[t], est.eye, supports, 0.15) < 0 for t in ends)
        if flying and bracketed and lifted:
            flying = False
        else:
            fits = arc
    pos = np.stack([fits[t].position for t in ts])
    t_last = ts[-1]
    fit = fits[t_last]
    p_end, vel, sig, v_se = motion_fit(times, pos, airborne)
    accel = None
    if slope is not None and len(ts) >= 3:
        # rolling or sliding down: constant acceleration along the slope (the engine, given
        # the slope, carries it on)
        p_end, vel, _ = constant_acceleration(times, pos)
        vel = slope.along(vel)
    if off_floor and not flying and not touched:
        # moving off the floor, but not falling freely: carried by something the estimate
        # does not explain (a ramp fitted badly): extrapolate what was seen
        supported = supported_motion(times, pos, est.eye)
        if supported is not None:
            p_end, vel, accel = supported
    rolling = fit.shape == "sphere" and not airborne and slope is None and accel is None
    spun = None
    kink = velocity_break(times, pos, est.eye) if rolling and moved else None
    if kink is not None:
        # A ball rolls at one velocity until it meets something: after a collision inside the
        # window only the frames since it say how it moves on (collide seed 3 000 005: a ball
        # struck in the last frame, at rest before it, was given 60 cm/s by a line or parabola
        # through the window where its last step says 77, and the truth is 75).
        _, before, _, _ = motion_fit(times[: kink + 1], pos[: kink + 1], airborne=False)
        # the step that holds the collision mixes the two velocities: left out where a later
        # step measures the new one
        since = kink + 1 if kink + 1 < len(ts) - 1 else kink
        ts, times, pos = ts[since:], times[since:], pos[since:]
        p_end, vel, sig, v_se = motion_fit(times, pos, airborne=False)
        # A blow through a ball's centre gives it speed, not spin: one struck from rest slides
        # off unspun and slows to a roll, one slowed keeps its faster spin (development collide
        # seeds 3 000 005-015, six windows whose state this changes: +25.1 dB summed over copy-last
        # with the spin it had, +20.2 with the roll of its new speed)
        spun = before
    # two or three depths from apparent size (+-20 % each) do not give a speed along the line
    # of sight: keep the motion across it. A ball's frames since a collision are on the floor,
    # where the contact gives each depth (3 000 005: a ball fitted at -9 cm/s along the line of
    # sight, the truth -10, was given +13 once that was taken out).
    sizes_only = len(ts) < DEPTH_MIN_FRAMES and kink is None
    if sizes_only:
        vel = across_sight(vel, fit.position, est.eye, level=not airborne)
    enough = len(ts) >= (DEPTH_MIN_FRAMES if airborne else 2)
    push = None
    if moved and not scenery_look and enough and accel is None and slope is None:
        quadratic = None
        if not airborne and len(ts) >= _QUADRATIC_MIN_FRAMES:
            quadratic = constant_acceleration(times, pos)
            _, v_q, a_q = quadratic
            if fit.shape == "sphere" and float(a_q[:2] @ v_q[:2]) >= 0:
                # nothing on a level floor speeds a rolling ball up but a blow (the break
                # above): a parabola that does reads the fits' scatter as a change of speed
                quadratic = None
        struck = None if airborne else struck_start(times, pos)
        if struck is not None and fit.shape != "sphere":  # a ball rolls on; others slide
            slide = cfg.friction * floor_friction * G
            struck = dataclasses.replace(struck, deceleration=slide)
        p_end, vel, _, speedup = fit_trajectory(
            est.canvas,
            {t: frames[t] for t in ts},
            dict.fromkeys(ts, est.others(k)),
            k,
            fit.spec(),
            {t: fits[t].orientation for t in ts},
            t_last,
            p_end,
            vel,
            not airborne,
            FPS,
            max_evals=cfg.trajectory_evals,
            ignore={t: est.ignore(t, k) for t in ts},
            accelerating=quadratic,
            struck=struck,
        )
        fits[t_last] = dataclasses.replace(fit, position=np.asarray(p_end))
        fit = fits[t_last]
        # a ball is not read as pushed (as above), nor is a body on three frames or fewer, which
        # any constant acceleration fits exactly
        if not airborne and fit.shape != "sphere" and len(ts) >= _QUADRATIC_MIN_FRAMES:
            push = held_push(vel, speedup, times, struck.first if struck is not None else 0)
        if sizes_only:  # as above: the refit does not know depth better
            vel = across_sight(vel, p_end, est.eye, level=not airborne)

    return Motion(
        fits,
        ts,
        fit,
        np.asarray(p_end),
        np.asarray(vel),
        sig,
        v_se,
        moved,
        airborne,
        slope,
        accel,
        spun=spun,
        push=push,
    )


def since_contact(ts: list[int], grounded: dict[int, bool]) -> list[int]:
    """The frames of ``ts`` (sorted) that a track off the floor in some of them is fitted on:
    back on the floor in its last two frames, every frame of that last stay (a body that fell
    or toppled and now slides or settles: its last two frames alone read the settling turn as
    speed); else from its last floor contact before the last frame on (the start of an arc);
    all of them if it has none."""
    contacts = [i for i, t in enumerate(ts[:-1]) if grounded[t]]
    if not contacts:
        return ts
    start = contacts[-1]
    if grounded[ts[-1]] and start == len(ts) - 2:
        while start > 0 and grounded[ts[start - 1]]:
            start -= 1
    return ts[start:]


def _landed(landed: Landing, moved: bool) -> Motion:
    """The motion of a ball whose landing was fitted: the fitted path's state at the last frame."""
    ts = sorted(landed.fits)
    return Motion(
        landed.fits,
        ts,
        landed.fits[ts[-1]],  # on the fitted path, at its size
        np.asarray(landed.position),
        np.asarray(landed.velocity),
        landed.sigma,
        landed.velocity_se,
        moved,
        airborne=True,
        restitution=landed.restitution,
    )


def _still_falling(fits: dict[int, FrameFit], ts: list[int], est: TrackFitter) -> bool:
    """Whether every fitted frame lies on one free flight above the floor. Scaled by contact, a
    falling body's lowest frames touch the floor by construction (and a misfit frame can touch
    it too), which had ended its flight there: a box still 10 cm up and falling at 3 m/s was
    taken for landed and at rest."""
    if len(ts) < _ARC_MIN_FRAMES:
        return False
    _, flying = on_arc(fits, ts, np.array(ts, float) / FPS, est.canvas.pose, est.eye)
    return flying


def _fall_before_impact(
    fits: dict[int, FrameFit], ts: list[int], grounded: dict[int, bool], est: TrackFitter
) -> tuple[list[int] | None, dict[int, FrameFit]]:
    """The frames of a free fall that meets the floor in the last one or two frames, no
    rebound seen yet, with the fits moved onto its arc (:func:`on_arc`); (None, ``fits``)
    when the track is not such a fall. The impact frames follow no
    arc and no line on the floor (the engine was between substeps of the bounce): a ball is
    fitted on its fall and carried through the impact by the engine
    (:func:`~twinsim.neural.bodies.carried`); a box or cylinder rests where it hit
    (:func:`_impact`), or falls on where those frames are still on the fall's arc
    (:func:`_late_fall`)."""
    down = [t for t in ts if grounded[t]]
    if not down or len(down) > _IMPACT_TAIL or down != ts[len(ts) - len(down) :]:
        return None, fits
    fall = ts[: len(ts) - len(down)]
    if len(fall) < _ARC_MIN_FRAMES:
        return None, fits
    times = np.array(fall, float) / FPS
    arc, flying = on_arc(fits, fall, times, est.canvas.pose, est.eye)
    return (fall, arc) if flying else (None, fits)


def _impact(
    arc: dict[int, FrameFit], fall: list[int], ts: list[int], est: TrackFitter, moved: bool
) -> Motion:
    """A box or cylinder that fell onto the floor in the last one or two frames: it rests where
    it hit, sliding on across the line of sight at the fall's horizontal velocity, or where it
    is on the floor in both last frames at the step between them (the impact spends the
    vertical one); ``arc``: the fits on the fall's arc.
    Its impact turns on the orientation it hits with, which a 10 px fit does not give: carried
    through it by the engine, drop seeds 2 000 000-009 lost 0.8-1.4 dB; fitted as moving
    off the floor without falling freely, it was extrapolated on into the floor."""
    times = np.array(fall, float) / FPS
    _, v, sig, v_se = motion_fit(times, np.stack([arc[t].position for t in fall]), True)
    last = arc[ts[-1]]  # at the arc's size (gravity's ruler), put on the floor it hit
    lam, _ = first_contact(last, est.eye, (FLOOR,))
    if np.isfinite(lam):
        last = dataclasses.replace(scaled(last, est.eye, lam), size=last.size)
    arc[ts[-1]] = last
    horizontal = np.array([v[0], v[1], 0.0])
    down = ts[len(fall) :]
    if len(down) == 2:
        # seen on the floor twice, the step between them is how the impact sent it on
        # (development drop seed 3 000 019: a box bouncing off at 0.94 m/s across the line of
        # sight, stepped 0.98; the fall's velocity, 0.01), where it is more than the scatter
        # of fits at an impact (a box landing flat stepped 0.17 m/s: tests/test_hybrid_falls)
        step = (last.position - arc[down[0]].position) * FPS / (down[1] - down[0])
        step[2] = 0.0
        if np.linalg.norm(across_sight(step, last.position, est.eye, level=True)) > (
            _IMPACT_STEP_MIN
        ):
            horizontal = step
    # across the line of sight only: along it the fall's velocity is the worst-determined
    # quantity (drop seed 3 000 005: 0.77 m/s toward the camera for a vertical fall)
    vel = across_sight(horizontal, last.position, est.eye, level=True)
    return Motion(arc, ts, last, np.asarray(last.position), vel, sig, v_se, moved, airborne=False)


def _late_fall(
    arc: dict[int, FrameFit],
    fall: list[int],
    ts: list[int],
    fits: dict[int, FrameFit],
    est: TrackFitter,
    moved: bool,
) -> Motion | None:
    """A box or cylinder whose last frames, put on the floor by the contact scale, are still on
    its fall's pixel arc (each within 0.75 px of it): nothing has slowed it yet, so it falls on
    at the arc's velocity (the engine carries it into the floor), placed where the arc puts it
    but not below the floor; None when a last frame is off the arc (the impact has begun:
    :func:`_impact`). Development drop seed 3 000 002: a cylinder 10 cm up and falling at
    3.7 m/s, its last frame put on the floor (and the arc through every frame below it by a
    size fitted 30 % long), had been left at rest there: +0.00 -> +2.26 dB over copy-last."""
    times = np.array(fall, float) / FPS
    p, v, sig, v_se = motion_fit(times, np.stack([arc[t].position for t in fall]), True)

    def on_fall(t: int) -> np.ndarray:
        tau = (t - fall[-1]) / FPS
        return p + v * tau - np.array([0.0, 0.0, 0.5 * G * tau * tau])

    pose = est.canvas.pose
    for t in ts[len(fall) :]:
        off = np.linalg.norm(project(pose, on_fall(t))[0] - project(pose, fits[t].position)[0])
        if off > _LATE_FALL_PX:
            return None
    vel = v - np.array([0.0, 0.0, G * (ts[-1] - fall[-1]) / FPS])
    last = dataclasses.replace(
        arc[fall[-1]], position=on_fall(ts[-1]), orientation=fits[ts[-1]].orientation
    )
    lam, _ = first_contact(last, est.eye, (FLOOR,))
    if np.isfinite(lam) and lam < 1.0:  # below the floor at the arc's depth: moved onto it
        last = dataclasses.replace(scaled(last, est.eye, lam), size=last.size)
    out = dict(arc)
    out[ts[-1]] = last
    # across the line of sight only, as for an impact, but the fall's vertical speed kept
    horiz = across_sight(np.array([vel[0], vel[1], 0.0]), last.position, est.eye, level=True)
    vel = np.array([horiz[0], horiz[1], vel[2]])
    return Motion(out, ts, last, np.asarray(last.position), vel, sig, v_se, moved, airborne=True)
