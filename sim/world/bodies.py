"""Create PyBullet bodies from ObjectSpecs and interpolate kinematic paths (World helpers)."""

from __future__ import annotations

import math

import numpy as np
from twinsim.sim._pybullet import pybullet as p
from twinsim.sim.spec import EventSpec, Keyframe, ObjectSpec
from twinsim.sim.world.meshes import load_mesh, vhacd_parts

__all__ = ["SEG_USER_KEY", "create_body", "create_floor", "event_schedule", "path_state"]

SEG_USER_KEY = "twinsim_seg"  # PyBullet user data on each body: its segmentation id (str)

# Large finite plane visual so TinyRenderer draws a floor (an infinite GEOM_PLANE is not drawn).
_FLOOR_HALF = 50.0


def _shapes(spec: ObjectSpec, client: int) -> tuple[int, int]:
    """(collision shape id, visual shape id) for the spec's shape, size and colour."""
    kw = {"physicsClientId": client}
    rgba = list(spec.color)
    s = spec.size
    if spec.shape == "sphere":
        col = p.createCollisionShape(p.GEOM_SPHERE, radius=s[0], **kw)
        vis = p.createVisualShape(p.GEOM_SPHERE, radius=s[0], rgbaColor=rgba, **kw)
    elif spec.shape == "box":
        col = p.createCollisionShape(p.GEOM_BOX, halfExtents=list(s), **kw)
        vis = p.createVisualShape(p.GEOM_BOX, halfExtents=list(s), rgbaColor=rgba, **kw)
    elif spec.shape in ("cylinder", "capsule"):
        geom = p.GEOM_CYLINDER if spec.shape == "cylinder" else p.GEOM_CAPSULE
        col = p.createCollisionShape(geom, radius=s[0], height=s[1], **kw)
        vis = p.createVisualShape(geom, radius=s[0], length=s[1], rgbaColor=rgba, **kw)
    else:
        mesh = load_mesh(spec)
        vis = p.createVisualShape(
            p.GEOM_MESH,
            vertices=mesh.vertices.tolist(),
            indices=mesh.faces.ravel().tolist(),
            normals=mesh.vertex_normals.tolist(),
            rgbaColor=rgba,
            **kw,
        )
        if spec.collision == "vhacd":
            col = p.createCollisionShape(p.GEOM_MESH, fileName=str(vhacd_parts(spec, client)), **kw)
        else:
            hull = mesh.convex_hull.vertices
            col = p.createCollisionShape(p.GEOM_MESH, vertices=hull.tolist(), **kw)
    if col < 0 or vis < 0:
        raise RuntimeError(f"PyBullet could not create the shape of body {spec.name!r}")
    return col, vis


def create_body(spec: ObjectSpec, client: int) -> int:
    """A new multibody for ``spec`` at its initial pose and velocity; returns its unique id."""
    col, vis = _shapes(spec, client)
    mass = 0.0 if spec.kinematic else spec.mass
    pos, orn = spec.position, spec.orientation
    if spec.kinematic:
        pos, orn, _, _ = path_state(spec.path, 0.0)
    uid = p.createMultiBody(mass, col, vis, list(pos), list(orn), physicsClientId=client)
    p.changeDynamics(
        uid,
        -1,
        lateralFriction=spec.friction,
        restitution=spec.restitution,
        # PyBullet damps every new body by 0.04 /s unless told otherwise; free fall would be
        # ~2% slow. Damping is the spec's (0 unless a body asks for it, e.g. a viscous liquid).
        linearDamping=spec.damping,
        angularDamping=spec.damping,
        physicsClientId=client,
    )
    if mass > 0:
        p.resetBaseVelocity(
            uid, list(spec.linear_velocity), list(spec.angular_velocity), physicsClientId=client
        )
    return uid


def create_floor(
    color,
    friction: float,
    restitution: float,
    client: int,
    rolling: float = 0.01,
    spinning: float = 0.01,
) -> int:
    """The ground: an infinite collision plane at z = 0 drawn as a large thin slab.

    ``rolling`` (m) and ``spinning`` are Bullet's rolling / spinning resistance of the floor.
    """
    kw = {"physicsClientId": client}
    col = p.createCollisionShape(p.GEOM_PLANE, **kw)
    vis = p.createVisualShape(
        p.GEOM_BOX,
        halfExtents=[_FLOOR_HALF, _FLOOR_HALF, 0.005],
        visualFramePosition=[0, 0, -0.005],
        rgbaColor=list(color),
        **kw,
    )
    uid = p.createMultiBody(0.0, col, vis, [0, 0, 0], **kw)
    # Rolling/spinning resistance (combined with each body's friction) so balls come to rest
    # instead of rolling forever on the frictionless-in-rotation Bullet plane.
    p.changeDynamics(
        uid,
        -1,
        lateralFriction=friction,
        restitution=restitution,
        rollingFriction=rolling,
        spinningFriction=spinning,
        **kw,
    )
    return uid


def _slerp(q0: np.ndarray, q1: np.ndarray, a: float) -> np.ndarray:
    dot = float(np.dot(q0, q1))
    if dot < 0:  # take the short way round
        q1, dot = -q1, -dot
    if dot > 0.9995:
        q = q0 + a * (q1 - q0)
        return q / np.linalg.norm(q)
    theta = np.arccos(dot)
    return (np.sin((1 - a) * theta) * q0 + np.sin(a * theta) * q1) / np.sin(theta)


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ]
    )


def path_state(
    path: tuple[Keyframe, ...], t: float
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """(position, orientation, linear velocity, angular velocity) of a keyframed path at ``t``.

    Positions are linearly interpolated, orientations slerped; the pose is held (zero velocity)
    before the first and after the last keyframe.
    """
    zero = (0.0, 0.0, 0.0)
    if t <= path[0].time or len(path) == 1:
        return path[0].position, path[0].orientation, zero, zero
    if t >= path[-1].time:
        return path[-1].position, path[-1].orientation, zero, zero
    i = next(i for i in range(1, len(path)) if path[i].time > t)
    k0, k1 = path[i - 1], path[i]
    span = k1.time - k0.time
    a = (t - k0.time) / span
    if k0.orientation == k1.orientation:  # pure translation (the common occluder): no numpy
        pos = tuple(x0 + a * (x1 - x0) for x0, x1 in zip(k0.position, k1.position, strict=True))
        lin = tuple((x1 - x0) / span for x0, x1 in zip(k0.position, k1.position, strict=True))
        return pos, tuple(k0.orientation), lin, zero
    p0, p1 = np.asarray(k0.position), np.asarray(k1.position)
    q0, q1 = np.asarray(k0.orientation), np.asarray(k1.orientation)
    pos = p0 + a * (p1 - p0)
    orn = _slerp(q0, q1, a)
    lin = (p1 - p0) / span
    if np.dot(q0, q1) < 0:
        q1 = -q1
    dq = _quat_mul(q1, q0 * np.array([-1, -1, -1, 1]))  # rotation from q0 to q1, world frame
    angle = 2 * np.arctan2(np.linalg.norm(dq[:3]), dq[3])
    axis = dq[:3] / max(np.linalg.norm(dq[:3]), 1e-12)
    ang = axis * angle / span
    return (
        tuple(map(float, pos)),
        tuple(map(float, orn)),
        tuple(map(float, lin)),
        tuple(map(float, ang)),
    )


def event_schedule(events: tuple[EventSpec, ...], dt: float) -> list[tuple[int, int, tuple]]:
    """Scripted events as (first step, end step exclusive, (body, force N, point)).

    A force is held over ``[time, time + duration]`` (at least one step); an impulse J becomes
    the force J / dt during the one step starting at ``time``.
    """
    out = []
    for e in events:
        start = math.floor(e.time / dt + 1e-6)
        end = start + 1
        if e.kind == "force":
            end = max(end, round((e.time + e.duration) / dt))
        force = e.vector if e.kind == "force" else tuple(x / dt for x in e.vector)
        out.append((start, end, (e.body, force, e.point)))
    return out
