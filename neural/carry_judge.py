"""The carry rule as a judge: how a clip's frames meet the bodies it carries out of sight.

:mod:`twinsim.neural.carry` draws hidden bodies over the pixel model's predictions. The hybrid
predictor has no pixel prediction of a body too small to fit in 3D (20-40 pixels behind a
screen), so it asks the same rule, on the frames alone, where such a body was due: the carried
column of its physics surprise (:func:`carried_surprise`) and the carried bodies drawn over its
rollout (:func:`draw_carried`), which its VoE gate judges. The surprise judges a whole clip, so
it gives each body that comes back the deceleration its speeds on both sides show
(:func:`hidden_decelerations`); the drawn rollout is a prediction and uses only the frames
before each step.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from twinsim.neural.carry import BodyCarrier
from twinsim.neural.carry_regions import Sighting
from twinsim.neural.carry_track import FIT_SIGHTINGS, fit_slide

__all__ = [
    "CAME_OUT_COST",
    "JUDGED_SIGHTINGS",
    "MAX_DECELERATION",
    "RETURN_COST",
    "carried_surprise",
    "draw_carried",
    "hidden_decelerations",
    "return_miss",
]

# Surprise (grey levels, as the drawn pixels' are) of a hidden body coming back 1 px from where the
# rule's slide had it; d px cost d^2 times that. The drawn pixels alone see a body out late (drawn,
# not there) but not one out early: it is placed by what comes out and is then where it is drawn.
# The slide's friction is the families' typical one, so this forward check is noisy;
# :func:`return_miss`, which needs no friction, carries the weight where the body is followed on
# both sides (this cost was 8 before that check). Development screen items (seeds 3 000 000+ and
# 4 000 000+, 48 per kind, carried column alone, RETURN_COST 16, bodies carried after 3 whole
# sightings): 0, 2, 4 and 8 all scored teleport 1.000 and every other kind 1.000; on 5 000 000+ (24
# items, checked after) vanish/appear 1.000, 1.000, 0.958, 0.958, teleport 0.917 at each.
CAME_OUT_COST = 2.0
# Surprise (as CAME_OUT_COST) per px^2 of :func:`return_miss`, added in the frame the body was
# seen back. Development screen items (as above, CAME_OUT_COST 2): 8, 12, 16, 24 and 32 scored
# teleport 0.979, 1.000, 1.000, 1.000, 1.000; change_color lost an item at 24 and 32,
# change_shape one at 32. On 5 000 000+ (checked after): 0.833, 0.875, 0.917, 0.958, 0.958, with
# vanish/appear 0.958 from 24 on.
RETURN_COST = 16.0
# Whole sightings after which the judge carries a body out of sight (the pixel model's rule
# waits for 3): a body seen whole twice before it reaches the screen is then followed to its
# return, where the frames on both sides judge its hidden stretch, and is not lost. On the
# development screen items (carried column alone) 3 000 000+ and 4 000 000+ were unchanged
# (every kind 1.000; 94 returns measured against 92); 5 000 000+ (checked after) teleport 0.917
# -> 0.958, the other kinds unchanged. The two-sided check itself still asks for three whole
# sightings (with two, 5 000 000+ teleport 0.958 -> 0.917).
JUDGED_SIGHTINGS = 2
# Most a body is taken to slow while hidden, as a fraction of its speed per step. Read off both
# sides of the hidden stretch (:func:`hidden_decelerations`), the development bodies that came
# back in possible clips (seeds 3 000 000+ to 5 000 000+, 482 returns) slowed by 0.006-0.070 of
# their speed per step (median 0.044); the rate is measured from edge speeds, and the body is
# carried from its centroid speed, so an unbounded one could stop it behind the screen before
# the frame it came back in (a development change_color item was lost so).
MAX_DECELERATION = 0.08


class _Sides(NamedTuple):
    """A body's motion on both sides of a hidden stretch, along its direction of motion (px)."""

    trail: float  # its trailing edge at the last frame it was seen going out (``t_out``)
    v_out: float  # its speed then (px/step)
    lead: float  # its leading edge at the first frame it was seen back (``t_back``)
    v_back: float  # its speed then
    length: float  # the body's length
    gap: int  # t_back - t_out
    speed: float  # its speed at its last whole sighting (the rule's, off the centroids)
    key: tuple[int, int, int]  # that sighting


def _sides(before: list[Sighting], after: list[Sighting]) -> _Sides | None:
    """A body's motion on both sides of a hidden stretch from its sightings ``before`` and
    ``after`` it (as :attr:`BodyCarrier.returns` holds them). Each side is read where the occluder
    does not cut it: its trailing edge going out (the last whole sightings, up to
    :data:`FIT_SIGHTINGS`, and the parts seen going out after them), its leading edge coming back
    (every sighting, the parts coming out first), the two a body length apart. None with too few
    sightings (three whole ones before, two after)."""
    whole = [i for i, s in enumerate(before) if s.view == "whole"]
    went = [before[i] for i in whole][-FIT_SIGHTINGS:]
    # from when it comes back until it goes out of sight again (the frame's edge, say)
    back = [s for s in after if s.view != "going"]
    if len(went) < 3 or len(back) < 2:
        return None
    centroids = np.array([(s.ys.mean(), s.xs.mean()) for s in went])
    _, v = fit_slide([s.t for s in went], centroids, went[-1].t)
    speed = float(np.hypot(*v))
    if speed == 0:
        return None
    u = v / speed

    def along(s: Sighting) -> np.ndarray:
        return s.ys * u[0] + s.xs * u[1]

    length = max(np.ptp(along(s)) for s in went + [s for s in back if s.view == "whole"])
    going = [s for s in before[whole[-1] + 1 :] if s.view == "going"]
    trailing = went + going
    ts = [s.t for s in trailing]
    trail, v_out = fit_slide(ts, [along(s).min() for s in trailing], ts[-1])
    lead, v_back = fit_slide([s.t for s in back], [along(s).max() for s in back], back[0].t)
    return _Sides(
        float(trail),
        float(v_out),
        float(lead),
        float(v_back),
        float(length),
        back[0].t - ts[-1],
        speed,
        went[-1].key,
    )


def return_miss(before: list[Sighting], after: list[Sighting]) -> float | None:
    """How much further (px, along its motion) a body travelled while out of sight than its
    speeds on both sides allow, or None with too few sightings to say (three whole ones before,
    two after).

    A body slowing at a constant rate covers the mean of its speeds going out and coming back times
    the time between; neither depends on its friction, which the frames before it hides do not
    show. Each side is read where the occluder does not cut it (:func:`_sides`). On 92 development
    clips in which a body came back (seeds 3 000 000+ and 4 000 000+) the miss read -0.22 px on
    average, 0.98 RMS, where a teleport moves a body about 3 px; centroids, which the occluder cuts
    in the nearest whole sightings, read 2.7 px further, and the trailing edges of the whole
    sightings alone 1.28 RMS (the speed going out is then fitted to three to five sightings)."""
    s = _sides(before, after)
    if s is None:
        return None
    return s.lead - s.length - s.trail - (s.v_out + s.v_back) / 2 * s.gap


def hidden_decelerations(clip: np.ndarray) -> dict[tuple[int, int, int], float]:
    """How fast (px/step^2) each body the rule followed out of sight and back in a (T, H, W, 3)
    uint8 ``clip`` slowed while hidden, read from its speeds going out and coming back (the
    sightings :func:`return_miss` reads), keyed as :class:`BodyCarrier`'s ``decelerations``.
    Between 0 (friction slows) and :data:`MAX_DECELERATION` of its speed."""
    x = np.asarray(clip).astype(np.float32) / 255
    carrier = BodyCarrier(x[0], JUDGED_SIGHTINGS)
    for frame in x[1:]:
        carrier.observe(frame)
    out = {}
    for _, before, after in carrier.returns:
        s = _sides(before, after)
        if s is not None:
            top = MAX_DECELERATION * s.speed
            out[s.key] = float(np.clip((s.v_out - s.v_back) / s.gap, 0, top))
    return out


def _carried_steps(
    clip: np.ndarray,
    start: int,
    base: np.ndarray | None = None,
    decelerations: dict[tuple[int, int, int], float] | None = None,
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray, int, BodyCarrier]]:
    """For each frame t >= ``start`` of a (T, H, W, 3) uint8 ``clip`` (t >= 1): t, the clip as
    float frames, t's prediction with the hidden bodies drawn over ``base[t - start]`` (default
    the frame before), the drawn mask and the drawn body's area, all from the frames before t;
    then the rule, which has just seen frame t (:attr:`BodyCarrier.came_out`: how far from
    where they were due the bodies seen coming back in it came out)."""
    clip = np.asarray(clip)
    if not 0 <= start < len(clip):
        raise ValueError(f"start must lie in [0, {len(clip) - 1}] for {len(clip)} frames")
    x = clip.astype(np.float32) / 255
    carrier = BodyCarrier(x[0], JUDGED_SIGHTINGS, decelerations)
    for t in range(1, len(x)):
        area = carrier.drawn_area
        under = x[t - 1] if base is None or t < start else base[t - start].astype(np.float32) / 255
        pred, drawn = carrier.draw(under)  # before ``start`` too: the rule's state is the same
        carrier.observe(x[t])
        if t >= start:
            yield t, x, pred, drawn, area, carrier


def carried_surprise(clip: np.ndarray, start: int) -> np.ndarray:
    """(F,) surprise of frames ``start`` .. T - 1 of a (T, H, W, 3) uint8 ``clip`` from the
    bodies the carry rule follows in the image: each frame is predicted as the frame before with
    the hidden bodies drawn where they come out (:meth:`BodyCarrier.draw`, from every frame
    seen before it; a body that comes back slowing, while hidden, as its speeds on both sides
    say: :func:`hidden_decelerations`, a judge's hindsight over the whole clip), and scored on
    the drawn pixels by how much worse than the frame before it
    matches what is seen (a carried body due in view and not there, or there in another colour
    or shape), in mean absolute grey levels 0..255 over the body's area; plus, in the frame a
    hidden body is seen coming back, :data:`CAME_OUT_COST` times the square of how far (px)
    from where it was due it came out (early or late), and :data:`RETURN_COST` times the
    square of its :func:`return_miss` over the whole clip. 0 where nothing is drawn or comes
    back, the body is where it was due, or (frame 0) nothing came before."""
    out = np.zeros(len(clip) - start)
    returns = []
    steps = _carried_steps(clip, start, decelerations=hidden_decelerations(clip))
    for t, x, pred, drawn, area, carrier in steps:
        if drawn.any():
            worse = np.abs(pred[drawn] - x[t][drawn]) - np.abs(x[t - 1][drawn] - x[t][drawn])
            out[t - start] = float(np.clip(worse.mean(-1), 0, None).sum()) * 255 / max(area, 1)
        out[t - start] += CAME_OUT_COST * sum(d * d for d in carrier.came_out)
        returns = carrier.returns
    for t, before, after in returns:
        miss = return_miss(before, after)
        if t >= start and miss is not None:
            out[t - start] += RETURN_COST * miss * miss
    return out


def draw_carried(clip: np.ndarray, start: int, frames: np.ndarray) -> np.ndarray:
    """``frames`` (F, H, W, 3) uint8, a prediction of ``clip``'s frames ``start`` .. start + F - 1
    (start >= 1), with the bodies the carry rule follows drawn over each where they come out,
    one step ahead (from the clip's frames before it)."""
    frames = np.asarray(frames)
    if start < 1 or start + len(frames) > len(clip):
        raise ValueError(
            f"frames {start}..{start + len(frames) - 1} outside the clip's {len(clip)}"
        )
    out = frames.copy()
    for t, _, pred, drawn, _, _ in _carried_steps(
        np.asarray(clip)[: start + len(frames)], start, frames
    ):
        out[t - start][drawn] = np.rint(pred[drawn] * 255).astype(np.uint8)
    return out
