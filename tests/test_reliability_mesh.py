"""Mesh reliability: odd meshes fail with a SpecError on load (never a segfault, a hang or a Qhull
traceback), and V-HACD runs bounded in time in a child process."""

from __future__ import annotations

import time

import numpy as np
import pytest
import twinsim.sim.world.meshes as meshes
from twinsim.sim import SceneSpec, World
from twinsim.sim.errors import SpecError
from twinsim.sim.spec import ObjectSpec

CUBE_V = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
CUBE_F = np.array(
    [[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
     [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]]
)  # fmt: skip


def _obj(path, vertices, faces) -> str:
    lines = [f"v {float(x)!r} {float(y)!r} {float(z)!r}" for x, y, z in vertices]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _body(path: str, collision: str = "convex_hull") -> ObjectSpec:
    return ObjectSpec("m", "mesh", (0.1,), mesh=path, collision=collision, position=(0, 0, 0.5))


def _build(path: str, collision: str = "convex_hull") -> None:
    spec = SceneSpec(objects=(_body(path, collision),))
    with World(spec) as world:
        world.step()


BAD_MESHES = {
    "huge": (CUBE_V * 1e30, CUBE_F, "coordinates"),
    "single triangle": (CUBE_V[:3], np.array([[0, 1, 2]]), "flat"),
    "flat square": (CUBE_V[[0, 2, 4, 6]], np.array([[0, 1, 2], [1, 3, 2]]), "flat"),
    "nan": (np.where(np.arange(24).reshape(8, 3) == 5, np.nan, CUBE_V), CUBE_F, "finite"),
    "inf": (np.where(np.arange(24).reshape(8, 3) == 5, np.inf, CUBE_V), CUBE_F, "finite"),
    "collinear": (np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3.0]]), CUBE_F[:2], "mesh"),
}


@pytest.mark.parametrize("collision", ["convex_hull", "vhacd"])
@pytest.mark.parametrize("name", sorted(BAD_MESHES))
def test_odd_meshes_fail_on_load_with_a_spec_error(tmp_path, monkeypatch, name, collision):
    monkeypatch.setenv("TWINSIM_CACHE", str(tmp_path / "cache"))
    vertices, faces, word = BAD_MESHES[name]
    path = _obj(tmp_path / "m.obj", vertices, faces)
    t0 = time.monotonic()
    with pytest.raises(SpecError) as info:
        _build(path, collision)
    assert time.monotonic() - t0 < 30
    assert "mesh" in str(info.value) and word in str(info.value), str(info.value)


def test_face_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(meshes, "MAX_FACES", 11)
    path = _obj(tmp_path / "cube.obj", CUBE_V, CUBE_F)
    with pytest.raises(SpecError, match="12 faces; at most 11"):
        _build(path)


def test_scaled_extent_is_bounded(tmp_path):
    path = _obj(tmp_path / "cube.obj", CUBE_V * 1e3, CUBE_F)
    spec = ObjectSpec("m", "mesh", (1.0,), mesh=path)
    with pytest.raises(SpecError, match="at most 1e3"):
        meshes.load_mesh(spec)


def test_a_good_mesh_still_loads(tmp_path):
    path = _obj(tmp_path / "cube.obj", CUBE_V, CUBE_F)
    mesh = meshes.load_mesh(_body(path))
    assert np.allclose(mesh.extents, 0.2)


def test_vhacd_is_bounded_in_time(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINSIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(meshes.VHACD_TIMEOUT_ENV, "0.01")
    spec = ObjectSpec("c", "mesh", (0.1,), mesh="torus.obj", collision="vhacd")
    t0 = time.monotonic()
    with pytest.raises(SpecError, match=r"ran past 0\.01 s"):
        meshes.vhacd_parts(spec, client=0)
    assert time.monotonic() - t0 < 10
    assert not list((tmp_path / "cache").rglob("*.obj"))  # nothing half-written is cached


def test_vhacd_crash_in_the_child_is_an_error_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINSIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(meshes, "_VHACD", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    spec = ObjectSpec("c", "mesh", (0.1,), mesh="cone.obj", collision="vhacd")
    with pytest.raises(SpecError, match=r"V-HACD failed on cone\.obj"):
        meshes.vhacd_parts(spec, client=0)
