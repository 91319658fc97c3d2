"""Mesh loading shared by the physics world and the renderers.

Spec mesh paths are resolved as follows: a relative path names a file under the bundled
``assets/meshes/`` folder (it may not leave it); an absolute (or ``~``) path names a user file that
must exist. Either way the extension must be one trimesh reads: .obj, .stl, .ply, .glb, .off.
Loaded meshes are re-centred on their centre of mass (so the body frame is the centre of mass, as
for primitives) and scaled by the spec's ``size``.

Meshes are validated on load: finite vertices with |coordinate| <= 1e4, at most
:data:`MAX_FACES` triangles, a solid (non-flat, non-degenerate) convex hull, and a scaled extent
of at most 1e3 m. V-HACD runs in a child process bounded by ``$TWINSIM_VHACD_TIMEOUT`` seconds
(default 120), so a mesh that crashes or stalls it fails with a message instead.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import trimesh
from twinsim.assets import ASSETS_DIR
from twinsim.sim.errors import SpecError
from twinsim.sim.fileio import copy_file
from twinsim.sim.spec import ObjectSpec

__all__ = [
    "MAX_FACES",
    "MESH_DIR",
    "MESH_EXTENSIONS",
    "load_mesh",
    "resolve_mesh_path",
    "vhacd_parts",
]

MESH_DIR = ASSETS_DIR / "meshes"
MESH_EXTENSIONS = (".obj", ".stl", ".ply", ".glb", ".off")
MAX_FACES = 200_000
MAX_MESH_BYTES = 256 * 2**20  # larger files are refused before parsing
MAX_MESH_COORD = 1e4  # file units
MAX_MESH_EXTENT = 1e3  # m, after scaling by the spec's size
VHACD_TIMEOUT_ENV = "TWINSIM_VHACD_TIMEOUT"
_VHACD = (
    "import sys, pybullet as p\n"
    "c = p.connect(p.DIRECT)\n"
    "p.vhacd(sys.argv[1], sys.argv[2], sys.argv[3], physicsClientId=c)\n"
)


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


def _validate(mesh: trimesh.Trimesh, path: str) -> None:
    """Refuse meshes that crash, hang or break the engine: see the module docstring."""
    v = np.asarray(mesh.vertices)
    if not np.isfinite(v).all():
        raise SpecError("mesh", path, "vertex coordinates must be finite (found NaN or inf)")
    if len(mesh.faces) > MAX_FACES:
        raise SpecError("mesh", path, f"{len(mesh.faces)} faces; at most {MAX_FACES} (decimate it)")
    top = float(np.abs(v).max())
    if top > MAX_MESH_COORD:
        raise SpecError("mesh", path, f"coordinates up to {top:g}; at most {MAX_MESH_COORD:g}")
    ext = mesh.extents
    if ext.min() <= 1e-6 * max(ext.max(), 1e-12):
        raise SpecError("mesh", path, f"flat or degenerate (extents {ext.tolist()}); need a solid")
    try:
        volume = float(mesh.convex_hull.volume)
    except Exception as exc:  # Qhull raises its own types on degenerate input
        raise SpecError("mesh", path, f"degenerate: no solid convex hull ({exc})") from None
    if not volume > 1e-9 * float(ext.max()) ** 3:
        raise SpecError("mesh", path, f"degenerate: convex hull volume {volume:g}; need a solid")


@functools.lru_cache(maxsize=64)
def _load_centred(path: str, mtime: float) -> trimesh.Trimesh:
    size = os.path.getsize(path)
    if size > MAX_MESH_BYTES:
        raise SpecError("mesh", path, f"file of {size} bytes; at most {MAX_MESH_BYTES}")
    try:  # unprocessed first: processing would silently drop NaN/inf vertices
        mesh = trimesh.load(path, force="mesh", process=False)
    except Exception as exc:  # trimesh raises many types for bad files
        raise SpecError("mesh", path, f"trimesh could not read it as a mesh ({exc})") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise SpecError("mesh", path, "must contain at least one triangle")
    _validate(mesh, path)
    mesh.process()
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
    if float(mesh.extents.max()) > MAX_MESH_EXTENT:
        raise SpecError(
            "size", spec.size, f"scales mesh {spec.mesh} to {mesh.extents.max():g} m; at most 1e3"
        )
    return mesh


def vhacd_parts(spec: ObjectSpec, client: int) -> Path:
    """An .obj of convex parts (PyBullet's V-HACD) for the scaled mesh, cached on disk by content.

    ``client`` is unused (kept for callers): V-HACD runs in a child process of its own.
    """
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
        _run_vhacd(src, dst, Path(tmp) / "log.txt", spec.mesh or "")
        copy_file(dst, out)
    return out


def vhacd_timeout() -> float:
    """Seconds V-HACD may run on one mesh (``$TWINSIM_VHACD_TIMEOUT``, default 120)."""
    raw = os.environ.get(VHACD_TIMEOUT_ENV, "120")
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1e6:
        raise SpecError(f"${VHACD_TIMEOUT_ENV}", raw, "must be a number of seconds > 0")
    return value


def _run_vhacd(src: Path, dst: Path, log: Path, name: str) -> None:
    """PyBullet's V-HACD in a child process: a crash or a stall there cannot take this one down."""
    limit = vhacd_timeout()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _VHACD, str(src), str(dst), str(log)],
            stdout=subprocess.DEVNULL,  # V-HACD prints its progress bar on the C stdout
            stderr=subprocess.PIPE,
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        raise SpecError(
            "collision",
            "vhacd",
            f"V-HACD on {name} ran past {limit:g} s (${VHACD_TIMEOUT_ENV}); use convex_hull "
            "or a simpler mesh",
        ) from None
    if proc.returncode != 0 or not dst.is_file():
        why = f"exit code {proc.returncode}" if proc.returncode else "no output"
        raise SpecError("collision", "vhacd", f"V-HACD failed on {name} ({why}); use convex_hull")
