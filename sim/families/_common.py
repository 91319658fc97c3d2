"""Shared pieces of the scenario families: the Family record, colours, cameras, geometry helpers.

Every sampler draws from one ``numpy.random.Generator`` only, and draws the same numbers whatever
violation is asked for later, so a scene and its impossible twin agree on everything else.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from twinsim.sim.spec import CameraSpec, LightSpec, ObjectSpec, SceneSpec, Violation, WorldSpec

__all__ = [
    "FPS",
    "FRAMING",
    "GLASS",
    "OCCLUDER_COLORS",
    "PALETTE",
    "ROLES",
    "SHADOWS",
    "TIMESTEP",
    "Built",
    "Family",
    "Parameter",
    "aabb_corners",
    "action_bounds",
    "bounding_radius",
    "camera",
    "colors",
    "framed_camera",
    "half_extents",
    "half_height",
    "light",
    "quat_axis_angle",
    "quat_euler",
    "quat_multiply",
    "quat_rotate",
    "rnd",
    "sky_free_pitch",
    "world",
]

FPS = 24.0
# Far plane beyond the 50 m floor slab, so the floor reaches its true horizon (a nearer far
# plane clips the distant floor into "sky").
FAR = 80.0
TIMESTEP = 1.0 / 240.0

# Saturated, mid-dark colours: they stand out against the light floor (0.85, 0.85, 0.8) and
# against each other at 64x64 px. No yellow or pale tints (too close to the floor).
PALETTE: tuple[tuple[float, float, float, float], ...] = (
    (0.85, 0.15, 0.15, 1.0),  # red
    (0.15, 0.35, 0.85, 1.0),  # blue
    (0.1, 0.6, 0.2, 1.0),  # green
    (0.95, 0.5, 0.05, 1.0),  # orange
    (0.55, 0.2, 0.75, 1.0),  # purple
    (0.05, 0.6, 0.65, 1.0),  # teal
    (0.85, 0.2, 0.6, 1.0),  # magenta
    (0.35, 0.22, 0.1, 1.0),  # brown
)
OCCLUDER_COLORS: tuple[tuple[float, float, float, float], ...] = (
    (0.3, 0.3, 0.33, 1.0),  # slate
    (0.45, 0.35, 0.25, 1.0),  # wood
    (0.2, 0.25, 0.35, 1.0),  # navy grey
)
# TinyRenderer's shadow map speckles the floor with acne at 64 px; off until that is fixed.
SHADOWS = False
# Pale cyan, the one colour reserved for breakable glass; alpha < 1 draws it translucent and
# glossy in pyrender (TinyRenderer has no blending and draws it opaque, still pale cyan).
GLASS = (0.45, 0.8, 0.95, 0.5)
# What a body is for, declared per family (Family.roles) and read by the world model's training.
ROLES = ("occluder", "target")


@dataclass(frozen=True)
class Parameter:
    """A documented sampling range: ``low``-``high`` in ``unit``, or one of ``choices``."""

    name: str
    low: float | None = None
    high: float | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.choices:
            return f"{self.name}: one of {', '.join(self.choices)}"
        unit = f" {self.unit}" if self.unit else ""
        if self.low == self.high:
            return f"{self.name}: {self.low:g}{unit}"
        return f"{self.name}: {self.low:g} to {self.high:g}{unit}"


class Built(NamedTuple):
    """A sampled possible scene and, per supported kind, the violation of its impossible twin."""

    spec: SceneSpec
    violations: Mapping[str, Violation]


@dataclass(frozen=True)
class Family:
    """One scenario family of the registry.

    Attributes:
        name: registry key.
        description: one-line summary (first line used by docs and dataset cards).
        build: ``build(rng, seed) -> Built``: the possible scene plus one Violation per kind.
        violations: the impossible kinds it supports (keys of ``Built.violations``).
        parameters: the documented sampling ranges.
        roles: ``(body name, role)`` pairs declaring what a body is for (roles from
            :data:`ROLES`: ``occluder`` hides other bodies, ``target`` is the body the
            scenario is about), so learners need no literal body names.
    """

    name: str
    description: str
    build: Callable[[np.random.Generator, int], Built] = field(repr=False)
    violations: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    roles: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for _, role in self.roles:
            if role not in ROLES:  # programming error in a family module
                raise ValueError(f"family {self.name!r}: unknown role {role!r}; valid: {ROLES}")

    def bodies_with_role(self, role: str) -> tuple[str, ...]:
        """Names of the bodies declared with ``role`` (empty when none)."""
        return tuple(name for name, r in self.roles if r == role)

    def sample(self, rng: np.random.Generator, seed: int) -> SceneSpec:
        """The possible scene drawn from ``rng`` (labelled with this family and ``seed``)."""
        return dataclasses.replace(self.build(rng, seed).spec, family=self.name, seed=seed)


# The documented ranges of framed_camera (the families that frame their action).
FRAMING: tuple[Parameter, ...] = (
    Parameter("camera azimuth (about looking along +y)", -20.0, 20.0, "deg"),
    Parameter("camera pitch above the sky-free minimum (23 deg at fov 50)", 0.0, 10.0, "deg"),
    Parameter("share of the frame the action's bounding box spans", 0.8, 0.92),
)


def rnd(x: float, nd: int = 4) -> float:
    """Round for readable JSON (values stay exact through the round trip either way)."""
    return round(float(x), nd)


def colors(rng: np.random.Generator, n: int) -> list[tuple[float, float, float, float]]:
    """``n`` distinct palette colours."""
    idx = rng.permutation(len(PALETTE))[:n]
    return [PALETTE[i] for i in idx]


def camera(
    rng: np.random.Generator,
    eye: tuple[float, float, float],
    target: tuple[float, float, float],
    fov: float = 50.0,
    jitter: float = 0.08,
) -> CameraSpec:
    """The 64x64 default camera with its eye and target jittered by up to ``jitter`` m."""
    de = rng.uniform(-jitter, jitter, 3)
    dt = rng.uniform(-jitter / 2, jitter / 2, 3)
    return CameraSpec(
        width=64,
        height=64,
        fov=fov,
        eye=tuple(rnd(a + b) for a, b in zip(eye, de, strict=True)),
        target=tuple(rnd(a + b) for a, b in zip(target, dt, strict=True)),
        far=FAR,
    )


def world(
    duration: float,
    floor_restitution: float = 0.3,
    floor_friction: float = 0.6,
    rolling: float = 0.01,
) -> WorldSpec:
    """24 fps, 1/240 s physics, the light floor (``rolling``: its rolling resistance, m)."""
    return WorldSpec(
        fps=FPS,
        timestep=TIMESTEP,
        duration=duration,
        floor_restitution=floor_restitution,
        floor_friction=floor_friction,
        floor_rolling_friction=rolling,
    )


def light(shadows: bool = SHADOWS) -> LightSpec:
    """The default light (shadows off where a shadow would betray a hidden object)."""
    return LightSpec(shadows=shadows)


def quat_axis_angle(axis: tuple[float, float, float], angle: float) -> tuple[float, ...]:
    """Unit quaternion (x, y, z, w) rotating by ``angle`` rad about ``axis``."""
    a = np.asarray(axis, float)
    a = a / np.linalg.norm(a)
    s = math.sin(angle / 2)
    return tuple(float(v) for v in (*(a * s), math.cos(angle / 2)))


def quat_euler(roll: float, pitch: float, yaw: float) -> tuple[float, ...]:
    """Unit quaternion (x, y, z, w) of extrinsic x-y-z rotations (PyBullet's convention)."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    q = (
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
        cr * cp * cy + sr * sp * sy,
    )
    return tuple(rnd(v, 6) for v in q)


def quat_multiply(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    """The product ``a * b`` of quaternions (x, y, z, w): rotate by ``b``, then by ``a``."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def quat_rotate(q: tuple[float, ...], v: np.ndarray) -> np.ndarray:
    """``v`` rotated by the unit quaternion ``q`` (x, y, z, w)."""
    x, y, z, w = q
    u = np.array([x, y, z])
    return v + 2 * np.cross(u, np.cross(u, v) + w * v)


def half_height(shape: str, size: tuple[float, ...]) -> float:
    """Height of the centre above the floor when resting upright (axis along z)."""
    if shape == "sphere":
        return size[0]
    if shape == "box":
        return size[2]
    if shape == "capsule":
        return size[1] / 2 + size[0]
    return size[1] / 2  # cylinder


def half_extents(shape: str, size: tuple[float, ...]) -> tuple[float, float, float]:
    """Axis-aligned half extents of an upright body."""
    if shape == "sphere":
        return (size[0],) * 3
    if shape == "box":
        return (size[0], size[1], size[2])
    return (size[0], size[0], half_height(shape, size))


def aabb_corners(o: ObjectSpec | tuple, offset=(0.0, 0.0, 0.0)) -> np.ndarray:
    """(8, 3) corners of an upright body's box at its position (+ ``offset``).

    Accepts an ObjectSpec or a ``(shape, size, position)`` tuple.
    """
    shape, size, pos = (o.shape, o.size, o.position) if isinstance(o, ObjectSpec) else o
    h = np.asarray(half_extents(shape, size))
    c = np.asarray(pos, float) + np.asarray(offset, float)
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
    return c + signs * h


def bounding_radius(o: ObjectSpec) -> float:
    """Radius of a sphere around the body's centre that holds all of it."""
    if o.shape == "sphere":
        return o.size[0]
    if o.shape == "box":
        return float(np.linalg.norm(o.size))
    if o.shape in ("cylinder", "capsule"):
        extra = o.size[0] if o.shape == "capsule" else 0.0
        return float(math.hypot(o.size[0], o.size[1] / 2 + extra))
    return 0.15  # meshes: their scale is not their extent; a generous guess


def action_bounds(
    names: tuple[str, ...],
    objects: tuple[ObjectSpec, ...],
    positions: np.ndarray,
    present: np.ndarray,
    crowd: Callable[[str], bool] | None = None,
) -> np.ndarray:
    """(2, 3) box holding every moving body over the clip (positions (T, N, 3), present (T, N));
    static bodies (mass 0, no path) are scenery and do not count.

    Bodies for which ``crowd(name)`` is true (many small particles) count by their 5th-95th
    percentile, so one stray drop does not zoom the camera out.
    """
    pts, crowd_pts = [], []
    for i, o in enumerate(objects):
        if o.mass == 0 and not o.kinematic:
            continue
        p = positions[present[:, i], i]
        if not len(p):
            continue
        r = bounding_radius(o)
        if crowd is not None and crowd(names[i]):
            crowd_pts.append(p)
        else:
            pts.append(np.concatenate([p.min(0) - r, p.max(0) + r]).reshape(2, 3))
    out = [np.concatenate(pts)] if pts else []
    if crowd_pts:
        allp = np.concatenate(crowd_pts)
        out.append(np.percentile(allp, [5, 95], axis=0))
    b = np.concatenate(out)
    lo, hi = b.min(0), b.max(0)
    lo[2] = max(lo[2], 0.0)  # nothing to see below the floor
    return np.stack([lo, hi])


def sky_free_pitch(fov: float, sky: float = 0.05) -> float:
    """Smallest downward pitch (rad) that leaves at most ``sky`` of the frame above the horizon
    of an infinite floor (the horizon sits ``tan(pitch)`` above the image centre)."""
    return math.atan((1 - 2 * sky) * math.tan(math.radians(fov) / 2))


def framed_camera(
    rng: np.random.Generator,
    bounds: np.ndarray,
    fov: float = 50.0,
    azimuth: float = 20.0,
    pitch_extra: float = 10.0,
    fill: tuple[float, float] = (0.8, 0.92),
    size: int = 64,
    view_y: float = 1.0,
) -> CameraSpec:
    """A camera that looks at the centre of ``bounds`` (a (2, 3) box) from far enough that the
    whole box fits in ``fill`` of the frame, pitched down enough for < 5% sky.

    Randomised per scene: azimuth within ±``azimuth`` degrees of looking along ``view_y`` * +y,
    pitch up to ``pitch_extra`` degrees steeper than the sky-free minimum, fill in ``fill``.
    """
    az = math.radians(rng.uniform(-azimuth, azimuth))
    pitch = sky_free_pitch(fov) + math.radians(rng.uniform(0.0, pitch_extra))
    frac = rng.uniform(*fill)
    target = bounds.mean(axis=0)
    v = np.array([math.sin(az) * math.cos(pitch), view_y * math.cos(az) * math.cos(pitch), 0.0])
    v[2] = -math.sin(pitch)
    right = np.cross(v, (0.0, 0.0, 1.0))
    right /= np.linalg.norm(right)
    down = np.cross(v, right)
    tan_half = math.tan(math.radians(fov) / 2) * frac
    dist = 0.5
    for corner in aabb_corners(("box", tuple((bounds[1] - bounds[0]) / 2), target)):
        rel = corner - target
        depth = float(rel @ v)
        for lateral in (abs(float(rel @ right)), abs(float(rel @ down))):
            dist = max(dist, lateral / tan_half - depth)
    eye = target - dist * v
    return CameraSpec(
        width=size,
        height=size,
        fov=fov,
        eye=tuple(rnd(x) for x in eye),
        target=tuple(rnd(x) for x in target),
        near=0.05,
        far=FAR,
    )
