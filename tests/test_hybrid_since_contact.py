"""Which frames a track that left the floor inside the window is fitted on
(:func:`twinsim.neural.track_motion.since_contact`): in flight at the end, an arc from its last
floor contact; back on the floor at the end, the slide of its whole last stay there."""

from __future__ import annotations

import numpy as np
import pytest
from twinsim.neural import predict_hybrid
from twinsim.neural.track_motion import since_contact
from twinsim.sim import sample_scene, simulate


def _grounded(pattern: str) -> tuple[list[int], dict[int, bool]]:
    ts = list(range(10, 10 + len(pattern)))
    return ts, {t: c == "g" for t, c in zip(ts, pattern, strict=True)}


@pytest.mark.parametrize(
    ("pattern", "first"),
    [
        ("gggaaaa", 12),  # in flight at the end: the arc from its last contact
        ("gaagaaa", 13),
        ("ggaaggg", 14),  # back on the floor for three frames: all three
        ("ggaaagg", 15),
        ("aaaaggg", 14),
        ("ggaaaag", 11),  # one frame back down: the arc through the landing, as before
        ("aaaaaag", 10),  # never on the floor before: everything
    ],
)
def test_the_frames_fitted_after_a_contact(pattern, first):
    ts, grounded = _grounded(pattern)
    assert since_contact(ts, grounded) == ts[first - 10 :]


def test_a_toppled_box_settling_on_the_floor_is_not_given_its_turn_as_speed():
    # development push seed 3 000 005: a tall box pushed over lands on its side in the last
    # three frames; fitted from its last two alone it was given 33 cm/s across the line of
    # sight and slid on (the truth settles at 5 cm/s)
    spec = sample_scene("push", 3_000_005)
    ro = simulate(spec, labels=("rgb", "objects"))
    k = 22
    est = predict_hybrid(ro.rgb[: k + 1], 1, camera=spec.cameras[0]).estimate
    target = ro.objects[[o.name for o in spec.objects].index("target")]
    got = min(
        est.objects, key=lambda o: np.linalg.norm(o.spec.position[:1] - target.position[k, :1])
    )
    assert np.linalg.norm(got.spec.linear_velocity) < 0.15
