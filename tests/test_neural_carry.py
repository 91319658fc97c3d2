"""The carry rule: a body that slides behind a still screen is drawn where it comes out."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _nets import copy_last_net
from twinsim.neural.carry import BodyCarrier
from twinsim.neural.carry_judge import carried_surprise, draw_carried
from twinsim.neural.carry_regions import colour_regions
from twinsim.neural.config import InferenceConfig, ModelConfig

FLOOR = (0.9, 0.9, 0.85)
SCREEN = (0.15, 0.18, 0.26)
BODY = (0.6, 0.25, 0.1)


def _slide(frames: int = 30, screen: bool = True, v0: float = 2.0, decel: float = 0.05):
    """(T, 64, 64, 3) float frames: a 5 px body sliding left, slowing, behind a still screen
    (columns 20-34), and its true column centre per frame."""
    clip = np.empty((frames, 64, 64, 3), np.float32)
    centres = []
    for t in range(frames):
        f = clip[t]
        f[:] = FLOOR
        x = 55.0 - (v0 * t - decel * t * t / 2 if t < v0 / decel else v0**2 / (2 * decel))
        centres.append(x)
        c = round(x)
        f[31:36, c - 2 : c + 3] = BODY
        if screen:
            f[24:44, 20:35] = SCREEN
    return clip, np.array(centres)


def _drawn_columns(frame: np.ndarray, pred: np.ndarray) -> np.ndarray:
    return np.nonzero((np.abs(pred - frame).max(-1) > 0.05).any(0))[0]


def test_regions_split_by_colour():
    clip, _ = _slide(1)
    labels, n = colour_regions(clip[0])
    assert n == 3  # floor, body, screen
    assert len(np.unique(labels[31:36, 53:58])) == 1


def test_hidden_body_is_drawn_where_it_comes_out():
    clip, centres = _slide()
    carrier = BodyCarrier(clip[0])
    hidden_from = int(np.argmax(centres + 2 < 35))  # first frame wholly behind the screen
    out_at = int(np.argmax(centres - 2 < 20))  # first frame it is out again in part
    assert 3 < hidden_from < out_at < len(clip) - 1
    drawn_at = []
    for t in range(1, out_at):
        carrier.observe(clip[t])
        pred, drawn = carrier.draw(clip[t].copy())  # a copy-last prediction of frame t + 1
        cols = _drawn_columns(clip[t], pred)
        assert np.array_equal(np.nonzero(drawn.any(0))[0], cols)  # the mask says what was drawn
        if len(cols):
            drawn_at.append(t + 1)
            assert cols.max() < 20  # only where the screen does not cover it
    assert drawn_at, "the hidden body was never drawn"
    assert abs(drawn_at[0] - out_at) <= 3  # about when it comes out


def test_without_a_screen_nothing_is_drawn():
    clip, _ = _slide(screen=False)
    carrier = BodyCarrier(clip[0])
    for t in range(1, len(clip)):
        carrier.observe(clip[t])
        pred, _ = carrier.draw(clip[t].copy())
        assert np.array_equal(pred, clip[t])


def test_a_body_that_vanishes_is_given_up():
    clip, centres = _slide(40)
    vanished = clip.copy()
    out_at = int(np.argmax(centres - 2 < 20))
    vanished[out_at:, 31:36, :20] = FLOOR  # it never comes out
    carrier = BodyCarrier(vanished[0])
    drawn = []
    for t in range(1, len(clip)):
        carrier.observe(vanished[t])
        drawn.append(len(_drawn_columns(vanished[t], carrier.draw(vanished[t].copy())[0])) > 0)
    assert any(drawn[:out_at])
    assert not any(drawn[out_at + 6 :])  # seen missing: no longer drawn


def _net(carry: bool):
    net = copy_last_net(ModelConfig(resolution=64, context=2, channels=(8, 8))).eval()
    net.inference = InferenceConfig(snap=0.0, recall=0.0, carry=carry)
    return net


@pytest.mark.parametrize("carry", [False, True])
def test_step_surprise_tells_vanish_from_coming_out_only_with_carry(carry):
    clip, centres = _slide()
    out_at = int(np.argmax(centres - 2 < 20))
    vanish = clip.copy()
    vanish[out_at:, 31:36, :20] = FLOOR
    x = torch.from_numpy(np.stack([clip, vanish])).permute(0, 1, 4, 2, 3)
    with torch.no_grad():
        pred = _net(carry).rollout(x, 0).teacher
    err = ((pred - x[:, 1:]) ** 2).sum(dim=(1, 2, 3, 4))
    if carry:
        assert err[0] < err[1]  # coming out was expected, vanishing was not
    else:
        assert torch.isclose(err[0], err[1], rtol=0.05) or err[0] > err[1]


def test_training_does_not_carry():
    clip, _ = _slide()
    x = torch.from_numpy(clip[None]).permute(0, 1, 4, 2, 3)
    net = _net(True).train()
    with torch.no_grad():
        pred = net.rollout(x, 0).teacher
    assert torch.allclose(pred, x[:, :-1], atol=1e-5)  # copy-last: nothing drawn in training


def test_the_carried_body_survives_the_copy_last_fallback():
    """A clip the network predicts no better than copy-last falls back to the last frame, but
    the body the carry rule brings out is still drawn over it."""
    import dataclasses

    from twinsim.neural import WorldModel, preset

    clip, centres = _slide()
    out_at = int(np.argmax(centres - 2 < 20))
    ctx = (clip[: out_at - 3] * 255).round().astype(np.uint8)
    cfg = preset("tiny")
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, resolution=64, context=2))
    for carry in (False, True):
        model = WorldModel(copy_last_net(cfg.model), cfg, inference=InferenceConfig(carry=carry))
        assert model.inference.fallback
        future = model.predict(ctx, 8)
        changed = (np.abs(future.astype(int) - ctx[-1].astype(int)).max(-1) > 20).any(axis=(1, 2))
        assert changed.any() == carry  # only the carried body ever changes the frame


def test_a_body_coming_out_in_part_is_drawn_whole_from_its_leading_edge():
    clip, centres = _slide(decel=0.02)  # slows less than the rule assumes: it comes out ahead
    carrier = BodyCarrier(clip[0])
    out_at = int(np.argmax(centres - 2 < 20))
    checked = 0
    for t in range(1, len(clip) - 1):
        carrier.observe(clip[t])
        pred, _ = carrier.draw(clip[t].copy())
        if t >= out_at and centres[t] + 2 >= 20:  # frame t shows it in part: t + 1 is predicted
            body = lambda f: np.nonzero((np.abs(f - BODY).max(-1) < 0.05).any(0))[0]  # noqa: E731
            assert abs(body(pred).min() - body(clip[t + 1]).min()) <= 1  # its front, within 1 px
            checked += 1
    assert checked >= 2


def _moved_on(clip: np.ndarray, centres: np.ndarray, offset: int) -> np.ndarray:
    """``clip`` with its body ``offset`` px back (+) or on (-; it slides left) from 6 frames
    before it comes out on: moved while out of sight."""
    out_at = int(np.argmax(centres - 2 < 20))
    moved = clip.copy()
    for t in range(out_at - 6, len(clip)):
        moved[t, 31:36, :20] = FLOOR
        c = round(centres[t]) + offset
        moved[t, 31:36, max(c - 2, 0) : min(c + 3, 20)] = BODY
    return moved


def test_carried_surprise_is_zero_where_the_body_comes_out_and_not_where_it_does_not():
    # slowing by 0.02-0.04 of its speed per step, as the families' sliding bodies do
    clip, centres = _slide(40, decel=0.03)
    out_at = int(np.argmax(centres - 2 < 20))
    moved = {
        name: _moved_on(clip, centres, offset) for name, offset in (("late", 3), ("early", -4))
    }
    vanished = clip.copy()
    vanished[out_at:, 31:36, :20] = FLOOR  # never comes out
    u8 = {"possible": _u8(clip), "vanished": _u8(vanished)} | {k: _u8(v) for k, v in moved.items()}
    start = out_at - 8
    s = {k: carried_surprise(v, start) for k, v in u8.items()}
    assert all(v.shape == (len(clip) - start,) and (v >= 0).all() for v in s.values())
    assert s["possible"].sum() < 0.2 * min(s["late"].sum(), s["vanished"].sum())
    # out early, it is drawn where it is from then on: only the frame it comes back in counts
    assert s["early"].sum() > 2 * s["possible"].sum()
    assert np.count_nonzero(s["early"]) == 1
    assert not carried_surprise(_u8(_slide(screen=False)[0]), 1).any()  # nothing carried


@pytest.mark.parametrize("decel", [0.02, 0.03, 0.04])
def test_the_hidden_stretch_is_checked_against_the_speeds_on_both_sides(decel):
    """return_miss needs no friction: a body slowing at a constant rate covers, out of sight, the
    mean of its speeds going out and coming back times the time between. Moved 3 px back or
    4 px on while hidden, it is measured so, within a pixel; where it was, within one. The speed
    going out is read off the whole sightings and the parts seen going out after them."""
    from twinsim.neural.carry_judge import return_miss

    clip, centres = _slide(40, decel=decel)
    for offset in (0, 3, -4):
        frames = _moved_on(clip, centres, offset) if offset else clip
        carrier = BodyCarrier(frames[0])
        for frame in frames[1:]:
            carrier.observe(frame)
        ((_, before, after),) = carrier.returns  # one body, back once
        # whole sightings, then the parts going behind the screen; the parts coming out first
        assert before[0].view == "whole" and before[-1].view == "going"
        assert after[0].view == "coming"
        assert abs(return_miss(before, after) + offset) < 1.0
        assert return_miss(before[-2:], after) is None  # too few sightings to say
        # parts going out again later (off the frame's edge) say nothing about the return
        again = [s for s in after if s.view != "going"]
        assert return_miss(before, again) == return_miss(before, after)
    if decel == 0.03:  # this one slides on to the frame's left edge before the clip ends
        assert after[-1].view == "going" and after[-1].xs.min() == 0


def test_a_judge_gives_each_body_the_slowing_its_speeds_on_both_sides_show():
    """hidden_decelerations reads how fast a body slowed while hidden off its speeds going out
    and coming back (pixel-rounded edges of a 5 px body: within 0.03 px/step^2), keyed by its
    last whole sighting; a carrier given it slows that body so while hidden, and the others at
    the rule's typical rate."""
    from twinsim.neural.carry import DECELERATION
    from twinsim.neural.carry_judge import hidden_decelerations

    found = {}
    for decel in (0.02, 0.05):
        clip, _ = _slide(40, v0=2.5, decel=decel)
        ((key, found[decel]),) = hidden_decelerations(_u8(clip)).items()
        assert abs(found[decel] - decel) < 0.03
        carrier = BodyCarrier(clip[0], 2)
        for frame in clip[1:]:
            carrier.observe(frame)
        ((_, before, _),) = carrier.returns
        assert key == [s for s in before if s.view == "whole"][-1].key
    assert found[0.05] > found[0.02] + 0.02
    # carried while hidden at the given rate: only the keyed body
    clip, _ = _slide(40, v0=2.5, decel=0.05)
    slowing = {}
    for name, given in (("keyed", {key: 0.2}), ("other", {(0, 0, 0): 0.2})):
        carrier = BodyCarrier(clip[0], 2, given)
        for frame in clip[1:14]:
            carrier.observe(frame)
        (track,) = [tr for tr in carrier.tracks if tr.state == "hidden"]
        slowing[name] = track.slowing, track.speed
    assert slowing["keyed"][0] == 0.2
    assert slowing["other"][0] == pytest.approx(DECELERATION * slowing["other"][1])
    with pytest.raises(ValueError, match="decelerations"):
        BodyCarrier(clip[0], 2, {key: -0.1})


def test_a_body_seen_whole_twice_is_carried_where_the_rule_asks_for_it():
    """The pixel model's rule waits for three whole sightings before it carries a body out of
    sight; the judge (``JUDGED_SIGHTINGS``) for two, and follows such a body to its return."""
    clip, centres = _slide(40, decel=0.03)
    late, centres = clip[8:], centres[8:]  # seen whole in two frames after the first, then hidden
    returns = {}
    for n in (2, 3):
        carrier = BodyCarrier(late[0], n)
        for frame in late[1:]:
            carrier.observe(frame)
        returns[n] = carrier.returns
    ((_, before, after),) = returns[2]
    assert [s.view for s in before].count("whole") == 2 and after[0].view == "coming"
    assert returns[3] == []  # not carried: lost behind the screen
    # the judge carries it, so a body that never comes back out is seen to be missing
    out_at = int(np.argmax(centres - 2 < 20))
    vanished = late.copy()
    vanished[out_at:, 31:36, :20] = FLOOR
    missing = carried_surprise(_u8(vanished), out_at - 4).sum()
    # where it does come out, only the frame it comes back in counts: its velocity, read off
    # two sightings, had it due a few pixels off
    back = carried_surprise(_u8(late), out_at - 4)
    assert np.count_nonzero(back) == 1 and back.sum() < 0.1 * missing
    with pytest.raises(ValueError, match="min_sightings"):
        BodyCarrier(late[0], 1)


def test_a_body_on_the_rules_own_slide_is_carried_exactly():
    """The slide is fitted to the sightings for where the body is and how fast it goes *now*
    (a line through them gives the velocity of their mean time: too fast for a slowing body)."""
    from twinsim.neural.carry_regions import ColourBlob
    from twinsim.neural.carry_track import DECELERATION, BodyTrack

    frame = np.zeros((64, 64, 3), np.float32)
    mask = np.ones((3, 3), bool)
    p0, v = np.array([30.0, 50.0]), np.array([0.3, -2.0])

    def slide(tau: float) -> np.ndarray:
        return p0 + v * (tau - DECELERATION * tau**2 / 2)

    blob = ColourBlob(mask, (slice(29, 32), slice(49, 52)), frame, True)
    track = None
    for t in range(6):
        blob.centroid = slide(t - 5.0)  # sub-pixel positions: the fit, not the pixels, is tested
        track = BodyTrack(blob, t) if track is None else track
        if t:
            track.seen(blob, t, None)
    for ahead in (1, 6, 12):
        assert np.allclose(track.carried(5 + ahead), slide(ahead), atol=1e-6)


def test_came_out_says_how_far_from_where_it_was_due_a_body_came_back():
    clip, centres = _slide(40)
    out_at = int(np.argmax(centres - 2 < 20))
    early = clip.copy()  # 4 px on (it slides left) from the frame it is first seen again
    for t in range(out_at, len(clip)):
        early[t, 31:36, :20] = FLOOR
        c = round(centres[t]) - 4
        early[t, 31:36, max(c - 2, 0) : min(c + 3, 20)] = BODY
    misses = {}
    for name, frames in (("possible", clip), ("early", early)):
        carrier = BodyCarrier(frames[0])
        misses[name] = []
        for t in range(1, len(frames)):
            carrier.observe(frames[t])
            misses[name] += [(t, d) for d in carrier.came_out]
    assert [t for t, _ in misses["possible"]] == [out_at]  # once, where it is first seen again
    assert [t for t, _ in misses["early"]] == [out_at]
    due = misses["possible"][0][1]
    assert abs(due) < 1.5
    assert 3 < misses["early"][0][1] - due < 5


def _u8(clip: np.ndarray) -> np.ndarray:
    return (clip * 255).round().astype(np.uint8)


def test_carried_surprise_is_a_column_of_the_hybrids_surprise_table():
    from twinsim.neural.estimate import default_camera
    from twinsim.neural.surprise import CARRIED_WEIGHT, ExpectedRollout, surprise_table
    from twinsim.sim import SceneSpec

    clip, centres = _slide(40)
    vanished = clip.copy()
    vanished[int(np.argmax(centres - 2 < 20)) :, 31:36, :20] = FLOOR
    clip8 = _u8(vanished)
    spec = SceneSpec(objects=(), cameras=(default_camera(),))
    ctx = 12
    rest = clip8[ctx:]
    expected = ExpectedRollout(spec, rest, np.zeros(rest.shape[:3], np.int32))
    table = surprise_table(expected, rest, clip8)
    assert table.shape == (len(rest), 2)  # no objects: carried, unexplained
    assert np.allclose(table[:, 0], CARRIED_WEIGHT * carried_surprise(clip8, ctx))
    assert table[:, 0].sum() > 0  # the carried body did not come out
    with pytest.raises(ValueError, match="end with the observed"):
        surprise_table(expected, rest, clip8[:-1])


def test_draw_carried_brings_the_body_out_over_a_frozen_prediction():
    """The hybrid's VoE gate judges its rollout with the carried bodies drawn over it: a frozen
    rollout of a body sliding behind a screen then beats copy-last where the body comes out."""
    clip, centres = _slide(40)
    clip8 = _u8(clip)
    start = int(np.argmax(centres - 2 < 20)) - 2  # hidden now, out in part two frames later
    frozen = np.repeat(clip8[start - 1 : start], len(clip) - start, 0)
    drawn = draw_carried(clip8, start, frozen)
    assert drawn.shape == frozen.shape and drawn.dtype == np.uint8
    # the frames in which it comes out (once seen whole it is the rollout's to draw)
    truth = clip8[start : start + 5].astype(float)
    moving = np.abs(truth - clip8[start - 1].astype(float)).max(-1) > 0
    err = lambda p: float((((p[:5].astype(float) - truth) ** 2).sum(-1) * moving).sum())  # noqa: E731
    assert moving[2:].any(axis=(1, 2)).all()
    assert err(drawn) < 0.5 * err(frozen)
    plain = _u8(_slide(40, screen=False)[0])
    assert np.array_equal(draw_carried(plain, start, frozen), frozen)  # nothing hidden
    with pytest.raises(ValueError, match="outside the clip"):
        draw_carried(clip8, start, np.concatenate([frozen, frozen]))
