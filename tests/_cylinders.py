"""Small scenes for the estimator's shape and pose tests: one body on the floor seen by a fixed
64 px camera, and classifiers sure of a class whatever they see."""

from __future__ import annotations

import numpy as np
from twinsim.sim import ObjectSpec, SceneSpec, simulate
from twinsim.sim.spec import CameraSpec, WorldSpec

CAMERA = CameraSpec(eye=(0.0, -1.6, 0.9), target=(0.0, 0.0, 0.2), fov=45.0, width=64, height=64)


def upright_can(speed: float) -> ObjectSpec:
    """An upright cylinder (radius 0.1 m, 0.2 m tall) on the floor, sliding along x at ``speed``."""
    return ObjectSpec(
        name="can",
        shape="cylinder",
        size=(0.1, 0.2),
        color=(0.1, 0.6, 0.2, 1.0),
        position=(-0.2, 0.0, 0.1),
        linear_velocity=(speed, 0.0, 0.0),
        friction=0.3,
    )


def render(body: ObjectSpec, n: int) -> np.ndarray:
    """(n, 64, 64, 3) uint8 frames of ``body`` alone, seen by :data:`CAMERA`."""
    spec = SceneSpec(objects=(body,), cameras=(CAMERA,), world=WorldSpec(duration=n / 24))
    return simulate(spec, labels=("rgb",)).rgb[:n]


def sure(shape: str, runner_up: str):
    """A classifier sure (0.9) of ``shape`` whatever it sees, with ``runner_up`` second."""

    def classify(frame, blob):
        rest = {"sphere": 0.0, "box": 0.0, "cylinder": 0.0}
        return {**rest, runner_up: 0.1, shape: 0.9}

    return classify
