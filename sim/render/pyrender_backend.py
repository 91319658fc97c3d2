"""pyrender backend ("pyrender"): headless EGL rasteriser with PBR shading and textures.

It draws the ``BodyView`` list itself (the PyBullet client is not used), with geometry that
follows PyBullet's primitive conventions exactly, so it produces the same depth and segmentation
layout as the TinyRenderer for the same scene. The camera uses ``K`` (``IntrinsicsCamera``), so
both backends share the same projection.
"""

from __future__ import annotations

import contextlib
import os

# pyrender picks its GL platform at import time; headless EGL unless the user chose another.
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from pathlib import Path
from typing import ClassVar

import numpy as np
import pyrender
import trimesh
from OpenGL.GL import GL_CLAMP_TO_BORDER, GL_FLOAT
from twinsim.assets import ASSETS_DIR
from twinsim.sim.errors import SimError, SpecError
from twinsim.sim.render.base import BodyView, Frame, Renderer
from twinsim.sim.render.camera import CameraPose
from twinsim.sim.spec import LightSpec, ObjectSpec, WorldSpec
from twinsim.sim.world.meshes import load_mesh

__all__ = [
    "TEXTURE_DIR",
    "TEXTURE_EXTENSIONS",
    "PyrenderRenderer",
    "body_trimesh",
    "resolve_texture_path",
]

TEXTURE_DIR = ASSETS_DIR / "textures"
TEXTURE_EXTENSIONS = (".png", ".jpg", ".jpeg")

# OpenCV camera axes (x right, y down, z forward) -> OpenGL (x right, y up, z backward).
_CV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])
_FLOOR_HALF = 50.0  # same extent and thickness as the PyBullet floor slab (sim/bodies.py)
_FLOOR_THICK = 0.01
# TinyRenderer's clear colour, so both backends show the same sky.
_BACKGROUND = (1.0, 1.0, 1.0, 1.0)
_GLASS_ROUGHNESS = 0.15
_SHADOW_PX = 2048  # shadow map side; the map spans only the bodies (see _Scene)


def resolve_texture_path(texture: str) -> Path:
    """The image file a spec's ``texture`` names: relative to assets/textures/, or absolute.

    Raises:
        SpecError: bad extension, a relative path leaving assets/textures, or a missing file.
    """
    raw = Path(texture).expanduser()
    if ".." in raw.parts:
        raise SpecError("texture", texture, "must not contain '..'; name a file in assets/textures")
    if raw.suffix.lower() not in TEXTURE_EXTENSIONS:
        raise SpecError("texture", texture, f"extension must be one of {TEXTURE_EXTENSIONS}")
    path = raw.resolve() if raw.is_absolute() else (TEXTURE_DIR / raw).resolve()
    if not raw.is_absolute() and not path.is_relative_to(TEXTURE_DIR.resolve()):
        raise SpecError("texture", texture, f"relative paths must stay inside {TEXTURE_DIR}")
    if not path.is_file():
        raise SpecError(
            "texture",
            texture,
            f"file not found ({path}); give a file in {TEXTURE_DIR} "
            "or an absolute path to an existing image",
        )
    return path


def body_trimesh(spec: ObjectSpec) -> trimesh.Trimesh:
    """The body-frame geometry of ``spec`` with PyBullet's conventions (centred at the COM).

    sphere (r,); box half extents; cylinder / capsule (radius, length) along local z, where a
    capsule's ``length`` is its cylindrical part (total height length + 2 r); mesh via
    :func:`twinsim.sim.world.meshes.load_mesh` (centred, scaled).
    """
    s = spec.size
    if spec.shape == "sphere":
        return trimesh.creation.icosphere(subdivisions=3, radius=s[0])
    if spec.shape == "box":
        return trimesh.creation.box(extents=[2.0 * s[0], 2.0 * s[1], 2.0 * s[2]])
    if spec.shape == "cylinder":
        return trimesh.creation.cylinder(radius=s[0], height=s[1], sections=32)
    if spec.shape == "capsule":
        return trimesh.creation.capsule(height=s[1], radius=s[0], count=[32, 32])
    return load_mesh(spec)


def _cube_uv(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Copy of ``mesh`` with per-face vertices and box-projected UVs (any shape, no seams)."""
    smooth_normals = mesh.vertex_normals[mesh.faces].reshape(-1, 3)
    out = mesh.copy()
    out.unmerge_vertices()  # vertex i now belongs to face i // 3 only
    lo, hi = mesh.bounds
    unit = (out.vertices - lo) / np.maximum(hi - lo, 1e-9)
    axis = np.repeat(np.abs(out.face_normals).argmax(axis=1), 3)
    uv = np.zeros((len(out.vertices), 2))
    for a, keep in ((0, [1, 2]), (1, [0, 2]), (2, [0, 1])):
        sel = axis == a
        uv[sel] = unit[sel][:, keep]
    out.visual = trimesh.visual.TextureVisuals(uv=uv)
    out.vertex_normals = smooth_normals  # keep curved shapes smoothly shaded
    return out


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    # pyrender's shader gamma-encodes its output; colours in specs are display (sRGB) values.
    return np.power(np.clip(c, 0.0, 1.0), 2.2)


def _material(spec: ObjectSpec) -> pyrender.MetallicRoughnessMaterial:
    rgba = np.asarray(spec.color, dtype=np.float64)
    texture = None
    if spec.texture:
        import imageio.v3 as iio

        img = np.asarray(iio.imread(resolve_texture_path(spec.texture)))
        if img.ndim == 2:
            img = np.stack([img] * 3, axis=-1)
        img = np.ascontiguousarray(img[..., :3].astype(np.uint8))
        texture = pyrender.Texture(source=img, source_channels="RGB")
        rgba = np.array([1.0, 1.0, 1.0, rgba[3]])  # the image gives the colour
    base = np.concatenate([_srgb_to_linear(rgba[:3]), rgba[3:]])
    translucent = rgba[3] < 1.0
    return pyrender.MetallicRoughnessMaterial(
        baseColorFactor=base,
        baseColorTexture=texture,
        metallicFactor=0.0,
        # Translucent bodies (glass) are glossy: a sharp highlight reads as glass at 64 px.
        roughnessFactor=_GLASS_ROUGHNESS if translucent else 0.7,
        alphaMode="BLEND" if translucent else "OPAQUE",
    )


def _look(spec: ObjectSpec) -> tuple:
    """What a body's drawing depends on; the cached node is rebuilt when it changes."""
    return (spec.shape, spec.size, spec.color, spec.texture, spec.mesh)


def _to_pyrender(geom: trimesh.Trimesh, spec: ObjectSpec, smooth: bool) -> pyrender.Mesh:
    mesh = pyrender.Mesh.from_trimesh(geom, material=_material(spec), smooth=smooth)
    # pyrender 0.1.45's Mesh.bounds uses np.infty (gone in NumPy 2); give it the bounds up front.
    mesh._bounds = np.asarray(geom.bounds, dtype=np.float64)
    return mesh


def _pyrender_mesh(spec: ObjectSpec) -> pyrender.Mesh:
    geom = body_trimesh(spec)
    curved = spec.shape in ("sphere", "capsule", "mesh")
    if spec.texture:
        has_uv = getattr(geom.visual, "uv", None) is not None and spec.shape == "mesh"
        return _to_pyrender(geom if has_uv else _cube_uv(geom), spec, curved)
    geom.visual = trimesh.visual.ColorVisuals(geom)  # drop file colours: the spec's colour rules
    return _to_pyrender(geom, spec, curved)


def _pose(position, orientation) -> np.ndarray:
    m = np.eye(4)
    x, y, z, w = orientation
    m[:3, :3] = trimesh.transformations.quaternion_matrix([w, x, y, z])[:3, :3]
    m[:3, 3] = position
    return m


def _light_pose(direction) -> np.ndarray:
    """Node pose whose -z axis (pyrender's light direction) points away from ``direction``."""
    z = np.asarray(direction, dtype=np.float64)
    z = z / np.linalg.norm(z)
    helper = np.array([0.0, 0.0, 1.0]) if abs(z[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    m = np.eye(4)
    m[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    return m


def _seg_color(seg_id: int) -> np.ndarray:
    return np.array([seg_id & 255, (seg_id >> 8) & 255, (seg_id >> 16) & 255], dtype=np.float64)


def _release(offscreen: pyrender.OffscreenRenderer) -> None:
    """Free one offscreen renderer without breaking the others in this process.

    pyrender's ``delete()`` calls ``eglTerminate`` on the display, which every EGL context of the
    process shares, so closing one renderer would kill all others; destroy only our context.
    """
    from pyrender.platforms.egl import EGLPlatform

    platform = offscreen._platform
    if not isinstance(platform, EGLPlatform) or platform._egl_context is None:
        offscreen.delete()
        return
    from OpenGL.EGL import EGL_NO_CONTEXT, EGL_NO_SURFACE, eglDestroyContext, eglMakeCurrent

    platform.make_current()
    offscreen._renderer.delete()
    display, context = platform._egl_display, platform._egl_context
    eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT)
    eglDestroyContext(display, context)
    platform._egl_context = platform._egl_display = None
    offscreen._renderer = offscreen._platform = None  # its __del__ then has nothing to free


class _Scene(pyrender.Scene):
    """A pyrender scene whose shadow camera frames the bodies, not the 100 m floor slab.

    pyrender fits the directional shadow map to ``centroid`` / ``scale``; over the whole floor a
    2048 px map would give ~14 cm texels and no visible shadows of small bodies.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.floor: pyrender.Node | None = None
        self.body_bounds = np.array([[-1.0, -1.0, 0.0], [1.0, 1.0, 1.0]])

    def update_body_bounds(self) -> None:
        """Recompute the bodies' world AABB (pyrender asks for it many times per frame)."""
        nodes = [n for n in self.mesh_nodes if n is not self.floor and n.mesh.is_visible]
        if not nodes:
            return
        corners = []
        for n in nodes:
            pose = self.get_pose(n)
            corners.append(trimesh.bounds.corners(n.mesh.bounds) @ pose[:3, :3].T + pose[:3, 3])
        pts = np.concatenate(corners)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        lo[2] = min(lo[2], 0.0)  # include the floor the shadows fall on
        self.body_bounds = np.stack([lo, hi])

    @property
    def centroid(self) -> np.ndarray:
        return self.body_bounds.mean(axis=0)

    @property
    def scale(self) -> float:
        return float(np.linalg.norm(self.body_bounds[1] - self.body_bounds[0])) + 0.5


class PyrenderRenderer(Renderer):
    """Headless EGL renderer: shading from the scene light, textures, exact depth and ids.

    Geometry is built once per body and rebuilt only when the body's look changes (e.g. after
    a change_shape violation); each frame only moves nodes. One ``OffscreenRenderer`` (one EGL
    context) per instance, resized in place when the camera size changes; :meth:`close`
    releases it.
    """

    name: ClassVar[str] = "pyrender"

    def __init__(self) -> None:
        self._scene = _Scene(bg_color=_BACKGROUND, ambient_light=(0.5, 0.5, 0.5))
        self._offscreen: pyrender.OffscreenRenderer | None = None
        self._bodies: dict[int, tuple[tuple, pyrender.Node]] = {}
        self._floor: tuple[tuple, pyrender.Node] | None = None
        self._camera: tuple[tuple, pyrender.Node] | None = None
        sun = pyrender.DirectionalLight()
        # Clamp to the border (depth 1 = lit) so floor outside the shadow map is not shadowed;
        # pyrender's own map repeats and would tile the bodies' shadows across the floor.
        sun.shadow_texture = pyrender.Texture(
            width=_SHADOW_PX,
            height=_SHADOW_PX,
            source_channels="D",
            data_format=GL_FLOAT,
            sampler=pyrender.Sampler(wrapS=GL_CLAMP_TO_BORDER, wrapT=GL_CLAMP_TO_BORDER),
        )
        self._light = self._scene.add(sun, pose=np.eye(4))

    # -- scene upkeep --------------------------------------------------------------------------

    def _sync_bodies(self, bodies: list[BodyView]) -> None:
        """Create, rebuild, move and show/hide body nodes for this frame."""
        shown = set()
        for b in bodies:
            if not b.visible:
                continue
            look = _look(b.spec)
            cached = self._bodies.get(b.seg_id)
            if cached is None or cached[0] != look:
                mesh = _pyrender_mesh(b.spec)  # may raise (bad texture): keep the cache intact
                if cached is not None:
                    self._scene.remove_node(cached[1])
                self._bodies[b.seg_id] = (look, self._scene.add(mesh, name=f"body{b.seg_id}"))
            node = self._bodies[b.seg_id][1]
            self._scene.set_pose(node, _pose(b.position, b.orientation))
            shown.add(b.seg_id)
        for seg_id, (_, node) in self._bodies.items():
            node.mesh.is_visible = seg_id in shown

    def _sync_floor(self, world: WorldSpec) -> None:
        look = tuple(world.floor_color)
        if world.floor and (self._floor is None or self._floor[0] != look):
            if self._floor is not None:
                self._scene.remove_node(self._floor[1])
            slab = trimesh.creation.box(extents=[2 * _FLOOR_HALF, 2 * _FLOOR_HALF, _FLOOR_THICK])
            slab.apply_translation([0.0, 0.0, -_FLOOR_THICK / 2])
            spec = ObjectSpec(name="floor", shape="box", size=(1.0, 1.0, 1.0), color=look)
            mesh = _to_pyrender(slab, spec, smooth=False)
            self._floor = (look, self._scene.add(mesh, name="floor"))
            self._scene.floor = self._floor[1]
        if self._floor is not None:
            self._floor[1].mesh.is_visible = world.floor

    def _sync_camera(self, camera: CameraPose) -> None:
        k = camera.K
        key = (k[0, 0], k[1, 1], k[0, 2], k[1, 2], camera.near, camera.far)
        if self._camera is None or self._camera[0] != key:
            if self._camera is not None:
                self._scene.remove_node(self._camera[1])
            cam = pyrender.IntrinsicsCamera(*key[:4], znear=camera.near, zfar=camera.far)
            self._camera = (key, self._scene.add(cam, pose=np.eye(4)))
        self._scene.set_pose(self._camera[1], camera.camera_to_world @ _CV_TO_GL)

    def _sync_light(self, light: LightSpec) -> None:
        self._light.light.color = np.asarray(light.color, dtype=np.float64)
        # The PBR diffuse term divides by pi; scale so a lit face gets ~``diffuse``.
        self._light.light.intensity = np.pi * light.diffuse
        self._scene.set_pose(self._light, _light_pose(light.direction))
        self._scene.ambient_light = light.ambient * np.asarray(light.color, dtype=np.float64)

    def _renderer(self, width: int, height: int) -> pyrender.OffscreenRenderer:
        if self._offscreen is None:
            try:
                self._offscreen = pyrender.OffscreenRenderer(width, height)
            except Exception as exc:  # EGL/GL errors come in many types
                raise SimError(
                    f"pyrender could not open a headless OpenGL context "
                    f"(PYOPENGL_PLATFORM={os.environ.get('PYOPENGL_PLATFORM')}): {exc}; "
                    "install EGL (libegl1, Mesa) or use renderer='tiny'"
                ) from exc
        self._offscreen.viewport_width = width
        self._offscreen.viewport_height = height
        return self._offscreen

    # -- Renderer API --------------------------------------------------------------------------

    def render(
        self,
        client: int,
        bodies: list[BodyView],
        camera: CameraPose,
        light: LightSpec,
        world: WorldSpec,
        *,
        rgb: bool = True,
        depth: bool = True,
        segmentation: bool = True,
    ) -> Frame:
        del client  # pyrender draws ``bodies`` itself
        self._sync_bodies(bodies)
        self._sync_floor(world)
        self._sync_camera(camera)
        self._sync_light(light)
        r = self._renderer(camera.width, camera.height)
        frame = Frame()
        zbuf = None
        if rgb:
            flags = pyrender.RenderFlags.NONE
            if light.shadows:
                flags |= pyrender.RenderFlags.SHADOWS_DIRECTIONAL
                self._scene.update_body_bounds()
            color, zbuf = r.render(self._scene, flags=flags)
            frame.rgb = np.ascontiguousarray(color[..., :3], dtype=np.uint8)
        if segmentation:
            seg_map = {node: _seg_color(sid) for sid, (_, node) in self._bodies.items()}
            seg_map = {n: c for n, c in seg_map.items() if n.mesh.is_visible}
            if self._floor is not None and world.floor:
                seg_map[self._floor[1]] = _seg_color(0)  # floor hides what is below it
            ids, zbuf = r.render(self._scene, flags=pyrender.RenderFlags.SEG, seg_node_map=seg_map)
            ids = ids.astype(np.int32)
            frame.segmentation = ids[..., 0] | (ids[..., 1] << 8) | (ids[..., 2] << 16)
        if depth:
            if zbuf is None:
                zbuf = r.render(self._scene, flags=pyrender.RenderFlags.DEPTH_ONLY)
            frame.depth = np.where(zbuf > 0, zbuf, camera.far).astype(np.float32)
        return frame

    def close(self) -> None:
        """Release the EGL context and forget the cached geometry."""
        if self._offscreen is not None:
            _release(self._offscreen)
            self._offscreen = None
        for _, node in self._bodies.values():
            self._scene.remove_node(node)
        self._bodies.clear()
        if self._floor is not None:
            self._scene.remove_node(self._floor[1])
            self._floor = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown: GL may already be gone
            self.close()
