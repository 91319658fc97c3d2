"""Mesh loading shared by the physics world and the renderers.

Spec mesh paths are resolved as follows: a relative path names a file under the bundled
``assets/meshes/`` folder (it may not leave it); an absolute (or ``~``) path names a user file that
must exist. Either way the extension must be one trimesh reads: .obj, .stl, .ply, .glb, .off.
Loaded meshes are re-centred on their centre of mass (so the body frame is the centre of mass, as
for primitives) and scaled by the spec's ``size``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import trimesh
from twinsim.assets import ASSETS_DIR
from twinsim.sim.errors import SpecError
from twinsim.sim.fileio import copy_file
from twinsim.sim.spec import ObjectSpec

__all__ = ["MESH_DIR", "MESH_EXTENSIONS", "load_mesh", "resolve_mesh_path", "vhacd_parts"]

MESH_DIR = ASSETS_DIR / "meshes"
MESH_EXTENSIONS = (".obj", ".stl", ".ply", ".glb", ".off")


def resolve_mesh_path(mesh: str) -> Path:
    """The file a spec's ``mesh`` string names (see module docstring).

    Raises:
        SpecError: the path escapes assets/meshes, has an unsupported extension, or is missing.
    """
    raw = Path(mesh).expanduser()
    if ".." in raw.parts:
        raise SpecError("mesh", mesh, "must not contain '..'; name a file in assets/meshes/")
    if raw.suffix.lower() not in MESH_EXTENSIONS:
        raise SpecError("mesh", mesh, f"extension must be one of {', '.join(MESH_EXTENSIONS)}")
    if raw.is_absolute():
        path = raw.resolve()
    else:
        root = MESH_DIR.resolve()
        path = (root / raw).resolve()
        # Symlinks could still point outside the assets folder.
        if not path.is_relative_to(root):
            raise SpecError("mesh", mesh, f"relative mesh paths must stay inside {root}")
    if not path.is_file():
        bundled = sorted(p.name for p in MESH_DIR.iterdir() if p.suffix in MESH_EXTENSIONS)
        raise SpecError(
            "mesh",
            mesh,
            f"file not found ({path}); bundled meshes: {', '.join(bundled)} "
            "or give an absolute path to an existing file",
        )
    return path


@functools.lru_cache(maxsize=64)
def _load_centred(path: str, mtime: float) -> trimesh.Trimesh:
    try:
        mesh = trimesh.load(path, force="mesh", process=True)
    except Exception as exc:  # trimesh raises many types for bad files
        raise SpecError("mesh", path, f"trimesh could not read it as a mesh ({exc})") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise SpecError("mesh", path, "must contain at least one triangle")
    centre = mesh.center_mass if mesh.is_watertight else mesh.bounds.mean(axis=0)
    mesh.apply_translation(-np.asarray(centre))
    return mesh


def load_mesh(spec: ObjectSpec) -> trimesh.Trimesh:
    """The mesh of a ``shape == "mesh"`` object: centred on its centre of mass, scaled by size.

    Returns a fresh copy the caller may modify.
    """
    if spec.shape != "mesh" or not spec.mesh:
        raise SpecError("shape", spec.shape, "load_mesh needs an object of shape 'mesh'")
    path = resolve_mesh_path(spec.mesh)
    mesh = _load_centred(str(path), path.stat().st_mtime).copy()
    scale = np.broadcast_to(np.asarray(spec.size, dtype=np.float64), (3,))
    mesh.apply_transform(np.diag([*scale, 1.0]))
    return mesh


def vhacd_parts(spec: ObjectSpec, client: int) -> Path:
    """An .obj of convex parts (PyBullet's V-HACD) for the scaled mesh, cached on disk by content."""
    from twinsim.sim._pybullet import pybullet as p

    mesh = load_mesh(spec)
    key = hashlib.sha256(mesh.vertices.tobytes() + mesh.faces.tobytes()).hexdigest()[:20]
    cache = Path(os.environ.get("TWINSIM_CACHE", Path.home() / ".cache" / "twinsim")) / "vhacd"
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"{key}.obj"
    if out.is_file():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.obj"
        mesh.export(src)
        dst = Path(tmp) / "out.obj"
        with _quiet_stdout():  # V-HACD prints its progress bar on the C stdout
            p.vhacd(str(src), str(dst), str(Path(tmp) / "log.txt"), physicsClientId=client)
        if not dst.is_file():
            raise SpecError("collision", "vhacd", f"V-HACD failed on {spec.mesh}; use convex_hull")
        copy_file(dst, out)
    return out


@contextlib.contextmanager
def _quiet_stdout():
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
