"""A roller seen end-on or side-on: the end-on and side-on starts get its shape, and the ramp
family's rollers are estimated as cylinders."""

from __future__ import annotations

import dataclasses

import numpy as np
from _cylinders import CAMERA, render
from scipy.spatial.transform import Rotation
from twinsim.neural.canvas import Canvas
from twinsim.neural.estimate import EstimateConfig, estimate_scene
from twinsim.neural.proposals import estimate_backdrop, find_blobs
from twinsim.neural.refine import fit_frame, project
from twinsim.neural.starts import end_on_start, initial_fit, side_on_start
from twinsim.sim import ObjectSpec, sample_scene, simulate
from twinsim.sim.spec import CameraSpec, LightSpec, WorldSpec


def _roller(size, color, position, turn: str) -> ObjectSpec:
    """A cylinder lying on the floor, turned 90 degrees about world axis ``turn``."""
    q = Rotation.from_euler(turn, 90, degrees=True).as_quat()
    return ObjectSpec(
        name="roller",
        shape="cylinder",
        size=size,
        color=color,
        position=position,
        orientation=tuple(q),
    )


def _start_and_fits(camera: CameraSpec, roller: ObjectSpec, make_start):
    """(the start ``make_start`` gives for the rendered roller's blob, its fit, the fit from
    the upright start)."""
    with Canvas(camera, LightSpec(shadows=False), WorldSpec()) as canvas:
        frame, _ = canvas.render([roller])
        blob = find_blobs(frame, estimate_backdrop(frame[None]))[0]
        _, depth = project(canvas.pose, np.asarray(roller.position))
        start = make_start(canvas.pose, blob, roller.color, depth)
        assert start is not None
        fitted = fit_frame(canvas, frame, [None], 0, start, depth, 240, mask=blob.mask)
        upright, d0 = initial_fit(canvas.pose, blob, "cylinder", roller.color)
        from_upright = fit_frame(canvas, frame, [None], 0, upright, d0, 240, mask=blob.mask)
    return start, fitted, from_upright


def test_the_end_on_start_lies_along_the_line_of_sight_with_the_caps_radius():
    camera = CameraSpec(eye=(0.0, -1.8, 0.95), target=(0.0, 0.0, 0.22), width=64, height=64)
    roller = _roller((0.09, 0.22), (0.6, 0.2, 0.8, 1.0), (0.1, 0.0, 0.09), "x")
    start, fitted, from_upright = _start_and_fits(camera, roller, end_on_start)
    axis = Rotation.from_quat(start.orientation).apply([0.0, 0.0, 1.0])
    assert abs(axis[1]) > 0.99  # along the camera's level forward direction
    assert abs(start.size[0] / 0.09 - 1) < 0.2
    assert fitted.error < 3.0 < from_upright.error, (fitted.error, from_upright.error)


def test_a_ramp_roller_the_classifier_leans_to_is_estimated_as_a_cylinder():
    spec = sample_scene("ramp", 2_000_003)  # the bundled classifier: cylinder 0.76, sphere 0.24
    frames = simulate(spec, labels=("rgb",)).rgb[:13]
    est = estimate_scene(frames, camera=spec.cameras[0])
    movable = [o.spec for o in est.objects if o.spec.mass > 0]
    assert [o.shape for o in movable] == ["cylinder"]
    assert abs(movable[0].size[0] / 0.0919 - 1) < 0.25  # true radius 0.0919 m


def test_the_side_on_start_lies_across_the_line_of_sight_with_the_bars_length():
    # a toppled roller seen from the side: an upright cylinder as wide as it is long draws
    # the same bar, and the upright start found that one
    camera = CameraSpec(eye=(0.0, -1.7, 0.85), target=(0.0, 0.0, 0.2), width=64, height=64)
    roller = _roller((0.079, 0.37), (0.35, 0.2, 0.08, 1.0), (-0.1, 0.0, 0.079), "y")
    start, fitted, from_upright = _start_and_fits(camera, roller, side_on_start)
    axis = Rotation.from_quat(start.orientation).apply([0.0, 0.0, 1.0])
    assert abs(axis[0]) > 0.99  # level, across the line of sight
    assert abs(start.size[1] / 0.37 - 1) < 0.2
    # measured: 0.6 grey levels against 4.7 for an upright one of radius 0.18 m
    assert fitted.error < 2.0 < from_upright.error, (fitted.error, from_upright.error)
    assert abs(fitted.size[0] / 0.079 - 1) < 0.25, fitted.size
    standing = dataclasses.replace(
        roller, orientation=(0.0, 0.0, 0.0, 1.0), position=(-0.1, 0, 0.185)
    )
    with Canvas(camera, LightSpec(shadows=False), WorldSpec()) as canvas:
        tall, _ = canvas.render([standing])
        blob = find_blobs(tall, estimate_backdrop(tall[None]))[0]
        assert side_on_start(canvas.pose, blob, roller.color, 2.0) is None  # upright: no


def test_a_roller_the_classifier_is_unsure_of_is_fitted_lying_too():
    """Where the network is unsure (the ball 0.69, the cylinder 0.31), both classes are fitted:
    the cylinder from its lying starts too, not upright alone (a ramp's roller, seen end-on,
    was fitted upright 13.8 grey levels off and lost to the ball: ramp seed 3 000 023)."""

    def unsure(frame, blob):
        return {"sphere": 0.69, "box": 0.0, "cylinder": 0.31}

    roller = _roller((0.09, 0.22), (0.6, 0.2, 0.8, 1.0), (-0.2, 0.0, 0.09), "x")  # end-on
    est = estimate_scene(render(roller, 6), CAMERA, EstimateConfig(), classifier=unsure)
    (body,) = [o for o in est.objects if o.spec.mass > 0]
    assert body.spec.shape == "cylinder"
    # measured: 2.7 grey levels; fitted upright only, 12.4
    assert body.fit_error < 5.0, body.fit_error
    axis = Rotation.from_quat(body.spec.orientation).apply([0.0, 0.0, 1.0])
    assert abs(axis[2]) < 0.3, axis  # lying
    assert abs(body.spec.size[0] / 0.09 - 1) < 0.25, body.spec.size
