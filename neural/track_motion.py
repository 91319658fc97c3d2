"""How a fitted track moved: its state and velocity at its last fitted frame, from the frame fits
at metric scale, for :func:`twinsim.neural.estimate.estimate_scene`.

On the floor a line slowed by friction; in the air a ballistic arc (from the last floor contact
on); on a slope a constant acceleration along it; a body moving off the floor without falling
freely is extrapolated (:mod:`twinsim.neural.cues`); a free flight that ends on the floor inside
the window is a *landing*, fitted as one path through the bounce (:mod:`twinsim.neural.bounce`);
a box or cylinder caught toppling turns on about its edge (:mod:`twinsim.neural.topple`); a fall
that ends inside the window is read by :mod:`twinsim.neural.fall_end`.
The last state is then refitted jointly to every frame of the window
(:mod:`twinsim.neural.trajectory`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
from twinsim.neural.bounce import landing
from twinsim.neural.cues import on_arc, supported_motion
from twinsim.neural.fall_end import (
    ARC_MIN_FRAMES,
    fall_before_impact,
    impact,
    landed_motion,
    late_fall,
    still_falling,
)
from twinsim.neural.kinematics import (
    FPS,
    G,
    across_sight,
    constant_acceleration,
    motion_fit,
    slide_to_roll,
    velocity_break,
)
from twinsim.neural.motion import Motion
from twinsim.neural.push import held_push
from twinsim.neural.refine import FrameFit, project
from twinsim.neural.scale import touched_support
from twinsim.neural.support import Support
from twinsim.neural.topple import toppling
from twinsim.neural.track import Track
from twinsim.neural.track_frames import whole_centroids
from twinsim.neural.trajectory import fit_trajectory, struck_start

if TYPE_CHECKING:
    from twinsim.neural.estimate import EstimateConfig
    from twinsim.neural.track_fit import TrackFitter

__all__ = ["Motion", "since_contact", "track_motion"]

DEPTH_MIN_FRAMES = 4  # fewer fitted frames do not give a speed along the line of sight
_QUADRATIC_MIN_FRAMES = 4  # three positions fit any constant acceleration exactly


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
    if movable and not grounded[ts[0]] and len(ts) > ARC_MIN_FRAMES:
        landed = landing(fits, est.canvas.pose, est.eye)
        if landed is not None:
            return landed_motion(landed, est.pixels_moved(k, tr, ts))
        fall, arc = fall_before_impact(fits, ts, grounded, est)
        ball = fits[ts[-1]].shape == "sphere"
        if fall is not None and ball:  # carried through the impact by the engine
            fits = {t: fits[t] for t in fall}
            ts = fall
        elif still_falling(fits, ts, est):
            # the contact ruler put the fall's lowest frames on the floor: in flight throughout
            grounded = dict.fromkeys(ts, False)
        elif fall is not None:
            moved = est.pixels_moved(k, tr, ts)
            late = late_fall(arc, fall, ts, fits, est, moved)
            return late if late is not None else impact(arc, fall, ts, est, moved)
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

    off_floor = airborne and movable and moved and len(ts) >= ARC_MIN_FRAMES
    flying = False
    if off_floor:  # free flight fixes the scale that floor contact could not
        seen = centres_seen(est, tr, fits, ts)
        arc, flying = on_arc(fits, ts, times, est.canvas.pose, est.eye, seen)
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
        hit = 0.5 * (times[kink] + times[kink + 1])  # the blow, inside the step that holds it
        ts, times, pos = ts[since:], times[since:], pos[since:]
        p_end, vel, sig, v_se = motion_fit(times, pos, airborne=False)
        # A blow through a ball's centre gives it speed, not spin: one struck from rest slides
        # off unspun and slows to a roll, one slowed keeps its faster spin (development collide
        # seeds 3 000 005-015, six windows whose state this changes: +25.1 dB summed over copy-last
        # with the spin it had, +20.2 with the roll of its new speed)
        spun = before
        if since == kink + 1:  # frames after the blow only: the slip they saw closing
            after = (times[0] - hit, times[-1] - hit)
            vel, spun = slide_to_roll(vel, before, after, cfg.friction * floor_friction)
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


def centres_seen(
    est: TrackFitter, tr: Track, fits: dict[int, FrameFit], ts: list[int]
) -> dict[int, tuple[float, float]] | None:
    """{frame: (u, v)} where the body's centre projects in each frame of ``ts``, read off its
    blob, or None unless every one of those blobs shows it whole
    (:func:`~twinsim.neural.track_frames.whole_centroids`).

    Each fit drawn alone gives the offset from its silhouette's centroid to its centre's
    projection (how the body's turn and perspective place the one against the other); added
    to the blob's centroid, it gives the centre without the fraction of a pixel by which a
    fit stalls (the offset moves with the fit)."""
    whole = whole_centroids(tr)
    if not all(t in whole for t in ts):
        return None
    out = {}
    for t in ts:
        _, seg = est.canvas.render([fits[t].spec()], segmentation=True)
        vs, us = np.nonzero(seg == 1)
        if not len(us):
            return None
        drawn = np.array([us.mean(), vs.mean()]) + 0.5  # the blobs' convention
        centre = project(est.canvas.pose, fits[t].position)[0]
        out[t] = tuple(float(x) for x in np.asarray(whole[t]) + centre - drawn)
    return out
