"""The end of a fall inside the window, for :func:`twinsim.neural.track_motion.track_motion`:
a ball's landing fitted through its bounce, a fall still in flight though its lowest frames touch
the floor, a box or cylinder that meets the floor in the last one or two frames (it rests where
it hit, or falls on while those frames are still on its arc)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
from twinsim.neural.bounce import Landing
from twinsim.neural.cues import on_arc
from twinsim.neural.kinematics import FPS, G, across_sight, motion_fit
from twinsim.neural.motion import Motion
from twinsim.neural.refine import FrameFit, project, scaled
from twinsim.neural.scale import first_contact
from twinsim.neural.support import FLOOR

if TYPE_CHECKING:
    from twinsim.neural.track_fit import TrackFitter

__all__ = [
    "ARC_MIN_FRAMES",
    "fall_before_impact",
    "impact",
    "landed_motion",
    "late_fall",
    "still_falling",
]

ARC_MIN_FRAMES = 4  # an arc through fewer pixel positions does not fix the scale
_IMPACT_TAIL = 2  # frames on the floor at the end of a fall that may be its impact
_LATE_FALL_PX = 0.75  # a frame this close to its fall's arc has not met the floor yet
_IMPACT_STEP_MIN = 0.2  # m/s: a quarter pixel a frame at 2 m, the fits' scatter at an impact


def landed_motion(landed: Landing, moved: bool) -> Motion:
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


def still_falling(fits: dict[int, FrameFit], ts: list[int], est: TrackFitter) -> bool:
    """Whether every fitted frame lies on one free flight above the floor. Scaled by contact, a
    falling body's lowest frames touch the floor by construction (and a misfit frame can touch
    it too), which had ended its flight there: a box still 10 cm up and falling at 3 m/s was
    taken for landed and at rest."""
    if len(ts) < ARC_MIN_FRAMES:
        return False
    _, flying = on_arc(fits, ts, np.array(ts, float) / FPS, est.canvas.pose, est.eye)
    return flying


def fall_before_impact(
    fits: dict[int, FrameFit], ts: list[int], grounded: dict[int, bool], est: TrackFitter
) -> tuple[list[int] | None, dict[int, FrameFit]]:
    """The frames of a free fall that meets the floor in the last one or two frames, no
    rebound seen yet, with the fits moved onto its arc (:func:`on_arc`); (None, ``fits``)
    when the track is not such a fall. The impact frames follow no
    arc and no line on the floor (the engine was between substeps of the bounce): a ball is
    fitted on its fall and carried through the impact by the engine
    (:func:`~twinsim.neural.bodies.carried`); a box or cylinder rests where it hit
    (:func:`impact`), or falls on where those frames are still on the fall's arc
    (:func:`late_fall`)."""
    down = [t for t in ts if grounded[t]]
    if not down or len(down) > _IMPACT_TAIL or down != ts[len(ts) - len(down) :]:
        return None, fits
    fall = ts[: len(ts) - len(down)]
    if len(fall) < ARC_MIN_FRAMES:
        return None, fits
    times = np.array(fall, float) / FPS
    arc, flying = on_arc(fits, fall, times, est.canvas.pose, est.eye)
    return (fall, arc) if flying else (None, fits)


def impact(
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


def late_fall(
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
    :func:`impact`). Development drop seed 3 000 002: a cylinder 10 cm up and falling at
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
