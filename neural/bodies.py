"""A fitted body's final state: its rest pose on the floor, its spin, and where it is after
frames out of sight (moving scenery along its path, anything else simulated alone, or among the
bodies in view where alone it would pass through one)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.spatial.transform import Rotation
from twinsim.neural.kinematics import FPS
from twinsim.neural.refine import FrameFit
from twinsim.neural.settle import at_rest, held, stopped
from twinsim.sim.spec import Keyframe, ObjectSpec, SceneSpec, WorldSpec

__all__ = [
    "LEVEL_TOLERANCE_DEG",
    "angular_velocity",
    "carried",
    "flat_box",
    "level_cylinder",
    "moving_scenery",
    "nearest_flip",
    "propagate",
    "unblocked",
]


# a grounded cylinder's fitted pose this close to standing or lying is taken as resting there
LEVEL_TOLERANCE_DEG = 20.0
# fewer orientations of a body in flight give its spin from the last two alone
_SPIN_MIN_FRAMES = 3
# a carried body ending deeper than this (and than a frame's travel) inside a body in view
# went through it
_BLOCKED_DEPTH = 0.005  # m
# a box's pose is the same body turned half a turn about any of its axes
_BOX_FLIPS = Rotation.from_euler("xyz", [[0, 0, 0], [180, 0, 0], [0, 180, 0], [0, 0, 180]], True)


def flat_box(fit: FrameFit, base: float = 0.0) -> FrameFit:
    """The box turned to lie on the face nearest to down, at its fitted yaw, on the level
    surface at height ``base`` (m; the floor by default, or the top of a box it rests on)."""
    R = Rotation.from_quat(fit.orientation).as_matrix()
    up = int(np.argmax(np.abs(R[2])))
    rest = [i for i in range(3) if i != up]
    a = R[:, rest[0]]
    yaw = math.atan2(a[1], a[0])
    size = (fit.size[rest[0]], fit.size[rest[1]], fit.size[up])
    q = Rotation.from_euler("z", yaw).as_quat()
    pos = np.array([fit.position[0], fit.position[1], base + size[2]])
    return dataclasses.replace(fit, size=size, orientation=q, position=pos)


def level_cylinder(fit: FrameFit, base: float = 0.0) -> FrameFit:
    """The cylinder at rest on the level surface at height ``base`` (m; the floor by default)
    in the pose nearest its fit, when that is within
    :data:`LEVEL_TOLERANCE_DEG`: standing on a cap, or lying on its side with its axis level
    at the fitted heading. A tilt and float that small is fitting noise, and the engine turned
    it into a body landing on its rim (an upright cylinder fitted lying, dipped 17 degrees and
    2 cm up, sliding at 2 m/s, tumbled and rolled away sideways); a larger one is real (a tall
    cylinder fitted exactly at 24 degrees off lying leans on the box that pushed it, and laid
    flat it lost 6.1 dB)."""
    radius, height = fit.size[0], fit.size[1]
    axis = Rotation.from_quat(fit.orientation).as_matrix()[:, 2]
    x, y = float(fit.position[0]), float(fit.position[1])
    tilt = math.degrees(math.asin(min(1.0, abs(float(axis[2])))))  # of the axis above level
    if tilt >= 90.0 - LEVEL_TOLERANCE_DEG:
        return dataclasses.replace(
            fit,
            orientation=np.array([0.0, 0.0, 0.0, 1.0]),
            position=np.array([x, y, base + height / 2]),
        )
    if tilt > LEVEL_TOLERANCE_DEG:
        return fit
    heading = math.atan2(axis[1], axis[0])
    # the cylinder's axis (its z) laid along the heading: pitch 90 degrees, then yaw
    q = Rotation.from_euler("yz", [90.0, math.degrees(heading)], degrees=True).as_quat()
    return dataclasses.replace(fit, orientation=q, position=np.array([x, y, base + radius]))


def propagate(
    obj: ObjectSpec, frames: int, world: WorldSpec, others: tuple[ObjectSpec, ...] = ()
) -> ObjectSpec:
    """Advance one body by ``frames`` frames with the engine (a hidden object's state), alone
    or among ``others``."""
    if frames <= 0 or obj.mass == 0:
        return obj
    from twinsim.sim import World

    w = dataclasses.replace(world, duration=max(frames, 1) / world.fps)
    spec = SceneSpec(objects=(obj, *others), world=w)
    with World(spec) as sim:
        for _ in range(frames):
            sim.step_frame()
        pos, orn = sim.pose(obj.name)
        lin, ang = sim.velocity(obj.name)
    return dataclasses.replace(
        obj,
        position=tuple(pos),
        orientation=tuple(orn),
        linear_velocity=tuple(lin),
        angular_velocity=tuple(ang),
    )


def angular_velocity(fits: dict[int, FrameFit], final: FrameFit, vel, grounded: bool) -> np.ndarray:
    """(3,) rad/s: a ball or cylinder on the floor rolls with ``vel`` (a cylinder only about its
    axis, in the ``final`` pose); a body in flight at the constant spin fitted to all its ``fits``
    (:func:`_flight_spin`; as its last two turned where it has fewer than three)."""
    ts = sorted(fits)
    shape, size = final.shape, final.size
    if shape == "sphere" or (grounded and shape == "cylinder"):
        if not grounded:
            return np.zeros(3)
        w = np.cross([0.0, 0.0, 1.0], vel) / size[0]
        if shape == "cylinder":  # only about its own axis
            axis = Rotation.from_quat(final.orientation).as_matrix()[:, 2]
            w = axis * float(axis @ w)
        return w
    if grounded or len(ts) < 2:
        return np.zeros(3)
    if len(ts) >= _SPIN_MIN_FRAMES:
        return _flight_spin([fits[t] for t in ts], np.array(ts, float) / FPS)
    r0 = Rotation.from_quat(fits[ts[-2]].orientation)
    r1 = Rotation.from_quat(fits[ts[-1]].orientation)
    dt = (ts[-1] - ts[-2]) / FPS
    return (r1 * r0.inv()).as_rotvec() / dt


def nearest_flip(r: Rotation, prev: Rotation) -> Rotation:
    """Of a box's pose ``r`` and its half turns about its own axes (which look alike), the one
    nearest ``prev``."""
    cands = r * _BOX_FLIPS
    return cands[int(np.argmin((cands * prev.inv()).magnitude()))]


def _flight_spin(fits: list[FrameFit], times: np.ndarray) -> np.ndarray:
    """(3,) rad/s: the constant spin that best turns the first fit's pose into the others
    (least squares over every frame). Two 10 px fits a frame apart differ by their scatter of a
    few degrees, which over 1/24 s reads as a spin of several rad/s: dropped bodies, which do
    not turn in flight, were given 2-6 rad/s."""
    tau = times - times[0]
    design = np.vstack([np.ones_like(tau), tau]).T
    shape = fits[-1].shape  # every frame of a track is fitted as one class
    if shape == "cylinder":  # its turn about its own axis is invisible: its axis's
        axes = [Rotation.from_quat(f.orientation).as_matrix()[:, 2] for f in fits]
        for i in range(1, len(axes)):  # either end up
            axes[i] = axes[i] if axes[i] @ axes[i - 1] >= 0 else -axes[i]
        (start, rate), *_ = np.linalg.lstsq(design, np.array(axes), rcond=None)
        mid = start + rate * tau.mean()  # where the line through the axes is best determined
        return np.cross(mid / np.linalg.norm(mid), rate)
    rel = []
    prev = Rotation.from_quat(fits[0].orientation)
    base = prev
    for f in fits[1:]:
        r = Rotation.from_quat(f.orientation)
        if shape == "box":  # the flip of it nearest the previous pose
            r = nearest_flip(r, prev)
        rel.append((r * base.inv()).as_rotvec())
        prev = r
    (_, w), *_ = np.linalg.lstsq(design, np.vstack([np.zeros(3), *rel]), rcond=None)
    return w


def moving_scenery(common: dict, position, velocity) -> ObjectSpec:
    """Moving scenery (mass 0) keeping its velocity for the whole rollout: a straight keyframed
    path. ``common``: the ObjectSpec fields besides mass, position and path."""
    speed = float(np.linalg.norm(velocity))
    # the path's last keyframe: 60 s on, or 100 m along (a misfit on real footage can give
    # hundreds of m/s; a spec's coordinates are bounded)
    far = min(60.0, 100.0 / max(speed, 1e-6))
    start = tuple(float(x) for x in position)
    end = tuple(float(a + far * b) for a, b in zip(position, velocity, strict=True))
    return ObjectSpec(
        **common,
        mass=0.0,
        position=start,
        path=(
            Keyframe(0.0, start, common["orientation"]),
            Keyframe(far, end, common["orientation"]),
        ),
    )


def carried(spec: ObjectSpec, kinematic: bool, velocity, frames: int, world: WorldSpec):
    """The body ``frames`` frames after its last sighting: moving scenery shifted along its
    path, a body at rest left where it was seen (settling it is
    :func:`~twinsim.neural.settle.settled`'s), anything else simulated alone with the engine (a
    hidden object's state; one that came to a stop is at rest)."""
    if at_rest(spec):
        # simulated alone it would settle from its fitted pose and keep a creeping velocity
        # (2 mm/s), which made it a moving body that is neither settled nor drawn as seen
        return spec
    if not kinematic:
        return stopped(propagate(spec, frames, world))
    dt = frames / FPS

    def shift(p):
        return tuple(float(a + b * dt) for a, b in zip(p, velocity, strict=True))

    return dataclasses.replace(
        spec,
        position=shift(spec.position),
        path=tuple(dataclasses.replace(kf, position=shift(kf.position)) for kf in spec.path),
    )


def unblocked(
    carried_spec: ObjectSpec,
    sighted: ObjectSpec,
    frames: int,
    world: WorldSpec,
    in_view: tuple[ObjectSpec, ...],
) -> ObjectSpec:
    """A hidden body carried alone (``carried_spec``, ``frames`` after it was ``sighted``) that
    ends inside a body in view, deeper than it travels in a frame, carried again from its
    sighting among the bodies in view, so that it meets them. Each is put back where its
    velocity now says it was at the sighting, moving so (scenery and resting bodies stay), and
    those the hidden body overlapped there are left out (they were elsewhere then). A box lost by
    the tracker behind the box that stopped it had been carried on at its last speed, 13 cm into
    it. Less deep, it meets the body in the last frame, where the rollout plays both through the
    impact (a cylinder falling at 3.7 m/s, 1.3 cm into the box it was about to strike, bounced
    off it before the rollout began)."""
    speed = max(float(np.linalg.norm(b.linear_velocity)) for b in (sighted, carried_spec))
    step = max(_BLOCKED_DEPTH, speed / world.fps)
    if not in_view or not _inside(carried_spec, tuple(map(held, in_view)), world, step):
        return carried_spec
    seconds = frames / world.fps
    then = tuple(_rewound(o, seconds) for o in in_view)
    clash = _inside(sighted, then, world, _BLOCKED_DEPTH)
    others = tuple(o for o in then if o.name not in clash)
    return stopped(propagate(sighted, frames, world, others))


def _inside(body: ObjectSpec, others: tuple[ObjectSpec, ...], world: WorldSpec, depth: float):
    """The names of ``others`` that ``body`` overlaps deeper than ``depth`` (m)."""
    from twinsim.sim import World

    with World(SceneSpec(objects=(body, *others), world=world)) as w:
        return {o.name for o in others if w.penetration(body.name, o.name)[0] > depth}


def _rewound(obj: ObjectSpec, seconds: float) -> ObjectSpec:
    """A body in view ``seconds`` earlier, had it moved at its velocity now all along (a guess:
    one struck meanwhile moved otherwise before), moving so; scenery held where it is."""
    if obj.mass == 0 or obj.path:
        return held(obj)
    back = zip(obj.position, obj.linear_velocity, strict=True)
    return dataclasses.replace(
        obj,
        position=tuple(float(p - v * seconds) for p, v in back),
        angular_velocity=(0.0, 0.0, 0.0),
    )
