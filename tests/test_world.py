"""Engine world: determinism, isolation, save/restore, control, kinematics, joints, meshes."""

from __future__ import annotations

import numpy as np
import pytest
from twinsim.sim import (
    EventSpec,
    JointSpec,
    Keyframe,
    ObjectSpec,
    SceneSpec,
    SpecError,
    UnknownNameError,
    World,
    WorldSpec,
)
from twinsim.sim.world.meshes import load_mesh, resolve_mesh_path


def _scene(**kw) -> SceneSpec:
    objects = (
        ObjectSpec("ball", "sphere", (0.1,), position=(0, 0, 0.8), linear_velocity=(0.6, 0, 0)),
        ObjectSpec("box", "box", (0.1, 0.1, 0.1), position=(0.3, 0.02, 0.1)),
        ObjectSpec("cyl", "cylinder", (0.08, 0.2), position=(-0.3, 0, 0.5), mass=0.5),
        ObjectSpec("cap", "capsule", (0.05, 0.1), position=(0, 0.3, 0.4)),
    )
    return SceneSpec(objects=objects, world=WorldSpec(duration=1.0), **kw)


def _arrays(world: World) -> np.ndarray:
    s = world.state()
    return np.array(
        [
            [*b.position, *b.orientation, *b.linear_velocity, *b.angular_velocity]
            for b in s.bodies.values()
        ]
    )


def test_same_spec_gives_identical_states_even_with_two_worlds_alive():
    spec = _scene()
    with World(spec) as a, World(spec) as b:
        other = World(SceneSpec(objects=(ObjectSpec("x", "sphere", (0.3,), position=(0, 0, 2)),)))
        for _ in range(12):
            a.step_frame()
            other.step_frame()  # a third world stepping in between must not disturb them
            b.step_frame()
            assert np.array_equal(_arrays(a), _arrays(b))
        other.close()
        assert a.state().bodies["ball"].position[2] < 0.8  # it really fell
        assert a.state().step == 12 * spec.world.steps_per_frame


@pytest.mark.parametrize("save_at", [0, 3])
def test_save_restore_continues_bit_identically(save_at):
    spec = _scene()
    with World(spec) as ref, World(spec) as w:
        for _ in range(save_at):
            ref.step_frame()
            w.step_frame()
        token = w.save_state()
        for _ in range(6):
            w.step_frame()
        w.restore_state(token)
        assert np.array_equal(_arrays(ref), _arrays(w))
        for _ in range(10):
            ref.step_frame()
            w.step_frame()
        assert np.array_equal(_arrays(ref), _arrays(w))
        assert ref.state().time == w.state().time
        with World(spec) as stranger, pytest.raises(ValueError, match="this world"):
            stranger.restore_state(token)


def test_bodies_addressed_by_name_and_unknown_names_listed():
    with World(_scene()) as w:
        assert w.pose("box")[0] == pytest.approx((0.3, 0.02, 0.1))
        assert w.body_id("ball") != w.body_id("box")
        assert [v.seg_id for v in w.body_views()] == [1, 2, 3, 4]
        with pytest.raises(UnknownNameError, match="ball, box, cap, cyl"):
            w.pose("nope")


def test_penetration_gives_the_overlap_and_the_way_out():
    def pair(x):
        return SceneSpec(
            objects=(
                ObjectSpec("a", "box", (0.1, 0.1, 0.1), position=(0.0, 0.0, 0.1)),
                ObjectSpec("b", "box", (0.1, 0.1, 0.1), position=(x, 0.0, 0.1)),
            )
        )

    with World(pair(0.17)) as w:  # 3 cm into each other along x
        depth, normal = w.penetration("a", "b")
        assert depth == pytest.approx(0.03, abs=0.002)
        np.testing.assert_allclose(normal, (-1.0, 0.0, 0.0), atol=1e-6)  # a leaves toward -x
        assert w.penetration("b", "a")[1] == pytest.approx((1.0, 0.0, 0.0), abs=1e-6)
        with pytest.raises(UnknownNameError, match="valid"):
            w.penetration("a", "nope")
    with World(pair(0.25)) as w:  # 5 cm apart
        assert w.penetration("a", "b") == (0.0, (0.0, 0.0, 0.0))
        assert w.separation("a", "b", 0.1) == pytest.approx(0.05, abs=0.002)
        assert w.separation("a", "b", 0.01) is None  # farther apart than asked about
        with pytest.raises(SpecError, match="within"):
            w.separation("a", "b", -0.01)
    with World(pair(0.17)) as w:
        assert w.separation("a", "b", 0.0) == pytest.approx(-0.03, abs=0.002)


def test_impulse_and_force_change_velocity_as_newton_says():
    spec = SceneSpec(
        objects=(ObjectSpec("b", "sphere", (0.1,), mass=2.0, position=(0, 0, 5)),),
        world=WorldSpec(gravity=(0, 0, 0), floor=False),
    )
    with World(spec) as w:
        w.apply_impulse("b", (4.0, 0, 0))  # 4 N s on 2 kg: +2 m/s
        w.step()
        assert w.velocity("b")[0][0] == pytest.approx(2.0, rel=2e-3)
        w.apply_force("b", (0, 10.0, 0), steps=24)  # 10 N for 0.1 s on 2 kg: +0.5 m/s
        for _ in range(30):
            w.step()
        assert w.velocity("b")[0][1] == pytest.approx(0.5, rel=2e-2)  # PyBullet damping 0.04
    event = EventSpec(time=0.1, body="b", kind="impulse", vector=(0, 0, 6.0))
    with World(SceneSpec(objects=spec.objects, world=spec.world, events=(event,))) as w:
        w.step_frame()
        assert w.velocity("b")[0][2] == 0.0  # before the event
        for _ in range(3):
            w.step_frame()
        assert w.velocity("b")[0][2] == pytest.approx(3.0, rel=2e-2)


def test_kinematic_body_follows_its_path_and_pushes_others():
    path = (Keyframe(0.0, (-1.0, 0, 0.2)), Keyframe(1.0, (1.0, 0, 0.2)))
    spec = SceneSpec(
        objects=(
            ObjectSpec("pusher", "box", (0.1, 0.3, 0.2), path=path),
            ObjectSpec("block", "box", (0.1, 0.1, 0.1), position=(0.0, 0, 0.1), mass=0.2),
        ),
        world=WorldSpec(duration=1.0),
    )
    with World(spec) as w:
        for _ in range(12):  # 0.5 s
            w.step_frame()
        assert w.pose("pusher")[0] == pytest.approx((0.0, 0, 0.2), abs=1e-9)
        assert w.velocity("pusher")[0] == pytest.approx((2.0, 0, 0))
        for _ in range(12):
            w.step_frame()
        assert w.pose("pusher")[0] == pytest.approx((1.0, 0, 0.2), abs=1e-9)
        assert w.pose("block")[0][0] > 0.15  # it was shoved along


def _fragments(height: float, break_impulse: float) -> SceneSpec:
    objs = tuple(
        ObjectSpec(f"frag{i}", "box", (0.05, 0.05, 0.05), mass=0.1, position=(0.1 * i, 0, height))
        for i in range(3)
    )
    joints = (
        JointSpec("frag0", "frag1", break_impulse=break_impulse),
        JointSpec("frag1", "frag2", break_impulse=break_impulse),
    )
    return SceneSpec(objects=objs, joints=joints, world=WorldSpec(duration=1.5))


def _gap(w: World) -> float:
    return float(np.linalg.norm(np.subtract(w.pose("frag1")[0], w.pose("frag0")[0])))


def test_breakable_joint_holds_at_rest_and_breaks_under_a_hard_hit():
    with World(_fragments(0.05, break_impulse=0.1)) as w:
        for _ in range(30):
            w.step_frame()
        assert w.state().broken_joints == {}
        assert _gap(w) == pytest.approx(0.1, abs=2e-3)
    with World(_fragments(3.0, break_impulse=0.1)) as w:
        for _ in range(12):  # still falling: joints hold the row rigid
            w.step_frame()
        assert w.state().broken_joints == {}
        assert _gap(w) == pytest.approx(0.1, abs=2e-3)
        for _ in range(24):
            w.step_frame()
        broken = w.state().broken_joints
        assert set(broken) == {0, 1}
        assert all(step > 12 * 10 for step in broken.values())


def test_restore_brings_broken_joints_back():
    spec = _fragments(3.0, break_impulse=0.1)
    with World(spec) as ref, World(spec) as w:
        token = w.save_state()
        for _ in range(36):
            w.step_frame()
        assert w.state().broken_joints
        w.restore_state(token)
        assert w.state().broken_joints == {}
        for _ in range(36):
            ref.step_frame()
            w.step_frame()
        assert np.array_equal(_arrays(ref), _arrays(w))
        assert ref.state().broken_joints == w.state().broken_joints


def test_meshes_load_scaled_and_simulate():
    spec = ObjectSpec("mug", "mesh", (0.1,), mesh="mug.obj", position=(0, 0, 0.5))
    mesh = load_mesh(spec)
    assert mesh.extents == pytest.approx((0.2 + 0.06, 0.2, 0.2), abs=0.03)
    assert np.allclose(mesh.center_mass, 0, atol=1e-6)  # body frame = centre of mass
    torus = ObjectSpec("t", "mesh", (0.1, 0.1, 0.2), mesh="torus.obj", position=(0.5, 0, 0.5))
    with World(SceneSpec(objects=(spec, torus))) as w:
        for _ in range(24):
            w.step_frame()
        assert 0.0 < w.pose("mug")[0][2] < 0.2  # landed on the floor, not through it
        assert 0.0 < w.pose("t")[0][2] < 0.2


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("../../etc/passwd.obj", r"'\.\.'"),
        ("meshes/../../spec.obj", r"'\.\.'"),
        ("/etc/passwd", "extension"),
        ("cone.exe", "extension"),
        ("missing.obj", "not found.*cone.obj"),
        ("/nonexistent/x.stl", "not found"),
    ],
)
def test_hostile_or_bad_mesh_paths_are_rejected(path, match):
    with pytest.raises(SpecError, match=match):
        resolve_mesh_path(path)
    spec = SceneSpec(objects=(ObjectSpec("m", "mesh", (1.0,), mesh=path),))
    with pytest.raises(SpecError, match=match):
        World(spec)


def test_symlink_out_of_assets_is_rejected(tmp_path, monkeypatch):
    from twinsim.sim.world import meshes

    (tmp_path / "meshes").mkdir()
    secret = tmp_path / "secret.obj"
    secret.write_text("v 0 0 0\n")
    (tmp_path / "meshes" / "link.obj").symlink_to(secret)
    monkeypatch.setattr(meshes, "MESH_DIR", tmp_path / "meshes")
    with pytest.raises(SpecError, match="inside"):
        meshes.resolve_mesh_path("link.obj")
    assert meshes.resolve_mesh_path(str(secret)) == secret  # absolute user paths are fine


def test_vhacd_collision_builds_convex_parts_and_caches_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINSIM_CACHE", str(tmp_path))
    cone = ObjectSpec("c", "mesh", (0.1,), mesh="cone.obj", collision="vhacd", position=(0, 0, 0.4))
    with World(SceneSpec(objects=(cone,))) as w:
        for _ in range(24):
            w.step_frame()
        assert 0.0 < w.pose("c")[0][2] < 0.2  # rests on the floor
    assert len(list((tmp_path / "vhacd").glob("*.obj"))) == 1


def test_joint_of_an_appearing_body_only_holds_once_it_is_there():
    from twinsim.sim import Violation

    objs = (
        ObjectSpec("a", "box", (0.05, 0.05, 0.05), position=(0, 0, 1.0)),
        ObjectSpec("b", "box", (0.05, 0.05, 0.05), position=(0.1, 0, 1.0)),
    )
    spec = SceneSpec(
        objects=objs,
        joints=(JointSpec("a", "b"),),
        violation=Violation("appear", "b", 6),
        world=WorldSpec(gravity=(0, 0, 0), floor=False, duration=1.0),
    )
    with World(spec) as w:
        for _ in range(5):
            w.step_frame()
            assert not w.present("b") and w.pose("a")[0] == pytest.approx((0, 0, 1.0))
        w.step_frame()
        assert w.present("b") and w.pose("b")[0] == pytest.approx((0.1, 0, 1.0))
        w.apply_impulse("a", (0.5, 0, 0))  # along the line of centres: no spin
        for _ in range(6):
            w.step_frame()
        # 0.5 N s on the rigid 2 kg pair (PyBullet damps velocities by 0.04 / s)
        assert w.velocity("a")[0][0] == pytest.approx(0.25, rel=2e-2)
        assert w.velocity("b")[0][0] == pytest.approx(w.velocity("a")[0][0], rel=1e-3)
