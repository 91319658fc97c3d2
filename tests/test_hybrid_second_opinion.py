"""A shape class the network is sure of but that does not fit the pixels gets a second opinion:
the runner-up class, kept only when it halves the pixel error."""

from __future__ import annotations

import math

import pytest
from twinsim.neural.estimate import EstimateConfig, estimate_scene
from twinsim.sim import ObjectSpec, SceneSpec, simulate
from twinsim.sim.spec import CameraSpec, WorldSpec

CAMERA = CameraSpec(eye=(0.0, -1.6, 0.9), target=(0.0, 0.0, 0.2), fov=45.0, width=64, height=64)


def _frames(body: ObjectSpec, n: int = 4):
    spec = SceneSpec(objects=(body,), cameras=(CAMERA,), world=WorldSpec(duration=n / 24))
    return simulate(spec, labels=("rgb",)).rgb[:n]


def _sure(shape: str, runner_up: str):
    """A classifier sure (0.9) of ``shape`` whatever it sees, with ``runner_up`` second."""

    def classify(frame, blob):
        rest = {"sphere": 0.0, "box": 0.0, "cylinder": 0.0}
        return {**rest, runner_up: 0.1, shape: 0.9}

    return classify


def _shapes(frames, classifier, **options) -> list[str]:
    est = estimate_scene(frames, CAMERA, EstimateConfig(**options), classifier=classifier)
    return [o.spec.shape for o in est.objects if o.spec.mass > 0]


@pytest.fixture(scope="module", params=[0.0, 1.2], ids=["resting", "sliding"])
def upright_cylinder(request):
    # sliding, the last two clear frames differ and both are fitted as each class
    body = ObjectSpec(
        name="can",
        shape="cylinder",
        size=(0.1, 0.2),
        color=(0.1, 0.6, 0.2, 1.0),
        position=(-0.2, 0.0, 0.1),
        linear_velocity=(request.param, 0.0, 0.0),
        friction=0.3,
    )
    return _frames(body, 6)


def test_an_upright_cylinder_called_a_ball_is_fitted_as_a_cylinder(upright_cylinder):
    # measured: as a ball 24 grey levels off, as an upright cylinder 1.7
    wrong = _sure("sphere", "cylinder")
    assert _shapes(upright_cylinder, wrong, second_opinion_error=math.inf) == ["sphere"]
    assert _shapes(upright_cylinder, wrong) == ["cylinder"]


def test_the_runner_up_must_halve_the_error_to_win():
    ball = ObjectSpec(
        name="ball",
        shape="sphere",
        size=(0.1,),
        color=(0.8, 0.2, 0.1, 1.0),
        position=(0.05, 0.0, 0.1),
    )
    # asked for a second opinion on every body: a ball's cylinder fit does not halve the error
    # (measured: 1.1 grey levels as a ball, 5.5 as a cylinder)
    assert _shapes(_frames(ball), _sure("sphere", "cylinder"), second_opinion_error=1e-3) == [
        "sphere"
    ]


def test_the_second_opinion_threshold_is_validated():
    with pytest.raises(ValueError, match="second_opinion_error"):
        EstimateConfig(second_opinion_error=0.0)
