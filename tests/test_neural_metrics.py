"""Neural metrics on constructed inputs whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
from twinsim.neural import metrics as M


def _clip(t=6, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (t, 16, 16, 3), dtype=np.uint8)


def test_psnr_perfect_is_capped_and_known_value():
    x = _clip()
    assert np.all(M.psnr(x, x) == M.PSNR_CAP)
    a = np.zeros((1, 4, 4, 3), np.float64)
    b = np.full_like(a, 0.1)  # MSE 0.01 -> 20 dB
    assert M.psnr(a, b)[0] == pytest.approx(20.0)
    with pytest.raises(ValueError, match="shape"):
        M.psnr(a, b[:, :2])


def test_pooled_psnr_ignores_exact_clips_instead_of_capping_them():
    truth = np.zeros((2, 3, 4, 4, 3))
    pred = truth.copy()
    pred[1] = 0.1  # clip 1: MSE 0.01 (20 dB) at every step; clip 0 exact (capped at 100 dB)
    assert M.psnr(pred, truth).mean(0) == pytest.approx([60.0] * 3)
    # pooled MSE 0.005 -> 23.01 dB: the exact clip halves the error, it does not add 100 dB
    assert M.psnr_pooled(pred, truth) == pytest.approx([10 * np.log10(200)] * 3)
    assert np.all(M.psnr_pooled(truth, truth) == M.PSNR_CAP)
    with pytest.raises(ValueError, match="shapes"):
        M.psnr_pooled(pred[0], truth[0])


def test_ssim_identical_is_one_and_noise_is_lower():
    x = _clip(3)
    assert np.allclose(M.ssim(x, x), 1.0)
    y = _clip(3, seed=1)
    assert np.all(M.ssim(x, y) < 0.2)


def test_copy_last_is_perfect_on_static_clip():
    frame = _clip(1)
    static = np.repeat(frame, 10, axis=0)
    pred = M.copy_last(static[:4], 6)
    assert pred.shape == (6, 16, 16, 3)
    assert np.all(M.psnr(pred, static[4:]) == M.PSNR_CAP)
    assert np.all(M.psnr(M.linear_extrapolation(static[:4], 6), static[4:]) == M.PSNR_CAP)


def test_linear_extrapolation_continues_a_ramp():
    ramp = np.stack([np.full((4, 4, 3), 10 * k, np.uint8) for k in range(8)])
    pred = M.linear_extrapolation(ramp[:3], 5)
    np.testing.assert_array_equal(pred, ramp[3:])
    assert not np.array_equal(M.copy_last(ramp[:3], 5), ramp[3:])


def test_permanence_perfect_predictor_scores_one():
    rng = np.random.default_rng(0)
    kept = []
    for _ in range(5):
        vanished = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        possible = vanished.copy()
        region = np.zeros((8, 8), bool)
        region[2:5, 2:5] = True
        possible[region] = [255, 0, 0]
        kept.append(M.permanence_kept(possible, possible, vanished, region))
        assert M.permanence_kept(vanished, possible, vanished, region) == 0.0
        assert M.permanence_kept(possible, possible, possible, region) == 0.5  # tie
    assert np.mean(kept) == 1.0
    with pytest.raises(ValueError, match="empty"):
        M.permanence_kept(vanished, possible, vanished, np.zeros((8, 8), bool))


def test_pairwise_accuracy_and_auc_hand_built():
    assert M.pairwise_accuracy([1, 2, 3, 4], [2, 3, 1, 4]) == pytest.approx((1 + 1 + 0 + 0.5) / 4)
    assert M.roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert M.roc_auc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert M.roc_auc([4, 3, 2, 1], [0, 0, 1, 1]) == 0.0
    assert M.roc_auc([1, 1, 1, 1], [0, 1, 0, 1]) == 0.5  # all tied: chance
    with pytest.raises(ValueError, match="both"):
        M.roc_auc([1, 2], [1, 1])


def test_wilson_interval_known_bounds_and_symmetry():
    z2 = 1.96**2
    lo, hi = M.wilson_interval(8, 8)  # all successes: lower bound n / (n + z^2), upper 1
    assert lo == pytest.approx(8 / (8 + z2)) and hi == 1.0
    lo0, hi0 = M.wilson_interval(0, 8)
    assert lo0 == 0.0 and hi0 == pytest.approx(z2 / (8 + z2))
    a, b = M.wilson_interval(7, 8), M.wilson_interval(1, 8)
    assert a[0] == pytest.approx(1 - b[1]) and a[1] == pytest.approx(1 - b[0])
    narrow, wide = M.wilson_interval(21, 24), M.wilson_interval(7, 8)  # same 0.875, more pairs
    assert narrow[0] > wide[0] and narrow[1] < wide[1] and narrow[0] < 0.875 < narrow[1]
    with pytest.raises(ValueError, match="n >= 1"):
        M.wilson_interval(1, 0)


def test_visible_motion_needs_a_few_pixels_changed_by_more_than_a_few_levels():
    last = np.full((2, 16, 16, 3), 100, np.uint8)  # two windows
    future = np.repeat(last[:, None], 4, axis=1)
    assert not M.visible_motion(last, future).any()
    future[0, 2, :2, :2] = 100 + M.VISIBLE_LEVEL + 1  # 4 pixels in one frame: visible
    future[1, :, 0, : M.VISIBLE_PIXELS - 1] = 0  # 3 pixels in every frame: an edge flicker
    assert M.visible_motion(last, future).tolist() == [True, False]
    future[1, 3] = 100 + M.VISIBLE_LEVEL  # every pixel, but by no more than the level
    assert not M.visible_motion(last[1], future[1])
    with pytest.raises(TypeError, match="uint8"):
        M.visible_motion(last.astype(float), future.astype(float))
