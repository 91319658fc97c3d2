"""Rendering and labels: depth, segmentation, flow, visibility, kinematics, violations, I/O."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from twinsim.sim import (
    RENDERERS,
    CameraKeyframe,
    CameraSpec,
    Keyframe,
    ObjectSpec,
    Rollout,
    SceneSpec,
    UnknownNameError,
    Violation,
    WorldSpec,
    get_renderer,
    simulate,
)

STILL = WorldSpec(duration=1 / 24, floor=False, gravity=(0, 0, 0))


def _project(rollout: Rollout, point, t: int = 0) -> tuple[int, int]:
    cam = rollout.camera
    x = cam.world_to_camera[t] @ np.array([*point, 1.0])
    uv = cam.K @ (x[:3] / x[2])
    return int(uv[0]), int(uv[1])  # pixel index (centres at +0.5)


def test_depth_of_a_plane_at_known_distance_within_a_millimetre():
    wall = ObjectSpec("wall", "box", (5, 0.5, 5), mass=0, position=(0, 2.5, 1))
    cam = CameraSpec(width=48, height=32, fov=70, eye=(0, -1, 1), target=(0, 0, 1), far=10)
    r = simulate(SceneSpec(objects=(wall,), cameras=(cam,), world=STILL), labels="depth")
    assert r.depth.dtype == np.float32 and r.depth.shape == (2, 32, 48)
    assert np.abs(r.depth - 3.0).max() < 1e-3  # face at y = 2, camera at y = -1
    down = CameraSpec(width=32, height=32, eye=(0.2, 0.1, 2.0), target=(0.2, 0.1, 0.0))
    world = WorldSpec(duration=1 / 24)
    ball = ObjectSpec("far_away", "sphere", (0.1,), mass=0, position=(40, 0, 1))
    r = simulate(SceneSpec(objects=(ball,), cameras=(down,), world=world), labels="depth")
    assert np.abs(r.depth - 2.0).max() < 1e-3  # looking straight down at the floor


def test_segmentation_ids_match_names_and_projection_matches_K():
    objs = (
        ObjectSpec("left", "box", (0.15, 0.15, 0.15), mass=0, position=(-0.6, 0, 0.4)),
        ObjectSpec("mid", "sphere", (0.15,), mass=0, position=(0, 0, 0.4)),
        ObjectSpec("right", "cylinder", (0.15, 0.3), mass=0, position=(0.6, 0.3, 0.4)),
    )
    cam = CameraSpec(width=64, height=48, fov=50)
    r = simulate(SceneSpec(objects=objs, cameras=(cam,), world=STILL))
    assert r.segmentation.dtype == np.int32
    assert set(np.unique(r.segmentation)) == {0, 1, 2, 3}
    for seg_id, name in r.id_to_name.items():
        u, v = _project(r, r.spec.object(name).position)
        assert r.segmentation[0, v, u] == seg_id, name
    assert r.segmentation[0, 2, 2] == 0  # sky


def _mover(width: int = 48) -> SceneSpec:
    path = (Keyframe(0.0, (-0.5, 0, 0.5)), Keyframe(0.5, (0.5, 0, 0.5)))  # 2 m/s
    box = ObjectSpec("box", "box", (0.2, 0.2, 0.2), path=path, color=(0.9, 0.3, 0.1, 1))
    cam = CameraSpec(width=width, height=width, fov=60, eye=(0, -3, 0.5), target=(0, 0, 0.5))
    return SceneSpec(objects=(box,), cameras=(cam,), world=WorldSpec(duration=0.25))


def test_flow_of_a_translating_box_warps_frame_t_onto_frame_t_plus_1():
    r = simulate(_mover(), labels="rgb,depth,segmentation,camera,flow")
    assert r.flow.shape == (r.num_frames, 48, 48, 2) and r.flow.dtype == np.float32
    assert not r.flow[-1].any()
    f_px = r.camera.K[0, 0]
    for t in range(r.num_frames - 1):
        mask = r.segmentation[t] == 1
        vs, us = np.nonzero(mask)
        du, dv = r.flow[t][mask].T
        # Front face at z = 2.8 m moves 2/24 m per frame: du = f * dx / z.
        front = np.isclose(r.depth[t][mask], 2.8, atol=1e-3)
        assert front.sum() > 20
        assert np.allclose(du[front], f_px * (2 / 24) / 2.8, rtol=1e-3)
        assert np.allclose(dv, 0, atol=1e-3)
        u2 = np.clip(np.rint(us + du).astype(int), 0, 47)
        v2 = np.clip(np.rint(vs + dv).astype(int), 0, 47)
        hits = r.segmentation[t + 1][v2, u2] == 1
        # Rasterised edges may round either way; interior pixels must all land on the box.
        interior = mask[vs - 1, us] & mask[vs + 1, us] & mask[vs, us - 1] & mask[vs, us + 1]
        assert hits[interior].all() and hits.mean() > 0.8
        colour = np.abs(r.rgb[t + 1][v2, u2].astype(int) - r.rgb[t][vs, us]).mean()
        stay = np.abs(r.rgb[t + 1][vs, us].astype(int) - r.rgb[t][vs, us]).mean()
        assert colour <= stay + 1e-9  # the warp explains the motion at least as well as no motion


def test_flow_of_a_static_scene_under_a_moving_camera():
    box = ObjectSpec("box", "box", (0.3, 0.3, 0.3), mass=0, position=(0, 0, 0.3))
    keys = (
        CameraKeyframe(0.0, (0, -3, 1), (0, 0, 0.3)),
        CameraKeyframe(1.0, (1, -3, 1), (1, 0, 0.3)),
    )
    cam = CameraSpec(width=40, height=40, path=keys)
    spec = SceneSpec(objects=(box,), cameras=(cam,), world=WorldSpec(duration=0.25))
    r = simulate(spec, labels="depth,segmentation,camera,flow")
    for t in range(r.num_frames - 1):
        for seg_id in (0, 1):  # the floor and the box are both static
            mask = r.segmentation[t] == seg_id
            mask &= r.depth[t] < r.camera.far - 1  # skip the sky (no surface to follow)
            inner = mask.copy()  # rasterised edges may round either way
            inner[1:-1, 1:-1] &= mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
            mask = inner
            vs, us = np.nonzero(mask)
            du, dv = r.flow[t][mask].T
            assert (du < 0).mean() > 0.99  # camera pans right: the scene slides left
            u2 = np.clip(np.rint(us + du).astype(int), 0, 39)
            v2 = np.clip(np.rint(vs + dv).astype(int), 0, 39)
            assert (r.segmentation[t + 1][v2, u2] == seg_id).mean() > 0.95


def test_fully_occluded_object_has_zero_visible_fraction_yet_is_present():
    objs = (
        ObjectSpec("hidden", "sphere", (0.15,), mass=0, position=(0, 0.5, 0.4)),
        ObjectSpec("screen", "box", (0.6, 0.05, 0.5), mass=0, position=(0, -0.5, 0.5)),
        ObjectSpec("seen", "sphere", (0.1,), mass=0, position=(1.2, 0, 0.4)),
    )
    cam = CameraSpec(width=48, height=48, fov=60)
    r = simulate(SceneSpec(objects=objs, cameras=(cam,), world=STILL), labels="all")
    hidden, screen, seen = (r.track(n) for n in ("hidden", "screen", "seen"))
    assert hidden.present.all() and (hidden.visible_fraction == 0).all() and hidden.occluded.all()
    assert (hidden.bbox == -1).all()
    assert (seen.visible_fraction > 0.99).all() and not seen.occluded.any()
    assert (screen.visible_fraction > 0.99).all()
    x0, y0, x1, y1 = seen.bbox[0].astype(int)
    assert (r.segmentation[0, y0:y1, x0:x1] == 3).any()
    assert (r.segmentation[0] == 3).sum() == np.count_nonzero(r.segmentation[0, y0:y1, x0:x1] == 3)


def test_kinematic_occluder_really_moves_in_the_images():
    r = simulate(_mover(64), labels="rgb,segmentation")  # > 1 px per frame: survives rounding
    cols = [np.nonzero(r.segmentation[t] == 1)[1].mean() for t in range(r.num_frames)]
    assert all(b > a + 0.3 for a, b in itertools.pairwise(cols))
    assert all(not np.array_equal(r.rgb[t], r.rgb[t + 1]) for t in range(r.num_frames - 1))


def test_same_spec_gives_identical_frames():
    spec = SceneSpec(
        objects=(
            ObjectSpec("a", "sphere", (0.2,), position=(0, 0, 1), linear_velocity=(1, 0, 0)),
            ObjectSpec("b", "box", (0.2, 0.2, 0.2), position=(0.5, 0, 0.2)),
        ),
        cameras=(CameraSpec(width=32, height=32),),
        world=WorldSpec(duration=0.5),
    )
    a, b = simulate(spec, labels="all"), simulate(spec, labels="all")
    for key in ("rgb", "depth", "segmentation", "flow"):
        assert np.array_equal(getattr(a, key), getattr(b, key)), key
    assert a.contacts == b.contacts


def test_only_requested_labels_are_filled():
    r = simulate(_mover(16), labels="rgb")
    assert r.rgb is not None and r.labels == {"rgb"}
    assert r.depth is None and r.segmentation is None and r.flow is None
    assert r.objects == [] and r.camera is None and r.contacts == []


def test_floor_contact_impulse_balances_gravity():
    ball = ObjectSpec("ball", "sphere", (0.1,), mass=2.0, restitution=0.0, position=(0, 0, 0.6))
    spec = SceneSpec(
        objects=(ball,), cameras=(CameraSpec(width=8, height=8),), world=WorldSpec(duration=1.5)
    )
    r = simulate(spec, labels="contacts,objects")
    assert {(c.a, c.b) for c in r.contacts} == {("ball", "floor")}
    assert all(c.normal[2] > 0.99 for c in r.contacts)  # from the floor up to the ball
    total = sum(c.normal_impulse for c in r.contacts)
    # Starts and ends at rest: the floor delivered m g t over the whole scene.
    assert total == pytest.approx(2.0 * 9.81 * 1.5, rel=0.03)
    assert r.track("ball").position[-1, 2] == pytest.approx(0.1, abs=2e-3)


def _violation_scene(v: Violation | None) -> SceneSpec:
    objs = (
        ObjectSpec("ball", "sphere", (0.2,), position=(-0.6, 0, 0.2), linear_velocity=(3, 0, 0)),
        ObjectSpec("wall", "box", (0.05, 0.5, 0.4), mass=0, position=(0.3, 0, 0.4)),
        ObjectSpec("cube", "box", (0.15, 0.15, 0.15), position=(-0.6, 0.6, 0.15)),
    )
    cam = CameraSpec(width=32, height=32, eye=(0, -3, 1.2), target=(0.2, 0, 0.4))
    return SceneSpec(objects=objs, cameras=(cam,), world=WorldSpec(duration=0.5), violation=v)


@pytest.mark.parametrize(
    "violation",
    [
        Violation("vanish", "cube", 4),
        Violation("appear", "cube", 4),
        Violation("teleport", "cube", 4, offset=(0.3, 0, 0)),
        Violation("change_shape", "cube", 4, new_shape="sphere", new_size=(0.2,)),
        Violation("change_color", "cube", 4, new_color=(1, 1, 0, 1)),
        Violation("pass_through", "ball", 2, other="wall"),
    ],
    ids=lambda v: v.kind,
)
def test_each_violation_changes_frames_only_from_its_frame_on(violation):
    spec = _violation_scene(violation)
    bad = simulate(spec, labels="rgb,segmentation,objects")
    good = simulate(spec.possible_twin(), labels="rgb,segmentation,objects")
    k = violation.frame
    assert np.array_equal(bad.rgb[:k], good.rgb[:k])
    assert np.array_equal(bad.segmentation[:k], good.segmentation[:k])
    if violation.kind == "pass_through":
        assert bad.track("ball").position[-1, 0] > 0.35  # beyond the wall's far face
        assert good.track("ball").position[-1, 0] < 0.1
        assert not np.array_equal(bad.rgb[k:], good.rgb[k:])
    else:
        assert not np.array_equal(bad.rgb[k], good.rgb[k])  # the very frame differs
    present = bad.track(violation.body).present
    assert present[k:].all() != (violation.kind == "vanish")
    assert present[:k].all() != (violation.kind == "appear")
    if violation.kind == "change_shape":
        assert (bad.segmentation[k:] == 3).any()  # same seg id after the swap


def test_rollout_save_and_load_round_trip(tmp_path):
    spec = _violation_scene(Violation("vanish", "cube", 3))
    cam = CameraSpec(width=33, height=17, eye=(0, -3, 1.2), target=(0.2, 0, 0.4))
    spec = SceneSpec(
        objects=spec.objects, cameras=(cam,), world=spec.world, violation=spec.violation
    )
    r = simulate(spec, labels="all")
    out = r.save(tmp_path / "run")
    assert sorted(p.name for p in out.iterdir()) == ["arrays.npz", "labels.json", "preview.mp4"]
    assert (out / "preview.mp4").stat().st_size > 1000
    back = Rollout.load(out)
    assert back.spec == spec and back.labels == r.labels and back.contacts == r.contacts
    for key in ("rgb", "depth", "segmentation", "flow", "times"):
        assert np.array_equal(getattr(back, key), getattr(r, key)), key
    for a, b in zip(r.objects, back.objects, strict=True):
        assert a.name == b.name
        assert np.array_equal(a.position, b.position) and np.array_equal(a.occluded, b.occluded)
    assert np.array_equal(back.camera.world_to_camera, r.camera.world_to_camera)
    import json

    meta = json.loads((out / "labels.json").read_text())
    assert meta["violation"]["kind"] == "vanish" and meta["id_to_name"]["1"] == "ball"
    with pytest.raises(FileNotFoundError, match="not a saved rollout"):
        Rollout.load(tmp_path)


def test_renderer_registry_lists_valid_names():
    assert RENDERERS == ("tiny", "pyrender")
    assert get_renderer("tiny").name == "tiny"
    with pytest.raises(UnknownNameError, match="pyrender, tiny"):
        get_renderer("blender")
    with pytest.raises(UnknownNameError, match="valid labels"):
        simulate(_mover(8), labels="rgb,sparkles")
