"""Moving bodies drawn with their own observed pixels (:mod:`twinsim.neural.sprites`): the
body's look comes from the last frame, its motion from the engine."""

from __future__ import annotations

import numpy as np
from twinsim.neural.estimate import default_camera
from twinsim.neural.sprites import Sprite, paint_sprites
from twinsim.sim import ObjectSpec, SceneSpec, WorldSpec, simulate

BLUE = np.array([20, 40, 230], np.uint8)


def _slide(angular=(0.0, 0.0, 0.0)):
    box = ObjectSpec(
        name="box",
        shape="box",
        size=(0.08, 0.08, 0.08),  # half extents
        friction=0.0,
        color=(0.95, 0.5, 0.05, 1.0),
        position=(-0.3, 0.0, 0.08),
        linear_velocity=(1.5, 0.0, 0.0),
        angular_velocity=angular,
    )
    spec = SceneSpec(objects=(box,), cameras=(default_camera(),), world=WorldSpec(duration=0.25))
    return spec, simulate(spec, labels=("rgb", "segmentation", "depth", "objects"))


def test_a_sliding_body_keeps_its_observed_look_where_the_engine_moves_it():
    spec, ro = _slide()
    mask = ro.segmentation[0] == 1
    last = ro.rgb[0].copy()
    last[mask] = BLUE  # what the frames show differs from what the fit draws
    out = paint_sprites(ro.rgb[1:], last, (Sprite("box", mask),), spec, ro)
    assert out.shape == ro.rgb[1:].shape and out.dtype == np.uint8
    for t in (1, 3, 5):
        body = ro.segmentation[t] == 1
        assert not np.array_equal(body, mask)  # it moved (about 6 cm a frame)
        blue = (out[t - 1][..., 2] > 150) & (out[t - 1][..., 0] < 100)
        # the body's pixels at t are the observed blue, a pixel's blend at its edges aside,
        # and the blue sits where the body is (its side face, seen at a turning angle as it
        # crosses the view, is the sprite's limit: 47 pixels seen, 35 by frame 5)
        assert (blue & body).sum() >= 0.7 * body.sum()
        np.testing.assert_allclose(_centroid(blue), _centroid(body), atol=0.6)


def _centroid(mask: np.ndarray) -> np.ndarray:
    v, u = np.nonzero(mask)
    return np.array([u.mean(), v.mean()])


def test_a_turning_body_is_left_to_the_render():
    spec, ro = _slide(angular=(0.0, 0.0, 6.0))  # a quarter turn in 0.25 s
    mask = ro.segmentation[0] == 1
    last = ro.rgb[0].copy()
    last[mask] = BLUE
    out = paint_sprites(ro.rgb[1:], last, (Sprite("box", mask),), spec, ro)
    np.testing.assert_array_equal(out, ro.rgb[1:])
