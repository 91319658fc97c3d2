"""The hybrid's perception network (`neural/perception.py`): its randomised training scenes, a
tiny training run that writes a loadable classifier, and the bundled classifier on rendered
bodies."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from _cylinders import render
from twinsim.neural.perception import (
    CLASSES,
    PerceptionConfig,
    load_perception,
    randomised_scene,
    scale_bodies,
    train_perception,
)
from twinsim.neural.proposals import estimate_backdrop, find_blobs
from twinsim.sim import ObjectSpec, sample_scene, simulate


@pytest.mark.parametrize("family", ["push", "collide"])
def test_scaled_bodies_still_rest_on_the_floor(family):
    spec = sample_scene(family, 3)  # every movable body starts on the floor
    big = scale_bodies(spec.objects, 1.6)
    moved = 0
    ro = simulate(dataclasses.replace(spec, objects=big), labels=("objects",))
    for o, b, track in zip(spec.objects, big, ro.objects, strict=True):
        if o.mass == 0 or o.kinematic:
            assert b == o  # scenery keeps its size and place
            continue
        moved += 1
        assert b.size == pytest.approx(tuple(1.6 * s for s in o.size))
        # lifted with its size: it neither sinks into the floor nor pops out of it
        assert abs(track.position[1][2] - track.position[0][2]) < 0.002, o.name
    assert moved >= 2


def test_randomised_scenes_are_seeded():
    a, b = randomised_scene("drop", 11), randomised_scene("drop", 11)
    assert a.to_json() == b.to_json()
    assert randomised_scene("drop", 12).to_json() != a.to_json()
    base = sample_scene("drop", 11)
    assert a.cameras[0].eye != base.cameras[0].eye  # the camera moved
    ratios = {round(r.size[0] / o.size[0], 6) for o, r in zip(base.objects, a.objects, strict=True)}
    assert len(ratios) == 1 and 0.8 <= ratios.pop() <= 1.25  # one size factor per scene


def test_a_tiny_training_run_writes_a_classifier_that_loads(tmp_path):
    cfg = PerceptionConfig(scenes=7, steps=5, batch=16, width=4)
    info = train_perception(tmp_path, cfg, progress=False)
    assert info["classes"] == list(CLASSES) and info["crops"] > 20
    assert 0.0 <= info["val_accuracy"] <= 1.0
    assert json.loads((tmp_path / "config.json").read_text())["config"]["width"] == 4
    assert not list(tmp_path.glob("*.tmp"))
    frame = render(_body("box"), 1)[0]
    blob = find_blobs(frame, estimate_backdrop(frame[None]))[0]
    probs = load_perception(tmp_path)(frame, blob)
    assert set(probs) == set(CLASSES) and sum(probs.values()) == pytest.approx(1.0, abs=1e-5)


def test_a_missing_classifier_is_refused_with_its_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="perception"):
        load_perception(tmp_path)


_YAW_45 = (0.0, 0.0, math.sin(math.pi / 8), math.cos(math.pi / 8))


def _body(shape: str) -> ObjectSpec:
    size = {"sphere": (0.1,), "box": (0.09, 0.09, 0.09), "cylinder": (0.09, 0.2)}[shape]
    z = 0.1 if shape == "cylinder" else size[0]
    return ObjectSpec(name=shape, shape=shape, size=size, color=(0.8, 0.2, 0.3, 1.0),
                      position=(0.0, 0.0, z), orientation=_YAW_45)  # fmt: skip


@pytest.mark.parametrize("shape", CLASSES)
def test_the_bundled_classifier_names_a_lone_body_s_shape(shape):
    frame = render(_body(shape), 1)[0]
    blob = find_blobs(frame, estimate_backdrop(frame[None]))[0]
    probs = load_perception()(frame, blob)
    assert max(probs, key=probs.get) == shape, probs
