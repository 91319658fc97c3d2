"""Parsed requests -> validated scene specs, with the camera framed on where things will move.

Layout conventions: the floor is z = 0, objects move along +x, the camera looks along +y from
-y. Each built scene records which object is the main one ("it") and which the target, so the
answer can read the right tracks from the engine's labels.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from twinsim.bridge.grammar import (
    COLORS,
    MATERIALS,
    Drop,
    FamilyScene,
    Motion,
    ObjectPhrase,
    PlannerError,
    Question,
    Request,
    Tower,
)
from twinsim.sim import CameraSpec, EventSpec, LightSpec, ObjectSpec, SceneSpec, WorldSpec

__all__ = ["Plan", "SceneLimits", "plan_scene"]

G = 9.81
_FPS = 24.0
_TIMESTEP = 1.0 / 240.0
_DEFAULT_HALF = {"sphere": 0.1, "box": 0.1, "cylinder": 0.08, "capsule": 0.06}
_DEFAULT_COLORS = ("red", "blue", "green", "orange", "purple", "teal", "magenta", "brown")
_DEFAULT_SPEED = {"roll": 1.5, "throw": 3.5, "push": 1.5}


@dataclass(frozen=True)
class SceneLimits:
    """Bounds on what a worded request may build (the tools pass their per-call limits)."""

    max_height: float = 20.0
    max_speed: float = 20.0
    max_objects: int = 16
    max_duration: float = 6.0
    size: int = 128

    def __post_init__(self) -> None:
        if not 8 <= self.size <= 4096:
            raise ValueError(f"size must lie in [8, 4096] pixels, got {self.size}")


@dataclass(frozen=True)
class Plan:
    """A scene built from words: the spec, the main object ("it") and its target, if any."""

    spec: SceneSpec
    main: str | None
    target: str | None
    kind: str  # "drop" | "roll" | "throw" | "push" | "tower" | "family"


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise PlannerError(message, [])


def _half(obj: ObjectPhrase) -> float:
    return obj.size if obj.size is not None else _DEFAULT_HALF[obj.shape]


def _size(obj: ObjectPhrase) -> tuple[float, ...]:
    h = _half(obj)
    return {
        "sphere": (h,),
        "box": (h, h, h),
        "cylinder": (h, 2 * h),
        "capsule": (h, 2 * h),
    }[obj.shape]


def _half_height(obj: ObjectPhrase) -> float:
    """Half the object's extent along z, upright."""
    h = _half(obj)
    return {"sphere": h, "box": h, "cylinder": h, "capsule": 2 * h}[obj.shape]


def _volume(obj: ObjectPhrase) -> float:
    h = _half(obj)
    return {
        "sphere": 4 / 3 * math.pi * h**3,
        "box": 8 * h**3,
        "cylinder": math.pi * h * h * 2 * h,
        "capsule": math.pi * h * h * 2 * h + 4 / 3 * math.pi * h**3,
    }[obj.shape]


def _name(obj: ObjectPhrase, taken: set[str]) -> str:
    base = "_".join(w for w in (obj.color, obj.word) if w)
    name, i = base, 2
    while name in taken:
        name, i = f"{base}{i}", i + 1
    taken.add(name)
    return name


def _body(
    obj: ObjectPhrase,
    name: str,
    position: tuple[float, float, float],
    color_index: int,
    **overrides: object,
) -> ObjectSpec:
    density, restitution, friction = MATERIALS.get(obj.material or "", (0.0, 0.5, 0.5))
    mass = round(density * _volume(obj), 4) if density else 1.0
    color = COLORS[obj.color or _DEFAULT_COLORS[color_index % len(_DEFAULT_COLORS)]]
    fields: dict[str, object] = {
        "name": name,
        "shape": obj.shape,
        "size": tuple(round(s, 5) for s in _size(obj)),
        "mass": max(mass, 0.01),
        "restitution": restitution,
        "friction": friction,
        "color": color,
        "position": tuple(round(p, 5) for p in position),
    }
    fields.update(overrides)
    return ObjectSpec(**fields)  # type: ignore[arg-type]


def _camera(
    xs: tuple[float, float], zs: tuple[float, float], size: int, fov: float = 50.0
) -> CameraSpec:
    """A camera on -y that sees x in ``xs`` and z in ``zs`` with a margin."""
    cx, cz = (xs[0] + xs[1]) / 2, (zs[0] + zs[1]) / 2
    half_w = (xs[1] - xs[0]) / 2 + 0.25
    half_h = (zs[1] - zs[0]) / 2 + 0.2
    t = math.tan(math.radians(fov) / 2)
    dist = max(half_w / t, half_h / t, 1.2) * 1.1
    eye = (round(cx, 4), round(-dist, 4), round(cz + 0.25 * dist, 4))
    return CameraSpec(
        width=size,
        height=size,
        fov=fov,
        eye=eye,
        target=(round(cx, 4), 0.0, round(cz, 4)),
        far=max(20.0, 3 * dist),
    )


def _world(duration: float, limits: SceneLimits) -> WorldSpec:
    duration = min(max(duration, 1.0), limits.max_duration)
    # a hard floor (restitution 0.7, about concrete's): balls bounce as people expect
    return WorldSpec(
        fps=_FPS, timestep=_TIMESTEP, duration=round(duration, 3), floor_restitution=0.7
    )


def _light() -> LightSpec:
    return LightSpec(shadows=False)


def _drop(cmd: Drop, limits: SceneLimits) -> Plan:
    _check(
        0 < cmd.height <= limits.max_height, f"drop height must lie in (0, {limits.max_height:g}] m"
    )
    taken: set[str] = set()
    objs, target_name, base = [], None, 0.0
    if cmd.target is not None:
        target_name = _name(cmd.target, taken)
        th = _half_height(cmd.target)
        objs.append(_body(cmd.target, target_name, (0.0, 0.0, th + 0.001), 1, mass=2.0))
        base = 2 * th
    _check(
        cmd.height > base + 0.01,
        f"the drop height {cmd.height:g} m must be above the {cmd.target.describe() if cmd.target else 'floor'}'s"
        f" top ({base:.2f} m)",
    )
    main = _name(cmd.obj, taken)
    hh = _half_height(cmd.obj)
    objs.insert(0, _body(cmd.obj, main, (0.0, 0.0, cmd.height + hh), 0))
    fall = math.sqrt(2 * (cmd.height - base) / G)
    top = cmd.height + 2 * hh
    spec = SceneSpec(
        objects=tuple(objs),
        cameras=(_camera((-0.5, 0.5), (0.0, top), limits.size),),
        light=_light(),
        world=_world(fall + 2.0, limits),
    )
    return Plan(spec, main, target_name, "drop")


def _motion(cmd: Motion, limits: SceneLimits) -> Plan:
    speed = cmd.speed if cmd.speed is not None else _DEFAULT_SPEED[cmd.verb]
    _check(0 < speed <= limits.max_speed, f"speed must lie in (0, {limits.max_speed:g}] m/s")
    taken: set[str] = set()
    main = _name(cmd.obj, taken)
    hh, r = _half_height(cmd.obj), _half(cmd.obj)
    x0, xs, zs, duration = -0.8, [-0.8, 0.8], [0.0, 2 * hh + 0.2], 2.5
    overrides: dict[str, object] = {}
    events: tuple[EventSpec, ...] = ()
    if cmd.verb == "throw":
        angle = cmd.angle if cmd.angle is not None else 60.0
        _check(0 < angle < 90, "a throw's angle must lie in (0, 90) degrees above the horizontal")
        a = math.radians(angle)
        vx, vz = speed * math.cos(a), speed * math.sin(a)
        reach = 2 * vx * vz / G
        apex = vz * vz / (2 * G)
        x0 = -reach / 2
        xs, zs = [x0, reach / 2 + 0.6], [0.0, apex + 2 * hh]
        overrides["linear_velocity"] = (round(vx, 5), 0.0, round(vz, 5))
        duration = 2 * vz / G + 2.0
    elif cmd.verb == "roll":
        overrides["linear_velocity"] = (round(speed, 5), 0.0, 0.0)
        if cmd.obj.shape in ("sphere",):
            overrides["angular_velocity"] = (0.0, round(speed / r, 5), 0.0)
        xs = [x0, x0 + min(speed * 1.5, 4.0)]
    else:  # push: an impulse at 0.3 s gives the body the asked speed
        xs = [x0, x0 + min(speed * 1.2, 4.0)]
    objs = []
    target_name = None
    if cmd.target is not None:
        target_name = _name(cmd.target, taken)
        th = _half_height(cmd.target)
        tx = x0 + 0.9
        objs.append(_body(cmd.target, target_name, (tx, 0.0, th + 0.001), 1))
        xs = [min(xs[0], tx), max(xs[1], tx + 1.0)]
        zs[1] = max(zs[1], 2 * th + 0.2)
    if cmd.obj.shape == "cylinder" and cmd.verb == "roll":  # roll on its side, axis along y
        overrides["orientation"] = (round(math.sqrt(0.5), 6), 0.0, 0.0, round(math.sqrt(0.5), 6))
        overrides["angular_velocity"] = (0.0, round(speed / r, 5), 0.0)
        hh = r
    body = _body(cmd.obj, main, (x0, 0.0, hh + 0.001), 0, **overrides)
    if cmd.verb == "push":
        events = (
            EventSpec(
                time=0.3, body=main, kind="impulse", vector=(round(body.mass * speed, 5), 0.0, 0.0)
            ),
        )
    spec = SceneSpec(
        objects=(body, *objs),
        cameras=(_camera((xs[0], xs[1]), (zs[0], zs[1]), limits.size),),
        light=_light(),
        world=_world(duration, limits),
        events=events,
    )
    return Plan(spec, main, target_name, cmd.verb)


def _tower(cmd: Tower, limits: SceneLimits) -> Plan:
    _check(
        1 <= cmd.count <= limits.max_objects,
        f"a tower takes 1 to {limits.max_objects} blocks (the object limit), got {cmd.count}",
    )
    block = cmd.block
    if block.shape == "sphere":
        raise PlannerError("balls do not stack: ask for a tower of boxes, blocks or cylinders", [])
    half = _half(block)
    hh = _half_height(block)
    offset = cmd.offset if cmd.offset is not None else (0.4 * half if cmd.leaning else 0.0)
    _check(abs(offset) <= 4 * half, f"each shift must be at most {4 * half:g} m for these blocks")
    taken: set[str] = set()
    objs, z = [], 0.0
    x0 = -offset * (cmd.count - 1) / 2
    for i in range(cmd.count):
        z += hh + 0.001
        name = _name(dataclasses.replace(block, word=f"{block.word}{i}"), taken)
        objs.append(_body(block, name, (x0 + i * offset, 0.0, z), i, friction=0.7, restitution=0.1))
        z += hh
    width = max(abs(x0) + half, 0.3) + z / 2  # room for it to topple sideways
    spec = SceneSpec(
        objects=tuple(objs),
        cameras=(_camera((-width, width), (0.0, z + 0.1), limits.size),),
        light=_light(),
        world=_world(3.0, limits),
    )
    return Plan(spec, objs[-1].name, None, "tower")


def _family(cmd: FamilyScene, limits: SceneLimits) -> Plan:
    from twinsim.sim import sample_scene

    try:
        spec = sample_scene(cmd.family, cmd.seed, impossible=cmd.violation)
    except (KeyError, ValueError) as exc:  # a kind the family lacks (UnknownNameError/SpecError)
        raise PlannerError(str(exc), []) from None
    _check(
        len(spec.objects) <= limits.max_objects,
        f"{cmd.family} seed {cmd.seed} has {len(spec.objects)} bodies; the limit is {limits.max_objects}",
    )
    cams = tuple(
        dataclasses.replace(c, width=limits.size, height=limits.size) for c in spec.cameras
    )
    world = spec.world
    if world.duration > limits.max_duration:
        world = dataclasses.replace(world, duration=limits.max_duration)
    spec = dataclasses.replace(spec, cameras=cams, world=world)
    main = (
        spec.violation.body
        if spec.violation
        else next(
            (o.name for o in spec.objects if o.mass > 0 and not o.kinematic), spec.objects[0].name
        )
    )
    return Plan(spec, main, None, "family")


def _default_command(q: Question) -> Drop | Motion:
    """The scene a bare question implies: 'where does the ball land' throws it, and so on."""
    obj = q.subject or ObjectPhrase("sphere", "ball")
    if q.kind in ("land", "distance", "rest"):
        return Motion("throw", obj)
    if q.kind == "hit" and isinstance(q.target, ObjectPhrase):
        return Drop(obj, 1.5, q.target)
    return Drop(obj, 1.0)


def plan_scene(request: Request, limits: SceneLimits | None = None) -> Plan:
    """Build the validated scene a parsed request describes.

    Raises:
        PlannerError: a value out of range (height, speed, block count...) or a combination the
            planner cannot build; the message names the value and the allowed range.
    """
    limits = limits or SceneLimits()
    cmd = request.command
    if cmd is None:
        if request.question is None or request.question.kind == "next":
            raise PlannerError("this request has no scene to build", [])
        cmd = _default_command(request.question)
    if isinstance(cmd, Drop):
        plan = _drop(cmd, limits)
    elif isinstance(cmd, Motion):
        plan = _motion(cmd, limits)
    elif isinstance(cmd, Tower):
        plan = _tower(cmd, limits)
    else:
        plan = _family(cmd, limits)
    _check(
        len(plan.spec.objects) <= limits.max_objects,
        f"{len(plan.spec.objects)} bodies exceed the limit of {limits.max_objects}",
    )
    return plan
