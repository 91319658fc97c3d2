"""The hybrid's balanced VoE: items are scored from the frames the clips share, the floors of
predictors that ignore physics are 0.5, and a hidden object that vanishes surprises it."""

from __future__ import annotations

import numpy as np
import pytest
from twinsim.neural.hybrid_voe import hybrid_balanced_voe, score_item


def test_an_item_that_is_not_spliced_is_refused():
    quad = np.zeros((4, 10, 64, 64, 3), np.uint8)  # A and C identical throughout
    with pytest.raises(ValueError, match="not a spliced item"):
        score_item(quad, camera=None)


def test_a_vanished_hidden_object_surprises_the_hybrid_and_not_the_floors():
    r = hybrid_balanced_voe(1, 2_000_000, kinds=["vanish/appear"], progress=False, max_evals=60)
    assert r["items"] == {"vanish/appear": 1}
    assert r["copy_last"]["vanish/appear"] == 0.5
    assert r["linear"]["vanish/appear"] == 0.5
    assert r["hybrid"]["vanish/appear"] == 1.0
    assert r["hybrid_gated"]["vanish/appear"] == 1.0  # it also predicted the wall's motion
    assert r["by_family"] == {"occlusion": {"items": 1, "hybrid": 1.0, "ties": 0}}


def test_an_unexpected_blob_in_a_colour_seen_before_surprises_less_than_a_new_colour():
    # A hidden object coming out early or late is a smaller violation than a new object.
    from twinsim.neural.estimate import default_camera
    from twinsim.neural.surprise import ExpectedRollout, surprise_table
    from twinsim.sim import SceneSpec, WorldSpec, simulate

    spec = SceneSpec(objects=(), cameras=(default_camera(),), world=WorldSpec(duration=4 / 24))
    floor = simulate(spec, labels=("rgb",)).rgb[1:4]
    seen = np.array([[200.0, 40.0, 40.0]])
    expected = ExpectedRollout(spec, floor, np.zeros(floor.shape[:3], np.int32), seen)
    scores = {}
    for name, color in (("seen", (200, 40, 40)), ("new", (40, 40, 200))):
        observed = floor.copy()
        observed[:, 40:46, 20:26] = color
        scores[name] = surprise_table(expected, observed)[:, -1].mean()
    assert 0 < scores["seen"] < 0.5 * scores["new"]
