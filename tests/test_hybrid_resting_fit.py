"""Where a body found at rest is placed (:func:`twinsim.neural.scale.resting_fit`): nothing
rests in the air, so frames fitted off every support at the end (a ramp partly covered by the
ball rolling over it) give way to its last fit on one. Development ramp seed 3 000 001, fitted
before the ramp's slab starts leaned (test_hybrid_ramp_fit), had its ramp fitted 13 cm up in its
last three frames, floating, and the ball rolled off its near edge."""

from __future__ import annotations

import numpy as np
from twinsim.neural.refine import FrameFit
from twinsim.neural.scale import resting_fit


def _fit(z: float) -> FrameFit:
    return FrameFit("box", (0.1, 0.1, 0.1), (0.5, 0.5, 0.5), np.array([0.0, 0.0, z]),
                    np.array([0.0, 0.0, 0.0, 1.0]), 1.0, 1)  # fmt: skip


def test_the_last_fit_on_a_support_wins_over_fits_off_every_one():
    fits = {t: _fit(0.1 * t) for t in range(5)}
    touching = {0: 0, 1: 0, 2: 1, 3: -1, 4: -1}
    assert resting_fit(fits, touching, fits[4]) is fits[2]


def test_a_last_frame_on_a_support_and_a_track_never_on_one_keep_the_last_fit():
    fits = {t: _fit(0.1 * t) for t in range(3)}
    assert resting_fit(fits, {0: -1, 1: -1, 2: 0}, fits[2]) is fits[2]
    assert resting_fit(fits, dict.fromkeys(fits, -1), fits[2]) is fits[2]
