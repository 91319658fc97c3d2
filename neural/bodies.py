"""A fitted body's final state: its rest pose on the floor, its spin, and where it is after
frames out of sight (moving scenery along its path, anything else simulated alone)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.spatial.transform import Rotation
from twinsim.neural.kinematics import FPS
from twinsim.neural.refine import FrameFit
from twinsim.sim.spec import Keyframe, ObjectSpec, SceneSpec, WorldSpec

__all__ = ["angular_velocity", "carried", "flat_box", "moving_scenery", "propagate"]


def flat_box(fit: FrameFit) -> FrameFit:
    """The box turned to lie on the face nearest to down, at its fitted yaw, on the floor."""
    R = Rotation.from_quat(fit.orientation).as_matrix()
    up = int(np.argmax(np.abs(R[2])))
    rest = [i for i in range(3) if i != up]
    a = R[:, rest[0]]
    yaw = math.atan2(a[1], a[0])
    size = (fit.size[rest[0]], fit.size[rest[1]], fit.size[up])
    q = Rotation.from_euler("z", yaw).as_quat()
    pos = np.array([fit.position[0], fit.position[1], size[2]])
    return dataclasses.replace(fit, size=size, orientation=q, position=pos)


def propagate(obj: ObjectSpec, frames: int, world: WorldSpec) -> ObjectSpec:
    """Advance one body alone by ``frames`` frames with the engine (a hidden object's state)."""
    if frames <= 0 or obj.mass == 0:
        return obj
    from twinsim.sim import World

    w = dataclasses.replace(world, duration=max(frames, 1) / world.fps)
    spec = SceneSpec(objects=(obj,), world=w)
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


def angular_velocity(
    fits: dict[int, FrameFit], shape: str, size, vel, grounded: bool
) -> np.ndarray:
    ts = sorted(fits)
    if shape == "sphere" or (grounded and shape == "cylinder"):
        if not grounded:
            return np.zeros(3)
        w = np.cross([0.0, 0.0, 1.0], vel) / size[0]
        if shape == "cylinder":  # only about its own axis
            axis = Rotation.from_quat(fits[ts[-1]].orientation).as_matrix()[:, 2]
            w = axis * float(axis @ w)
        return w
    if grounded or len(ts) < 2:
        return np.zeros(3)
    r0 = Rotation.from_quat(fits[ts[-2]].orientation)
    r1 = Rotation.from_quat(fits[ts[-1]].orientation)
    dt = (ts[-1] - ts[-2]) / FPS
    return (r1 * r0.inv()).as_rotvec() / dt


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
    path, anything else simulated alone with the engine (a hidden object's state)."""
    if not kinematic:
        return propagate(spec, frames, world)
    dt = frames / FPS

    def shift(p):
        return tuple(float(a + b * dt) for a, b in zip(p, velocity, strict=True))

    return dataclasses.replace(
        spec,
        position=shift(spec.position),
        path=tuple(dataclasses.replace(kf, position=shift(kf.position)) for kf in spec.path),
    )
