"""The physics checker on constructed cases: the engine agrees with itself; an object deleted,
moved or recoloured mid-way in plain view is found at that frame; hidden violations are
bracketed by the frames around the occlusion."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from twinsim.bridge import CheckerConfig, check_physics
from twinsim.sim import CameraSpec, ObjectSpec, SceneSpec, Violation, sample_scene, simulate

LABELS = ["rgb", "segmentation"]


def _short(spec: SceneSpec, frames: int = 24) -> SceneSpec:
    w = dataclasses.replace(spec.world, duration=(frames - 1) / spec.world.fps)
    return dataclasses.replace(spec, world=w)


@pytest.fixture(scope="module")
def collide():
    spec = _short(sample_scene("collide", 2))
    return spec, simulate(spec, labels=LABELS)


def _visible_body(ref, frame: int) -> str:
    """A body well in view at ``frame`` (most labelled pixels)."""
    areas = [(ref.segmentation[frame] == i + 1).sum() for i in range(len(ref.spec.objects))]
    return ref.spec.names[int(np.argmax(areas))]


@pytest.mark.parametrize(("family", "seed"), [("collide", 2), ("occlusion", 1), ("ramp", 3)])
def test_the_engine_compared_with_itself_has_no_findings(family, seed):
    spec = _short(sample_scene(family, seed), 30)
    ref = simulate(spec, labels=LABELS)
    report = check_physics(ref.rgb, ref)
    assert report.ok and report.findings == []
    assert set(report.states) == set(spec.names)
    assert "no physics findings" in report.summary()


def test_an_object_deleted_midway_is_a_vanish_at_that_frame(collide):
    spec, ref = collide
    f = 10
    name = _visible_body(ref, f)
    video = ref.rgb.copy()
    i = spec.names.index(name) + 1
    floor = np.median(ref.rgb[f][ref.segmentation[f] == 0], axis=0).astype(np.uint8)
    for t in range(f, len(video)):  # paint the body over with the floor from frame f on
        video[t][ref.segmentation[t] == i] = floor
    report = check_physics(video, ref)
    vanish = [x for x in report.findings if x.kind == "vanish" and x.object == name]
    assert vanish, report.summary()
    assert vanish[0].onset == f and vanish[0].start == f
    assert vanish[0].end == len(video) - 1
    assert "background" in vanish[0].evidence
    # nothing else is blamed
    assert {x.object for x in report.findings} == {name}


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("vanish", {}, "vanish"),
        ("teleport", {"offset": (0.0, 0.0, 0.35)}, "teleport"),
        ("change_color", {"new_color": (0.1, 0.9, 0.9, 1.0)}, "change_color"),
    ],
)
def test_scripted_violations_in_view_are_found_at_their_frame(collide, kind, extra, expected):
    spec, ref = collide
    f = 8
    name = _visible_body(ref, f)
    bad_spec = dataclasses.replace(spec, violation=Violation(kind, name, f, **extra))
    bad = simulate(bad_spec, labels=LABELS)
    report = check_physics(bad.rgb, ref)
    mine = [x for x in report.findings if x.object == name]
    assert mine, report.summary()
    assert mine[0].kind == expected, report.summary()
    assert abs(mine[0].onset - f) <= 1 and mine[0].start <= f


def test_a_vanish_behind_an_occluder_is_bracketed_by_the_occlusion():
    imp = sample_scene("occlusion", 3, impossible="vanish")
    ref = simulate(imp.possible_twin(), labels=LABELS)
    bad = simulate(imp, labels=LABELS)
    report = check_physics(bad.rgb, ref)
    (finding,) = report.findings
    assert finding.kind == "vanish" and finding.object == "target"
    assert finding.covers(imp.violation.frame)
    assert finding.start < imp.violation.frame < finding.onset
    assert "did not reappear after occlusion" in finding.evidence


def test_an_object_from_nowhere_is_an_appear_where_it_is():
    imp = sample_scene("occlusion", 0, impossible="appear")
    ref = simulate(imp.possible_twin(), labels=LABELS)  # the scene has no such body
    bad = simulate(imp, labels=LABELS)
    report = check_physics(bad.rgb, ref)
    appear = [x for x in report.findings if x.kind == "appear"]
    assert appear, report.summary()
    x0, y0, x1, y1 = appear[0].bbox
    target = imp.names.index("target") + 1
    assert (bad.segmentation[appear[0].onset, y0:y1, x0:x1] == target).any()
    assert appear[0].covers(imp.violation.frame, slack=2)


def test_start_frame_and_json(collide):
    _, ref = collide
    report = check_physics(ref.rgb[5:15], ref, start_frame=5)
    assert report.ok and report.start_frame == 5 and report.num_frames == 10
    assert json.loads(report.dumps())["findings"] == []


def test_bad_inputs_are_refused_with_the_reason(collide):
    spec, ref = collide
    with pytest.raises(ValueError, match="uint8"):
        check_physics(ref.rgb.astype(np.float32), ref)
    with pytest.raises(ValueError, match="not all covered"):
        check_physics(ref.rgb, ref, start_frame=5)
    with pytest.raises(ValueError, match="render the scene at the video's size"):
        check_physics(ref.rgb[:, :32, :32], ref)
    with pytest.raises(TypeError, match="Rollout"):
        check_physics(ref.rgb, {"segmentation": 1})
    no_seg = simulate(spec, labels=["rgb"])
    with pytest.raises(ValueError, match="segmentation"):
        check_physics(ref.rgb, no_seg)
    with pytest.raises(ValueError, match="persist"):
        CheckerConfig(persist=0)


@pytest.mark.parametrize(("family", "seed"), [("ramp", 1), ("containment", 0)])
def test_a_pass_through_is_found_at_its_labelled_frame(family, seed):
    # the family labels the last frame before the bodies would meet: the twins agree up to it
    # and differ from the next frame on, so the checker can pin it
    imp = sample_scene(family, seed, impossible="pass_through")
    ref = simulate(imp.possible_twin(), labels=LABELS)
    bad = simulate(imp, labels=LABELS)
    f = imp.violation.frame
    assert (bad.rgb[: f + 1] == ref.rgb[: f + 1]).all()
    assert (bad.rgb[f + 1] != ref.rgb[f + 1]).any(axis=-1).sum() >= 10
    report = check_physics(bad.rgb, ref)
    mine = [x for x in report.findings if x.object == imp.violation.body]
    assert mine and mine[0].covers(f, slack=2), report.summary()


def _crowd_scene(side: int = 3) -> SceneSpec:
    # a puddle: side x side drops side by side, each a few pixels
    drops = tuple(
        ObjectSpec(
            name=f"drop{i * side + j}",
            shape="sphere",
            size=(0.03,),
            mass=0.01,
            color=(0.9, 0.5, 0.1, 1.0),
            position=(0.061 * (i - side / 2), 0.061 * (j - side / 2), 0.03),
        )
        for i in range(side)
        for j in range(side)
    )
    box = ObjectSpec(name="box", shape="box", size=(0.1, 0.1, 0.1), position=(0.0, 0.4, 0.1))
    cam = CameraSpec(eye=(0.0, -1.6, 0.9), target=(0.0, 0.0, 0.05))
    return _short(SceneSpec(objects=(*drops, box), cameras=(cam,)), 12)


def test_a_crowd_of_small_bodies_is_checked_together():
    # each drop is a few pixels, too small to judge alone; all of them gone is a vanish of drop*
    ref = simulate(_crowd_scene(), labels=LABELS)
    ids = [i + 1 for i, n in enumerate(ref.spec.names) if n.startswith("drop")]
    assert max((ref.segmentation[0] == i).sum() for i in ids) < 10
    assert check_physics(ref.rgb, ref).ok
    f = 5
    video = ref.rgb.copy()
    floor = np.median(ref.rgb[f][ref.segmentation[f] == 0], axis=0).astype(np.uint8)
    for t in range(f, len(video)):
        video[t][np.isin(ref.segmentation[t], ids)] = floor
    report = check_physics(video, ref)
    crowd = [x for x in report.findings if x.object == "drop*"]
    assert crowd and crowd[0].kind == "vanish" and crowd[0].onset == f, report.summary()
    assert "box" not in {x.object for x in report.findings}
    # fewer bodies than CheckerConfig.crowd are not a crowd
    assert "drop*" not in check_physics(video, ref, config=CheckerConfig(crowd=10)).states
    with pytest.raises(ValueError, match="crowd"):
        CheckerConfig(crowd=1)
