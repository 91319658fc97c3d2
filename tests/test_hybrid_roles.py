"""Which estimated bodies are scenery (mass 0) and which the engine may move."""

from __future__ import annotations

import numpy as np
import pytest
from twinsim.neural.estimate import _dull, estimate_scene
from twinsim.sim import sample_scene, simulate
from twinsim.sim.families._common import OCCLUDER_COLORS, PALETTE


@pytest.mark.parametrize("light", [0.8, 1.0])
def test_palette_colours_are_movable_and_occluder_colours_scenery_however_lit(light):
    # lit and shaded, a fitted colour comes out up to ~15 % darker or brighter than its material
    for col in PALETTE:
        assert not _dull(np.clip(np.array(col[:3]) * light, 0, 1)), col
    for col in OCCLUDER_COLORS:
        assert _dull(np.clip(np.array(col[:3]) * light, 0, 1)), col


def test_a_dark_brown_pushed_cylinder_is_a_body_not_scenery():
    # push seed 2 000 006: the target is the palette's brown, fitted as (0.30, 0.19, 0.09): too
    # little chroma for the old rule (max - min < 0.22), which made it a static, massless body
    spec = sample_scene("push", 2_000_006)
    frames = simulate(spec, labels=("rgb",)).rgb[:23]  # the bench's context (push: frames 0..22)
    est = estimate_scene(frames, spec.cameras[0])
    brown = min(
        est.objects, key=lambda o: np.abs(np.array(o.spec.color[:3]) - (0.35, 0.22, 0.1)).sum()
    )
    assert np.abs(np.array(brown.spec.color[:3]) - (0.35, 0.22, 0.1)).sum() < 0.2
    assert brown.role == "dynamic" and brown.spec.mass > 0


@pytest.mark.parametrize(
    ("color", "guessed"), [((0.78, 0.74, 0.7, 1.0), True), ((0.85, 0.15, 0.15, 1.0), False)]
)
def test_a_sliding_pastel_box_is_a_body_by_its_size_and_flagged_uncertain(color, guessed):
    """Colour suggests the role (families' scenery is grey, wood or navy), size overrules it: no
    scenery is as small as a body. A pastel body used to be carried as moving scenery (a thrown
    ball flew on in a straight line, 1.4 m off in the bench's out-of-range projectile scene).
    The convention broken, the uncertainty must reach the fall-back level."""
    from twinsim.neural.estimate import EstimateConfig, default_camera
    from twinsim.sim import ObjectSpec, SceneSpec, WorldSpec
    from twinsim.sim.spec import LightSpec

    box = ObjectSpec(
        name="box",
        shape="box",
        size=(0.1, 0.1, 0.1),
        color=color,
        position=(-0.3, 0.1, 0.1),
        linear_velocity=(1.2, 0.0, 0.0),
        friction=0.1,
    )
    spec = SceneSpec(
        objects=(box,),
        cameras=(default_camera(),),
        light=LightSpec(shadows=False),
        world=WorldSpec(duration=6 / 24),
    )
    frames = simulate(spec, labels=("rgb",)).rgb
    cfg = EstimateConfig(window=3, max_evals=80, trajectory_evals=120)
    (obj,) = estimate_scene(frames, spec.cameras[0], cfg).objects
    assert obj.role == "dynamic" and obj.spec.mass > 0
    assert obj.role_guessed is guessed
    assert (obj.uncertainty >= 0.5) if guessed else (obj.uncertainty < 0.5)


def test_a_falling_pastel_ball_falls():
    from twinsim.neural.estimate import EstimateConfig, default_camera
    from twinsim.sim import ObjectSpec, SceneSpec, WorldSpec
    from twinsim.sim.spec import LightSpec

    ball = ObjectSpec(name="ball", shape="sphere", size=(0.08,), color=(0.8, 0.76, 0.7, 1.0),
                      position=(0.0, 0.0, 0.7))  # fmt: skip
    spec = SceneSpec(objects=(ball,), cameras=(default_camera(),), light=LightSpec(shadows=False),
                     world=WorldSpec(duration=7 / 24))  # fmt: skip
    ro = simulate(spec, labels=("rgb", "objects"))
    cfg = EstimateConfig(window=4, max_evals=80, trajectory_evals=120)
    (obj,) = estimate_scene(ro.rgb, spec.cameras[0], cfg).objects
    assert obj.role == "dynamic" and obj.role_guessed  # not a wall gliding at a constant speed
    vz_true = ro.objects[0].linear_velocity[-1][2]  # about -2 m/s after 0.25 s
    assert abs(obj.spec.linear_velocity[2] - vz_true) < 0.5 * abs(vz_true)
