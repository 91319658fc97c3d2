"""Scene spec: exact JSON round-trip and validation errors that name field, value and choices."""

from __future__ import annotations

import dataclasses
import json

import pytest
from twinsim.sim import (
    CameraKeyframe,
    CameraSpec,
    EventSpec,
    JointSpec,
    Keyframe,
    ObjectSpec,
    SceneSpec,
    SpecError,
    UnknownNameError,
    Violation,
    WorldSpec,
    resolve_labels,
)


def _full_spec() -> SceneSpec:
    return SceneSpec(
        objects=(
            ObjectSpec("ball", "sphere", (0.1,), mass=0.3, position=(0.0, 0.0, 1.0)),
            ObjectSpec("crate", "box", (0.1, 0.2, 0.3), color=(0.1, 0.9, 0.2, 1.0)),
            ObjectSpec(
                "screen",
                "box",
                (0.05, 0.6, 0.4),
                mass=0.0,
                path=(Keyframe(0.0, (-1.0, -0.5, 0.4)), Keyframe(2.0, (1.0, -0.5, 0.4))),
            ),
            ObjectSpec("cone", "mesh", (0.5,), mesh="meshes/cone.obj", collision="vhacd"),
        ),
        cameras=(
            CameraSpec(
                width=32, height=48, path=(CameraKeyframe(0.0, (0.0, -3.0, 1.0), (0.0, 0.0, 0.0)),)
            ),
        ),
        world=WorldSpec(duration=1.0, fps=24.0),
        joints=(JointSpec("ball", "crate", break_impulse=2.5),),
        events=(EventSpec(0.5, "crate", "impulse", (1.0, 0.0, 0.0)),),
        violation=Violation("teleport", "ball", 5, offset=(0.3, 0.0, 0.0)),
        family="custom",
        seed=7,
    )


def test_json_round_trip_is_exact() -> None:
    spec = _full_spec()
    again = SceneSpec.from_json(spec.to_json())
    assert again == spec
    assert again.to_json() == spec.to_json()
    # Integers written by hand for float fields are accepted and normalised.
    data = json.loads(spec.to_json())
    data["objects"][0]["mass"] = 1
    assert SceneSpec.from_dict(data).objects[0].mass == 1.0


@pytest.mark.parametrize(
    ("mutate", "field", "hint"),
    [
        (lambda d: d["objects"][0].__setitem__("mass", -1), "spec.objects[0].mass", ">= 0"),
        (lambda d: d["objects"][1].__setitem__("size", [0.1]), "spec.objects[1].size", "3"),
        (lambda d: d["objects"][0].__setitem__("colour", 1), "spec.objects[0].colour", "color"),
        (lambda d: d["world"].__setitem__("fps", 25), "spec.world.fps", "multiple"),
        (lambda d: d["cameras"][0].__setitem__("width", 0), "spec.cameras[0].width", "[1, 4096]"),
        (lambda d: d["events"][0].__setitem__("body", "ghost"), "events[0].body", "ball"),
        (lambda d: d["violation"].__setitem__("frame", 999), "violation.frame", "frames"),
        (lambda d: d.__setitem__("version", 99), "spec.version", "version 1"),
        (lambda d: d["objects"][0].__setitem__("position", [0, 0]), "position", "3"),
    ],
)
def test_invalid_specs_name_field_value_and_allowed(mutate, field, hint) -> None:
    data = json.loads(_full_spec().to_json())
    mutate(data)
    with pytest.raises(SpecError) as info:
        SceneSpec.from_dict(data)
    message = str(info.value)
    assert field in message
    assert hint in message


@pytest.mark.parametrize(
    ("path", "value", "kind"),
    [(("objects", 0, "shape"), "cone", "shape"), (("violation", "kind"), "melt", "kind")],
)
def test_unknown_names_list_valid_choices(path, value, kind) -> None:
    data = json.loads(_full_spec().to_json())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(UnknownNameError) as info:
        SceneSpec.from_dict(data)
    assert repr(value) in str(info.value)
    assert kind in str(info.value)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("position", (0.1, 0.1), "must be a list of 3 numbers"),
        ("color", (0.1, 0.2, 0.3), "must be a list of 4 numbers"),
        ("size", (0.1, float("nan"), 0.1), "must be a finite number"),
        ("size", 0.1, "must be a list"),
        ("size", (0.1, True, 0.1), "must be a number"),
        ("size", (0.1, 0.2, "0.3"), "must be a number"),
        ("mass", True, "must be a number"),
        ("mass", "1", "must be a number"),
        ("mass", float("inf"), "must be a finite number"),
        ("texture", 3, "must be a string"),
        ("collision", "sphere", "must be one of"),
        ("path", (None,), "must be a Keyframe"),
        ("name", None, "must be a string"),
    ],
)
def test_python_construction_names_the_field_and_what_it_must_be(field, value, message) -> None:
    base = ObjectSpec("crate", "box", (0.1, 0.2, 0.3))
    with pytest.raises(SpecError, match=message) as err:
        dataclasses.replace(base, **{field: value})
    assert field in str(err.value)


def test_python_construction_accepts_numpy_scalars() -> None:
    import numpy as np

    spec = ObjectSpec(
        "crate", "box", tuple(np.float32(0.1) for _ in range(3)), mass=np.float64(0.5)
    )
    assert spec.mass == 0.5 and len(spec.size) == 3
    with pytest.raises(SpecError, match="must be a finite number"):
        ObjectSpec("crate", "box", (0.1, 0.1, 0.1), mass=np.float64("nan"))


def test_duplicate_names_and_bad_json_are_rejected() -> None:
    data = json.loads(_full_spec().to_json())
    data["objects"][1]["name"] = "ball"
    with pytest.raises(SpecError, match="unique"):
        SceneSpec.from_dict(data)
    with pytest.raises(SpecError, match="valid JSON"):
        SceneSpec.from_json("{not json")


def test_possible_twin_of_appear_drops_the_body() -> None:
    spec = dataclasses.replace(_full_spec(), violation=Violation("appear", "ball", 3))
    twin = spec.possible_twin()
    assert twin.violation is None
    assert "ball" not in twin.names
    assert twin.joints == ()  # the ball's joint goes with it
    teleport = _full_spec()
    assert teleport.possible_twin() == dataclasses.replace(teleport, violation=None)


def test_frame_count_and_label_selection() -> None:
    world = WorldSpec(duration=2.0, fps=24.0)
    assert world.num_frames == 49
    assert world.steps_per_frame == 10
    assert resolve_labels("all") >= {"flow", "visibility"}
    assert resolve_labels("rgb, depth") == {"rgb", "depth"}
    with pytest.raises(UnknownNameError, match="segmentation"):
        resolve_labels(["rgb", "normals"])
