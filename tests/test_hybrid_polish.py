"""A body found at rest and in full view is polished against the last frame with its lowest
point held on its support (:func:`twinsim.neural.polish.polished`): a frame's fit is free in
scale, and a proportion a few per cent off became a depth error once the support set the
scale (development occlusion seeds: upright cylinders 2-4 % slim, 1-4 cm toward the camera)."""

from __future__ import annotations

import dataclasses

import numpy as np
from twinsim.neural.canvas import Canvas
from twinsim.neural.polish import alone_on_the_floor, polished
from twinsim.neural.support import lowest_offset
from twinsim.sim import CameraSpec, ObjectSpec, SceneSpec, WorldSpec, simulate

EYE = np.array([0.0, -1.75, 0.75])


def _scene(*objects: ObjectSpec) -> SceneSpec:
    camera = CameraSpec(eye=tuple(EYE), target=(0.0, 0.15, 0.18), fov=45.0, width=64, height=64)
    return SceneSpec(objects=objects, cameras=(camera,), world=WorldSpec(duration=0.1))


def _misfit(o: ObjectSpec, scale: float, slim: float) -> ObjectSpec:
    """``o`` scaled about the eye (what a frame's fit cannot tell), ``slim`` thinner, and put
    back on the floor: what the support's scale makes of a fit a few per cent off."""
    size = np.array(o.size) * scale
    size[0] *= slim
    x, y, _ = EYE + scale * (np.array(o.position) - EYE)
    z = lowest_offset(o.shape, size, np.array(o.orientation))
    return dataclasses.replace(o, size=tuple(size), position=(x, y, z))


def test_a_resting_cylinder_fitted_slim_and_near_is_put_back_where_the_frame_says():
    truth = ObjectSpec(
        name="target",
        shape="cylinder",
        size=(0.125, 0.29),
        mass=1.0,
        color=(0.85, 0.15, 0.15, 1.0),
        position=(-0.1, 0.29, 0.145),
    )
    spec = _scene(truth)
    frame = simulate(spec, labels=("rgb",)).rgb[0]
    fitted = _misfit(truth, 0.985, 0.97)
    before = np.linalg.norm(np.subtract(fitted.position, truth.position))
    assert before > 0.025
    with Canvas(spec.cameras[0], spec.light, spec.world) as canvas:
        out = polished([fitted], 0, frame, canvas)
        again = polished([fitted], 0, frame, canvas)
    after = np.linalg.norm(np.subtract(out.position, truth.position))
    assert after < 0.4 * before
    assert abs(out.position[2] - lowest_offset("cylinder", out.size, np.array([0, 0, 0, 1]))) < 1e-9
    assert out.orientation == fitted.orientation and out == again  # seeded: the same every time


def test_a_body_drawn_exactly_stays_as_it_is():
    truth = ObjectSpec(
        name="box", shape="box", size=(0.06, 0.05, 0.04), mass=1.0, position=(0.1, 0.2, 0.04)
    )
    spec = _scene(truth)
    frame = simulate(spec, labels=("rgb",)).rgb[0]
    with Canvas(spec.cameras[0], spec.light, spec.world) as canvas:
        assert polished([truth], 0, frame, canvas) is truth


def test_only_a_body_alone_on_the_floor_is_polished():
    # a box carrying a box, polished, shrank 2 cm to where the other's misfit drew best
    low = ObjectSpec(name="low", shape="box", size=(0.12,) * 3, mass=1.0, position=(0, 0, 0.12))
    top = ObjectSpec(name="top", shape="box", size=(0.07,) * 3, mass=1.0, position=(0, 0, 0.31))
    aside = dataclasses.replace(top, name="aside", position=(0.5, 0.0, 0.07))
    objects = [low, top, aside]
    assert [alone_on_the_floor(objects, i) for i in range(3)] == [False, False, True]
    assert alone_on_the_floor([low, aside], 0)
    floating = dataclasses.replace(low, position=(0, 0, 0.13))  # 1 cm up
    assert not alone_on_the_floor([floating], 0)
