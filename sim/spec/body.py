"""Bodies and what happens to them: rigid objects (with kinematic keyframes), joints between
them and scripted pushes."""

from __future__ import annotations

from dataclasses import dataclass

from twinsim.sim.codec import check_fields
from twinsim.sim.errors import UnknownNameError
from twinsim.sim.errors import require as _check
from twinsim.sim.spec.limits import (
    COLLISIONS,
    EVENT_KINDS,
    MASS_RANGE,
    MAX_COORD,
    MAX_PUSH,
    MAX_SPEED,
    MAX_SPIN,
    MAX_TIME,
    SHAPES,
    SIZE_LEN,
    SIZE_RANGE,
    Collision,
    Color,
    EventKind,
    Quat,
    Shape,
    Vec3,
    bounded,
    check_color,
    in_range,
    unit_quat,
)

__all__ = ["EventSpec", "JointSpec", "Keyframe", "ObjectSpec"]


@dataclass(frozen=True)
class Keyframe:
    """A pose a kinematic body passes through at ``time``; poses between are interpolated."""

    time: float
    position: Vec3
    orientation: Quat = (0.0, 0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        check_fields(self)
        in_range("time", self.time, 0, MAX_TIME, " s")
        bounded("position", self.position, MAX_COORD, "m")
        unit_quat("orientation", self.orientation)


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
        lens = SIZE_LEN[self.shape]
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
        check_color("color", self.color)
        if self.shape == "mesh":
            _check(bool(self.mesh), "mesh", self.mesh, "a mesh object needs a mesh file path")
        else:
            _check(self.mesh is None, "mesh", self.mesh, "only shape 'mesh' takes a mesh file")
        if self.collision not in COLLISIONS:
            raise UnknownNameError("collision", self.collision, COLLISIONS)
        bounded("position", self.position, MAX_COORD, "m")
        unit_quat("orientation", self.orientation)
        bounded("linear_velocity", self.linear_velocity, MAX_SPEED, "m/s")
        bounded("angular_velocity", self.angular_velocity, MAX_SPIN, "rad/s")
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
        for name, unit in (("break_impulse", "N s"), ("break_force", "N")):
            v = getattr(self, name)
            if v is not None:
                _check(
                    0 < v <= MAX_PUSH,
                    name,
                    v,
                    f"must lie in (0, {MAX_PUSH:g}] {unit} (None: unbreakable)",
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
        in_range("time", self.time, 0, MAX_TIME, " s")
        if self.kind not in EVENT_KINDS:
            raise UnknownNameError("event kind", self.kind, EVENT_KINDS)
        bounded("vector", self.vector, MAX_PUSH, "N (or N s)")
        if self.point is not None:
            bounded("point", self.point, MAX_COORD, "m")
        in_range("duration", self.duration, 0, MAX_TIME, " s")
        _check(
            self.kind == "force" or self.duration == 0,
            "duration",
            self.duration,
            "an impulse is instantaneous: duration must be 0",
        )
