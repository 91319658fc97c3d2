"""Boxes and cylinders that touched in each of the last frames and were all read moving the
same way slide on at one velocity (:mod:`twinsim.neural.contact`); a body read at rest
beside a moving one, a ball, bodies apart in one of those frames, or moving apart keep their
own."""

from __future__ import annotations

import numpy as np
import pytest
from twinsim.neural.contact import moving_together, touching_groups
from twinsim.neural.estimate_types import ObjectEstimate
from twinsim.neural.track import Track
from twinsim.sim import ObjectSpec

H = 0.05  # m: every box's half extent


def _body(name, x0, vx, se, shape="box", gap_at=None, vy=0.0):
    """A body on the floor at ``x0`` (m) in the last of frames 4..8, fitted at ``x0`` in each
    (a row at rest in the fits' frame; ``gap_at``: a frame where it was fitted 3 cm further
    along x), read moving at (vx, vy) m/s with standard error ``se``."""
    size = (H, H, H) if shape == "box" else (H,)
    positions = {t: np.array([x0 + (0.03 if t == gap_at else 0.0), 0.0, H]) for t in range(4, 9)}
    spec = ObjectSpec(
        name, shape, size, position=(x0, 0.0, H), linear_velocity=(vx, vy, 0.0), mass=1.0
    )
    track = Track(blobs=[None] * 9, chroma=np.zeros(2), luma=0.0)
    return ObjectEstimate(
        spec, "dynamic", {shape: 1.0}, 1.0, 0.005, se, 0, track, positions=positions
    )


def _vx(results):
    return [o.spec.linear_velocity[0] for o in results]


def test_a_row_of_touching_boxes_read_moving_one_way_slides_on_at_one_weighted_velocity():
    # three boxes side by side (each 2H wide, 5 mm apart: touching within a centimetre)
    row = [_body("a", 0.0, 0.30, 0.01), _body("b", 0.105, 0.10, 0.03), _body("c", 0.21, 0.2, 0.02)]
    assert touching_groups(row) == [[0, 1, 2]]
    moving_together(row)
    w = np.array([1 / 0.01**2, 1 / 0.03**2, 1 / 0.02**2])
    want = float(w @ [0.30, 0.10, 0.2] / w.sum())
    assert _vx(row) == pytest.approx([want] * 3)
    assert 0.2 < want < 0.30  # the best-measured body weighs most
    assert all(o.spec.linear_velocity[2] == 0.0 for o in row)


@pytest.mark.parametrize(
    ("second", "why"),
    [
        (_body("b", 0.105, 0.0, 0.03), "read at rest: it may have stopped the other"),
        (_body("b", 0.105, 0.2, 0.03, gap_at=7), "3 cm apart in one of the last three frames"),
        (_body("b", 0.16, 0.2, 0.03), "6 cm apart throughout"),
        (_body("b", 0.105, -0.2, 0.03), "moving the other way"),
        (_body("b", 0.105, 0.0, 0.03, vy=0.2), "moving across: 90 degrees off"),
        (_body("b", 0.105, 0.2, 0.03, shape="sphere"), "a ball rolls off what it meets"),
    ],
)
def test_a_pair_keeps_its_own_velocities(second, why):
    pair = [_body("a", 0.0, 0.30, 0.01), second]
    before = [o.spec.linear_velocity for o in pair]
    moving_together(pair)
    assert [o.spec.linear_velocity for o in pair] == before, why
