"""The metric scale of a track's frame fits: each frame is fitted at some depth (a single frame
cannot tell a small near body from a large far one), and contact with a support fixes it."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.spatial.transform import Rotation
from twinsim.neural.refine import FrameFit, scaled
from twinsim.neural.support import FLOOR, contact_scale, typical_half

__all__ = [
    "SIZE_RANGE",
    "first_contact",
    "held_down",
    "put_on",
    "resolve_scale",
    "resting_fit",
    "steadiest_fit",
    "touched_support",
    "trusted_tail",
]

SIZE_RANGE = (0.05, 0.17)  # plausible half extents of a movable body (m)
_MISFIT = 6.0  # mean grey-level error of a frame fit that no longer explains the blob
# (10 let a box pressed by one of a near colour, fitted 8.5 off, fly off: push seed 2 000 007)
_HELD_DOWN = 0.15  # of its depth: how far off its support a body seen on it may be fitted
_HELD_DOWN_FRAMES = 2  # at most this many last frames fitted off it are put back on it


def first_contact(fit: FrameFit, eye: np.ndarray, supports) -> tuple[float, int]:
    """(scale about the eye, support index) of the first support the fitted body touches when
    pushed out along its line of sight (it rests on what it meets first); (NaN, -1) if none."""
    best = (float("nan"), -1)
    for i, s in enumerate(supports):
        lam = contact_scale(fit.shape, fit.size, fit.position, fit.orientation, eye, s)
        if math.isfinite(lam) and not lam >= best[0]:
            best = (lam, i)
    return best


def touched_support(fit: FrameFit, eye: np.ndarray, supports, tolerance: float = 0.06) -> int:
    """Index of the support the fitted body touches once moved along its line of sight by at
    most ``tolerance`` of its depth, or -1 when it is off every one."""
    lam, i = first_contact(fit, eye, supports)
    return i if math.isfinite(lam) and abs(lam - 1.0) < tolerance else -1


def resolve_scale(fits: dict[int, FrameFit], eye: np.ndarray, movable: bool, supports=(FLOOR,)):
    """Scale every frame fit to one metric size (contact with a support where the body is
    lowest). Returns (fits, {frame: index of the support touched, or -1 when off every one})."""
    scales = {}
    for t, f in fits.items():
        lam, _ = first_contact(f, eye, supports)
        if math.isfinite(lam):
            scales[t] = lam * float(np.exp(np.mean(np.log(f.size))))
    if scales:
        # A movable body is smallest where it really touches (elsewhere it may be in the air).
        # Scenery stands on its support in every frame: its ruler is the last frame, the one
        # fitted from its own blob (earlier ones start from it; a wall coming into view is a
        # sliver there, whose fit may turn it to any depth).
        t_star = min(scales, key=scales.get) if movable else max(scales)
        ref = scaled(fits[t_star], eye, first_contact(fits[t_star], eye, supports)[0])
    else:
        t_star = max(fits)
        ref = fits[t_star]
    size = np.asarray(ref.size)
    if movable:
        gm = typical_half(ref.shape, size)
        lo, hi = SIZE_RANGE
        if gm > hi or gm < lo:
            size = size * (min(hi, max(lo, gm)) / gm)
    gm_ref = float(np.exp(np.mean(np.log(size))))
    out = {}
    touching = {}
    for t, f in fits.items():
        lam = gm_ref / float(np.exp(np.mean(np.log(f.size))))
        g = scaled(f, eye, lam)
        out[t] = dataclasses.replace(g, size=tuple(map(float, size)))
        i = touching[t] = touched_support(g, eye, supports)
        if i >= 0:  # in contact: depth from the contact, finer than from size
            g = scaled(f, eye, first_contact(f, eye, supports[i : i + 1])[0])
            out[t] = dataclasses.replace(g, size=tuple(map(float, size)))
    return out, touching


def trusted_tail(fits: dict[int, FrameFit], touching: dict[int, int]):
    """``fits`` and ``touching`` without the frames after the last one on a support that are
    off every support *and* misfit (mean error above ``_MISFIT`` grey levels and above every
    grounded frame's): a box knocked into a tumble is fitted badly, and the bad fit, not
    the box, leaves the floor. The body is then carried from its last trusted frame."""
    ts = sorted(fits)
    grounded = [t for t in ts if touching[t] >= 0]
    if not grounded or grounded[-1] == ts[-1]:
        return fits, touching
    tail = [t for t in ts if t > grounded[-1]]
    worst_grounded = max(fits[t].error for t in grounded)
    if not all(fits[t].error > max(_MISFIT, worst_grounded) for t in tail):
        return fits, touching
    keep = [t for t in ts if t <= grounded[-1]]
    return {t: fits[t] for t in keep}, {t: touching[t] for t in keep}


def held_down(fits: dict[int, FrameFit], touching: dict[int, int], eye: np.ndarray, supports):
    """``fits`` and ``touching`` with the body of the last frame, or of the last two, put on
    the support it was on in every frame before (but perhaps the window's first), where each
    fit there is off it by under 15 % of its depth along its line of sight. Lifting a body a
    few cm in a frame or two takes a blow that throws it at 1-2 m/s; the last frame is the one
    fitted with a free size (the others start from it), and a sliding box's fit there floated
    6-8 cm up and 10-18 cm toward the camera, 6-7 % off contact, just over the 6 % that
    :func:`touched_support` allows (collide seeds 3 000 004 and 3 000 008); an upright box
    sliding to a stop had its last two frames fitted 4 and 14 % off, and read as a jump it was
    played 20 cm up (push seed 3 000 012, -6.9 dB to copy-last-frame; -2.5 held down)."""
    ts = sorted(fits)
    n = 0  # frames off every support at the end
    while n < len(ts) and touching[ts[-1 - n]] < 0:
        n += 1
    if n == 0 or n > _HELD_DOWN_FRAMES or n == len(ts):
        return fits, touching  # on a support in no frame: nothing to hold it to
    before = ts[:-n]
    i = touching[before[-1]]
    # on it in every frame before: a ball that fell onto it and bounces off touched it in two
    # frames at its impact, and its rise is real. The window's first frame may be off (it is
    # fitted last, back from the others); that, or two frames off at the end, takes a longer
    # stay on it
    if i < 0 or any(touching[t] != i for t in before[1:]):
        return fits, touching
    need = 2 if n == 1 and touching[before[0]] == i else 4
    if sum(touching[t] == i for t in before) < need:
        return fits, touching
    out, held = dict(fits), dict(touching)
    for t in ts[-n:]:
        down = put_on(fits[t], eye, supports[i])
        if down is None:
            return fits, touching
        out[t], held[t] = down, i
    return out, held


def put_on(fit: FrameFit, eye: np.ndarray, support) -> FrameFit | None:
    """``fit`` moved along its line of sight, at its own size, until it rests on ``support``;
    None where that is :data:`_HELD_DOWN` of its depth or more away (or never)."""
    lam, _ = first_contact(fit, eye, [support])
    if not (math.isfinite(lam) and abs(lam - 1.0) < _HELD_DOWN):
        return None
    down = fit
    for _ in range(3):  # contact scales position and size: refined at the size kept
        down = dataclasses.replace(scaled(down, eye, lam), size=fit.size)
        lam, _ = first_contact(down, eye, [support])
        if not math.isfinite(lam):
            return None
    return down


def resting_fit(fits: dict[int, FrameFit], touching: dict[int, int], last: FrameFit) -> FrameFit:
    """The pose of a body found at rest: ``last`` (its last frame's fit) where that touches a
    support, else its fit in the last frame that does. Nothing rests in the air, and the frames
    fitted off every support at the end are those where a passing body covers part of it: a
    ramp under a rolling ball, fitted 13 cm up and 16 cm toward the camera in its last three
    frames (ramp seed 3 000 001), carried the ball off its near edge."""
    ts = sorted(t for t in fits if t in touching)
    if not ts or touching[ts[-1]] >= 0:
        return last
    grounded = [t for t in ts if touching[t] >= 0]
    return fits[grounded[-1]] if grounded else last


def steadiest_fit(fits: dict[int, FrameFit], touching: dict[int, int], last: FrameFit) -> FrameFit:
    """The pose of static scenery: of its fits on a support (``last`` if fewer than three), the
    one whose orientation lies nearest the others' (the least summed angle; the latest on a
    tie). It stands still, so every frame sees one pose, and a body passing over it pulls
    single fits off: a ramp under a ball was fitted 4-8 degrees off its slope in its last frame
    on development ramp seeds 3 000 002, 3 000 007 and 3 000 010 (over the 12 development ramp
    seeds the last frame's fit is 2.5 degrees off on average, this one 1.6)."""
    ts = sorted(t for t in fits if touching.get(t, -1) >= 0)
    if len(ts) < 3:
        return last
    rot = Rotation.from_quat([fits[t].orientation for t in ts])
    spread = [float(np.sum((rot * rot[i].inv()).magnitude())) for i in range(len(ts))]
    best = min(range(len(ts)), key=lambda i: (round(spread[i], 9), -ts[i]))
    return fits[ts[best]]
