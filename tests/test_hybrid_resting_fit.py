"""Where a body found at rest is placed (:func:`twinsim.neural.scale.resting_fit`): nothing
rests in the air, so frames fitted off every support at the end (a ramp partly covered by the
ball rolling over it) give way to its last fit on one. Development ramp seed 3 000 001, fitted
before the ramp's slab starts leaned (test_hybrid_ramp_fit), had its ramp fitted 13 cm up in its
last three frames, floating, and the ball rolled off its near edge. Static scenery takes the
pose its fits agree on (:func:`twinsim.neural.scale.steadiest_fit`)."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation
from twinsim.neural.refine import FrameFit
from twinsim.neural.scale import resting_fit, steadiest_fit


def _fit(z: float, tilt_deg: float = 0.0) -> FrameFit:
    q = Rotation.from_euler("y", tilt_deg, degrees=True).as_quat()
    return FrameFit("box", (0.1, 0.1, 0.1), (0.5, 0.5, 0.5), np.array([0.0, 0.0, z]), q, 1.0, 1)


def test_the_last_fit_on_a_support_wins_over_fits_off_every_one():
    fits = {t: _fit(0.1 * t) for t in range(5)}
    touching = {0: 0, 1: 0, 2: 1, 3: -1, 4: -1}
    assert resting_fit(fits, touching, fits[4]) is fits[2]


def test_a_last_frame_on_a_support_and_a_track_never_on_one_keep_the_last_fit():
    fits = {t: _fit(0.1 * t) for t in range(3)}
    assert resting_fit(fits, {0: -1, 1: -1, 2: 0}, fits[2]) is fits[2]
    assert resting_fit(fits, dict.fromkeys(fits, -1), fits[2]) is fits[2]


def test_static_scenery_takes_the_pose_its_fits_on_a_support_agree_on():
    # a ramp at 20 degrees, fitted 28 in its last frame (a ball rolling over it) and 12 in a
    # frame off every support: the fit nearest the others' is the one at 20.5
    tilts = {0: 19.0, 1: 20.5, 2: 12.0, 3: 21.5, 4: 20.0, 5: 28.0}
    touching = {0: 0, 1: 0, 2: -1, 3: 0, 4: 0, 5: 0}
    fits = {t: _fit(0.1, tilt) for t, tilt in tilts.items()}
    assert steadiest_fit(fits, touching, fits[5]) is fits[1]
    # agreeing fits: the latest of them; fewer than three on a support: the last fit
    same = {t: _fit(0.1, 20.0) for t in range(4)}
    assert steadiest_fit(same, dict.fromkeys(same, 0), same[3]) is same[3]
    assert steadiest_fit(fits, {0: 0, 1: -1, 2: -1, 3: -1, 4: -1, 5: 0}, fits[5]) is fits[5]
