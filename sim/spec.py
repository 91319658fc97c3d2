"""The scene specification: a typed, validated, versioned, JSON-serialisable scene description.

Conventions (see docs/conventions.md for the full table):
    * World frame: right-handed, metres, z up, gravity along -z. The floor is the plane z = 0.
    * Orientations are quaternions (x, y, z, w), PyBullet's order.
    * Times are seconds from the start of the scene; frames are indices at ``world.fps``.
    * Sizes: sphere ``(radius,)``; box ``(half_x, half_y, half_z)``; cylinder and capsule
      ``(radius, length)`` with the axis along the body's local z; mesh ``(scale,)`` or
      ``(sx, sy, sz)``.

Every dataclass validates itself on construction and raises :class:`SpecError` naming the field,
the bad value and what is allowed. ``SceneSpec.from_json(spec.to_json()) == spec`` holds exactly.

Ranges (every number must also be finite, and every field have its annotated type):
    * coordinates (positions, eye, target, event points, teleport offsets): |x| <= 1e4 m;
    * sizes 1e-3..1e3 m; mass 0 (static) or 1e-3..1e5 kg; friction 0..10; restitution 0..1;
    * linear velocity |v| <= 1e3 m/s per axis, angular <= 1e4 rad/s; gravity <= 1e3 m/s^2;
    * event vectors <= 1e6 N (or N s) per axis; every time and duration 0..1e5 s;
    * colours 0..1; camera near 1e-4..far, far <= 1e5 m; ``up`` and light ``direction`` are
      non-zero vectors.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from twinsim.sim.codec import check_fields, decode, to_plain
from twinsim.sim.errors import SpecError, UnknownNameError
from twinsim.sim.errors import require as _check

__all__ = [
    "COLLISIONS",
    "EVENT_KINDS",
    "IMAGE_SIDE",
    "SHAPES",
    "SPEC_VERSION",
    "VIOLATIONS",
    "CameraKeyframe",
    "CameraSpec",
    "EventSpec",
    "JointSpec",
    "Keyframe",
    "LightSpec",
    "ObjectSpec",
    "SceneSpec",
    "Violation",
    "WorldSpec",
    "with_image_size",
]

SPEC_VERSION = 1

Shape = Literal["sphere", "box", "cylinder", "capsule", "mesh"]
SHAPES: tuple[str, ...] = get_args(Shape)
Collision = Literal["convex_hull", "vhacd"]
COLLISIONS: tuple[str, ...] = get_args(Collision)
EventKind = Literal["force", "impulse"]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
ViolationKind = Literal[
    "vanish",
    "appear",
    "teleport",
    "change_shape",
    "change_color",
    "pass_through",
    "no_shatter",
    "liquid_stays",
    "reassemble",
    "shards_vanish",
]
VIOLATIONS: tuple[str, ...] = get_args(ViolationKind)

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
Color = tuple[float, float, float, float]

_GROUP_KINDS = ("liquid_stays", "reassemble", "shards_vanish")
_SIZE_LEN = {"sphere": (1,), "box": (3,), "cylinder": (2,), "capsule": (2,), "mesh": (1, 3)}
_MAX_OBJECTS = 512
IMAGE_SIDE = (1, 4096)  # bounds of a camera's width and height, pixels
_MAX_PIXELS = IMAGE_SIDE[1] ** 2
_MAX_FRAMES = 100_000
MAX_COORD = 1e4  # m
MAX_TIME = 1e5  # s
SIZE_RANGE = (1e-5, 1e3)  # m (glass shards are sub-millimetre thin at their edges)
MASS_RANGE = (1e-5, 1e5)  # kg (0 = static); drops of liquid weigh ~0.3 g
MAX_SPEED = 1e3  # m/s
MAX_SPIN = 1e4  # rad/s
MAX_GRAVITY = 1e3  # m/s^2
MAX_PUSH = 1e6  # N or N s
MAX_FAR = 1e5  # m
MIN_NEAR = 1e-4  # m


def _finite(path: str, values: tuple[float, ...]) -> None:
    if not all(math.isfinite(v) for v in values):
        raise SpecError(path, values, "all components must be finite numbers")


def _bounded(path: str, values: tuple[float, ...], limit: float, unit: str) -> None:
    _finite(path, values)
    _check(all(abs(v) <= limit for v in values), path, values, f"|each| <= {limit:g} {unit}")


def _in(path: str, value: float, lo: float, hi: float, unit: str = "") -> None:
    _check(lo <= value <= hi, path, value, f"must lie in [{lo:g}, {hi:g}]{unit}")


def _direction(path: str, v: Vec3) -> float:
    """Norm of a direction vector, which must be finite and non-zero (normalisable)."""
    _bounded(path, v, 1e6, "(a direction)")
    norm = math.sqrt(sum(c * c for c in v))
    _check(norm > 1e-9, path, v, "must be a non-zero direction vector")
    return norm


def _unit_quat(path: str, q: Quat) -> None:
    _finite(path, q)
    norm = math.sqrt(sum(c * c for c in q))
    _check(abs(norm - 1.0) < 1e-3, path, q, "must be a unit quaternion (x, y, z, w), norm 1")


def _color(path: str, c: tuple[float, ...]) -> None:
    _check(all(0.0 <= v <= 1.0 for v in c), path, c, "colour components must lie in [0, 1]")


@dataclass(frozen=True)
class Keyframe:
    """A pose a kinematic body passes through at ``time``; poses between are interpolated."""

    time: float
    position: Vec3
    orientation: Quat = (0.0, 0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        check_fields(self)
        _in("time", self.time, 0, MAX_TIME, " s")
        _bounded("position", self.position, MAX_COORD, "m")
        _unit_quat("orientation", self.orientation)


@dataclass(frozen=True)
class ObjectSpec:
    """One rigid body. ``mass == 0`` makes it static; a non-empty ``path`` makes it kinematic.

    ``damping`` is PyBullet's linear and angular damping (velocity scaled by ``(1 - damping)``
    per second); 0, the default, is undamped motion (PyBullet's own default, 0.04, is not used).
    """

    name: str
    shape: Shape
    size: tuple[float, ...]
    mass: float = 1.0
    friction: float = 0.5
    restitution: float = 0.2
    color: Color = (0.8, 0.2, 0.2, 1.0)
    texture: str | None = None
    mesh: str | None = None
    collision: Collision = "convex_hull"
    position: Vec3 = (0.0, 0.0, 0.0)
    orientation: Quat = (0.0, 0.0, 0.0, 1.0)
    linear_velocity: Vec3 = (0.0, 0.0, 0.0)
    angular_velocity: Vec3 = (0.0, 0.0, 0.0)
    path: tuple[Keyframe, ...] = ()
    damping: float = 0.0

    def __post_init__(self) -> None:
        check_fields(self)
        _check(
            bool(self.name) and self.name.isprintable() and len(self.name) <= 64,
            "name",
            self.name,
            "must be a non-empty printable string of at most 64 characters",
        )
        if self.shape not in SHAPES:
            raise UnknownNameError("shape", self.shape, SHAPES)
        lens = _SIZE_LEN[self.shape]
        _check(
            len(self.size) in lens,
            "size",
            self.size,
            f"a {self.shape} takes {' or '.join(map(str, lens))} numbers",
        )
        lo, hi = SIZE_RANGE
        _check(all(lo <= s <= hi for s in self.size), "size", self.size, f"each in [{lo}, {hi}] m")
        _check(
            self.mass == 0 or MASS_RANGE[0] <= self.mass <= MASS_RANGE[1],
            "mass",
            self.mass,
            f"must be >= 0 kg: 0 (static) or in [{MASS_RANGE[0]:g}, {MASS_RANGE[1]:g}]",
        )
        _check(0 <= self.friction <= 10, "friction", self.friction, "must lie in [0, 10]")
        _check(0 <= self.restitution <= 1, "restitution", self.restitution, "must lie in [0, 1]")
        _check(0 <= self.damping <= 1, "damping", self.damping, "must lie in [0, 1]")
        _color("color", self.color)
        if self.shape == "mesh":
            _check(bool(self.mesh), "mesh", self.mesh, "a mesh object needs a mesh file path")
        else:
            _check(self.mesh is None, "mesh", self.mesh, "only shape 'mesh' takes a mesh file")
        if self.collision not in COLLISIONS:
            raise UnknownNameError("collision", self.collision, COLLISIONS)
        _bounded("position", self.position, MAX_COORD, "m")
        _unit_quat("orientation", self.orientation)
        _bounded("linear_velocity", self.linear_velocity, MAX_SPEED, "m/s")
        _bounded("angular_velocity", self.angular_velocity, MAX_SPIN, "rad/s")
        times = [k.time for k in self.path]
        _check(times == sorted(times), "path", times, "keyframe times must be non-decreasing")

    @property
    def kinematic(self) -> bool:
        """True when the body follows a scripted path instead of the physics."""
        return bool(self.path)


@dataclass(frozen=True)
class JointSpec:
    """A fixed constraint between two bodies at their initial relative pose.

    ``break_impulse`` (N s): the joint is removed once a contact impulse on either body within one
    physics step exceeds it. ``break_force`` (N): the joint is removed once the force it has to
    transmit to hold the two bodies together exceeds it (a stress limit: an impact that stops one
    fragment abruptly tears it from its neighbours); such joints are brittle: once a body has
    lost one, its other ``break_force`` joints hold a tenth of their force (cracks run on).
    None for both makes it unbreakable.
    """

    parent: str
    child: str
    break_impulse: float | None = None
    break_force: float | None = None

    def __post_init__(self) -> None:
        check_fields(self)
        _check(self.parent != self.child, "child", self.child, "must differ from parent")
        if self.break_impulse is not None:
            _check(
                0 < self.break_impulse <= MAX_PUSH,
                "break_impulse",
                self.break_impulse,
                f"must lie in (0, {MAX_PUSH:g}] N s (None: unbreakable)",
            )
        if self.break_force is not None:
            _check(
                0 < self.break_force <= MAX_PUSH,
                "break_force",
                self.break_force,
                f"must lie in (0, {MAX_PUSH:g}] N (None: unbreakable)",
            )

    @property
    def breakable(self) -> bool:
        return self.break_impulse is not None or self.break_force is not None


@dataclass(frozen=True)
class EventSpec:
    """A scripted push: an impulse at ``time`` or a force held over ``[time, time + duration]``.

    ``vector`` is in world coordinates (N for force, N s for impulse); ``point`` is a world-frame
    point of application (None: the centre of mass).
    """

    time: float
    body: str
    kind: EventKind
    vector: Vec3
    point: Vec3 | None = None
    duration: float = 0.0

    def __post_init__(self) -> None:
        check_fields(self)
        _in("time", self.time, 0, MAX_TIME, " s")
        if self.kind not in EVENT_KINDS:
            raise UnknownNameError("event kind", self.kind, EVENT_KINDS)
        _bounded("vector", self.vector, MAX_PUSH, "N (or N s)")
        if self.point is not None:
            _bounded("point", self.point, MAX_COORD, "m")
        _in("duration", self.duration, 0, MAX_TIME, " s")
        _check(
            self.kind == "force" or self.duration == 0,
            "duration",
            self.duration,
            "an impulse is instantaneous: duration must be 0",
        )


@dataclass(frozen=True)
class CameraKeyframe:
    """Camera eye and target at ``time`` (linear interpolation between keyframes)."""

    time: float
    eye: Vec3
    target: Vec3

    def __post_init__(self) -> None:
        check_fields(self)
        _in("time", self.time, 0, MAX_TIME, " s")
        _bounded("eye", self.eye, MAX_COORD, "m")
        _bounded("target", self.target, MAX_COORD, "m")
        _check(self.eye != self.target, "target", self.target, "must differ from eye")


@dataclass(frozen=True)
class CameraSpec:
    """A pinhole camera looking from ``eye`` at ``target``; ``fov`` is the vertical angle (deg)."""

    name: str = "main"
    width: int = 64
    height: int = 64
    fov: float = 60.0
    eye: Vec3 = (0.0, -3.0, 1.5)
    target: Vec3 = (0.0, 0.0, 0.4)
    up: Vec3 = (0.0, 0.0, 1.0)
    near: float = 0.05
    far: float = 20.0
    path: tuple[CameraKeyframe, ...] = ()

    def __post_init__(self) -> None:
        check_fields(self)
        lo, hi = IMAGE_SIDE
        for f in ("width", "height"):
            v = getattr(self, f)
            _check(lo <= v <= hi, f, v, f"must be an integer pixel count in [{lo}, {hi}]")
        _check(self.width * self.height <= _MAX_PIXELS, "width", self.width, "image too large")
        _check(1.0 <= self.fov <= 170.0, "fov", self.fov, "must lie in [1, 170] degrees")
        _bounded("eye", self.eye, MAX_COORD, "m")
        _bounded("target", self.target, MAX_COORD, "m")
        _check(self.eye != self.target, "target", self.target, "must differ from eye")
        _check(
            MIN_NEAR <= self.near < self.far, "near", self.near, f"need {MIN_NEAR:g} <= near < far"
        )
        _check(self.far <= MAX_FAR, "far", self.far, f"must be <= {MAX_FAR:g} m")
        _direction("up", self.up)  # parallel to the view is fine: look_at picks a perpendicular
        times = [k.time for k in self.path]
        _check(times == sorted(times), "path", times, "keyframe times must be non-decreasing")


@dataclass(frozen=True)
class LightSpec:
    """One directional light plus ambient term (both renderers use it)."""

    direction: Vec3 = (0.4, -0.5, 1.0)
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    ambient: float = 0.5
    diffuse: float = 0.6
    specular: float = 0.1
    shadows: bool = True

    def __post_init__(self) -> None:
        check_fields(self)
        _direction("direction", self.direction)
        _color("color", self.color)
        for f in ("ambient", "diffuse", "specular"):
            v = getattr(self, f)
            _check(0 <= v <= 1, f, v, "must lie in [0, 1]")


@dataclass(frozen=True)
class WorldSpec:
    """Physics and timing. Each frame advances ``1 / fps`` s in ``timestep``-sized physics steps.

    ``floor_rolling_friction`` (m) and ``floor_spinning_friction`` are Bullet's rolling and
    spinning resistance of the floor, combined with each body's friction (see docs/families.md
    for why the defaults are what they are).
    """

    gravity: Vec3 = (0.0, 0.0, -9.81)
    timestep: float = 1.0 / 240.0
    substeps: int = 1
    fps: float = 24.0
    duration: float = 2.0
    floor: bool = True
    floor_color: Color = (0.85, 0.85, 0.8, 1.0)
    floor_friction: float = 0.6
    floor_restitution: float = 0.3
    floor_rolling_friction: float = 0.01
    floor_spinning_friction: float = 0.01

    def __post_init__(self) -> None:
        check_fields(self)
        _bounded("gravity", self.gravity, MAX_GRAVITY, "m/s^2")
        for f in ("floor_friction", "floor_rolling_friction", "floor_spinning_friction"):
            v = getattr(self, f)
            _check(0 <= v <= 10 and math.isfinite(v), f, v, "must lie in [0, 10]")
        _check(
            0 <= self.floor_restitution <= 1,
            "floor_restitution",
            self.floor_restitution,
            "must lie in [0, 1]",
        )
        _check(1e-5 <= self.timestep <= 0.1, "timestep", self.timestep, "must lie in [1e-5, 0.1] s")
        _check(1 <= self.substeps <= 100, "substeps", self.substeps, "must lie in [1, 100]")
        _check(0 < self.fps <= 1000, "fps", self.fps, "must lie in (0, 1000]")
        ratio = 1.0 / (self.fps * self.timestep)
        _check(
            abs(ratio - round(ratio)) < 1e-6 and round(ratio) >= 1,
            "fps",
            self.fps,
            f"1/fps must be a whole multiple of timestep={self.timestep} "
            f"(e.g. fps={1 / (self.timestep * max(1, round(ratio))):g})",
        )
        _check(0 < self.duration <= MAX_TIME, "duration", self.duration, f"in (0, {MAX_TIME:g}] s")
        _check(
            self.duration * self.fps <= _MAX_FRAMES,
            "duration",
            self.duration,
            f"too many frames; at most {_MAX_FRAMES} frames per scene",
        )
        _color("floor_color", self.floor_color)
        _in("floor_friction", self.floor_friction, 0, 10)
        _in("floor_restitution", self.floor_restitution, 0, 1)

    @property
    def steps_per_frame(self) -> int:
        """Physics steps between consecutive frames."""
        return round(1.0 / (self.fps * self.timestep))

    @property
    def num_frames(self) -> int:
        """Rendered frames, including frame 0 at t = 0."""
        return round(self.duration * self.fps) + 1


@dataclass(frozen=True)
class Violation:
    """A labelled break of physics from ``frame`` on (the impossible twin of a possible scene).

    Kinds:
        vanish: ``body`` disappears (invisible, no collisions) from ``frame`` on.
        appear: ``body`` is absent before ``frame`` and present from it on; its possible twin has
            no such body at all (IntPhys' reversed vanish).
        teleport: ``body`` jumps by ``offset`` (m) at ``frame``.
        change_shape: ``body`` becomes ``new_shape`` of ``new_size`` at ``frame``.
        change_color: ``body`` takes ``new_color`` at ``frame``.
        pass_through: ``body`` stops colliding with ``other`` at ``frame``.
        no_shatter: from ``frame`` on, no breakable joint breaks (the glass lands intact).
        liquid_stays: from ``frame`` on, every body of ``group`` (the liquid) is held at its pose
            relative to ``body`` (the glass), so nothing pours out of an overturned glass.
        reassemble: at ``frame`` every body of ``group`` (the shards) jumps back to its initial
            pose relative to ``body`` and the broken joints hold again (the glass is whole).
        shards_vanish: ``body`` and every body of ``group`` (the shards) disappear at ``frame``
            (like ``vanish``).
    """

    kind: ViolationKind
    body: str
    frame: int
    offset: Vec3 = (0.0, 0.0, 0.0)
    new_shape: Shape | None = None
    new_size: tuple[float, ...] = ()
    new_color: Color | None = None
    other: str | None = None
    group: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_fields(self)
        if self.kind not in VIOLATIONS:
            raise UnknownNameError("violation", self.kind, VIOLATIONS)
        _bounded("offset", self.offset, MAX_COORD, "m")
        lo, hi = SIZE_RANGE
        _check(
            all(lo <= s <= hi for s in self.new_size),
            "new_size",
            self.new_size,
            f"each in [{lo}, {hi}] m",
        )
        _check(self.frame >= 1, "frame", self.frame, "must be >= 1 (frame 0 is always possible)")
        if self.kind == "teleport":
            _check(any(self.offset), "offset", self.offset, "a teleport needs a non-zero offset")
        if self.kind == "change_shape":
            _check(self.new_shape in SHAPES, "new_shape", self.new_shape, f"one of {SHAPES}")
            _check(
                len(self.new_size) in _SIZE_LEN[self.new_shape or "sphere"],
                "new_size",
                self.new_size,
                "must match new_shape",
            )
        if self.kind == "change_color":
            _check(self.new_color is not None, "new_color", None, "change_color needs a colour")
            _color("new_color", self.new_color or (0, 0, 0, 0))
        if self.kind == "pass_through":
            _check(bool(self.other), "other", self.other, "pass_through needs the solid's name")
        if self.kind in _GROUP_KINDS:
            _check(bool(self.group), "group", self.group, f"{self.kind} needs the bodies it moves")
            _check(self.body not in self.group, "group", self.group, "must not hold ``body``")


@dataclass(frozen=True)
class SceneSpec:
    """A complete, reproducible scene: bodies, joints, scripted events, cameras, light, world."""

    objects: tuple[ObjectSpec, ...]
    cameras: tuple[CameraSpec, ...] = (CameraSpec(),)
    light: LightSpec = field(default_factory=LightSpec)
    world: WorldSpec = field(default_factory=WorldSpec)
    joints: tuple[JointSpec, ...] = ()
    events: tuple[EventSpec, ...] = ()
    violation: Violation | None = None
    family: str | None = None
    seed: int = 0
    version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        check_fields(self)
        _check(
            self.version == SPEC_VERSION,
            "version",
            self.version,
            f"this twinsim reads spec version {SPEC_VERSION}",
        )
        _check(len(self.objects) <= _MAX_OBJECTS, "objects", len(self.objects), "too many bodies")
        _check(len(self.cameras) >= 1, "cameras", self.cameras, "need at least one camera")
        names = [o.name for o in self.objects]
        dup = sorted({n for n in names if names.count(n) > 1})
        _check(not dup, "objects", dup, "object names must be unique")
        cams = [c.name for c in self.cameras]
        _check(len(set(cams)) == len(cams), "cameras", cams, "camera names must be unique")
        known = set(names)
        for i, j in enumerate(self.joints):
            for role in ("parent", "child"):
                if getattr(j, role) not in known:
                    raise SpecError(
                        f"joints[{i}].{role}",
                        getattr(j, role),
                        f"must name a body: {sorted(known)}",
                    )
        for i, e in enumerate(self.events):
            if e.body not in known:
                raise SpecError(f"events[{i}].body", e.body, f"must name a body: {sorted(known)}")
        v = self.violation
        if v is not None:
            if v.body not in known:
                raise SpecError("violation.body", v.body, f"must name a body: {sorted(known)}")
            if v.other is not None and v.other not in known:
                raise SpecError("violation.other", v.other, f"must name a body: {sorted(known)}")
            for i, g in enumerate(v.group):
                if g not in known:
                    raise SpecError(f"violation.group[{i}]", g, "must name a body of the scene")
            _check(
                v.frame < self.world.num_frames,
                "violation.frame",
                v.frame,
                f"must be < the scene's {self.world.num_frames} frames",
            )
        _check(0 <= self.seed < 2**63, "seed", self.seed, "must be an integer in [0, 2**63)")

    # -- convenience -------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """Object names in spec order; segmentation id ``i + 1`` is ``names[i]``."""
        return tuple(o.name for o in self.objects)

    def object(self, name: str) -> ObjectSpec:
        """The object called ``name``; raises UnknownNameError listing the valid names."""
        for o in self.objects:
            if o.name == name:
                return o
        raise UnknownNameError("body", name, self.names)

    def possible_twin(self) -> SceneSpec:
        """The physically possible scene this one is the impossible twin of (itself if possible).

        For ``appear`` the possible twin has no such body at all, so both scenes agree on every
        frame before the violation.
        """
        v = self.violation
        if v is None:
            return self
        if v.kind != "appear":
            return dataclasses.replace(self, violation=None)
        return dataclasses.replace(
            self,
            violation=None,
            objects=tuple(o for o in self.objects if o.name != v.body),
            joints=tuple(j for j in self.joints if v.body not in (j.parent, j.child)),
            events=tuple(e for e in self.events if e.body != v.body),
        )

    # -- JSON --------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return to_plain(self)

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise to JSON; ``SceneSpec.from_json(s.to_json()) == s``."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Any) -> SceneSpec:
        """Build and validate from a plain dict; errors name the field path."""
        return decode(cls, data, "spec")

    @classmethod
    def from_json(cls, text: str) -> SceneSpec:
        """Parse and validate JSON text; raises SpecError naming the bad field."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError("spec", text[:40], f"must be valid JSON ({exc})") from None
        return cls.from_dict(data)


def with_image_size(spec: SceneSpec, size: int, *, field: str = "size") -> SceneSpec:
    """``spec`` with every camera ``size`` x ``size`` pixels.

    Raises:
        SpecError: naming ``field`` when ``size`` is not an integer in :data:`IMAGE_SIDE`.
    """
    lo, hi = IMAGE_SIDE
    ok = isinstance(size, int) and not isinstance(size, bool) and lo <= size <= hi
    _check(ok, field, size, f"must be an integer pixel count in [{lo}, {hi}]")
    cams = tuple(dataclasses.replace(c, width=size, height=size) for c in spec.cameras)
    return dataclasses.replace(spec, cameras=cams)
