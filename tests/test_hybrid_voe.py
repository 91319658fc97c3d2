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
