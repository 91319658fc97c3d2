"""Violations of expectation applied inside a World (the impossible twin of a scene).

Kept apart from world.py for size; these functions are the World's own helpers and use its
private state.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pybullet as p
from twinsim.sim.bodies import create_body
from twinsim.sim.errors import SpecError
from twinsim.sim.spec import Violation

if TYPE_CHECKING:
    from twinsim.sim.world import World

__all__ = ["apply_violation", "prepare_violation"]


def prepare_violation(world: World, v: Violation) -> None:
    """Set up a violation at construction: an appearing body starts absent, a changing shape
    gets its replacement body built now and parked (so the body count never changes)."""
    o = world.spec.object(v.body)
    if v.kind == "appear":
        world._py.hidden.add(v.body)
        world._py.ghost[v.body] = (o.position, o.orientation)
        world._park(world._py.active[v.body])
    elif v.kind == "change_shape":
        if v.new_shape == "mesh" and o.shape != "mesh":
            raise SpecError("violation.new_shape", "mesh", "only a mesh body can become a mesh")
        new = dataclasses.replace(
            o,
            shape=v.new_shape,
            size=v.new_size,
            mesh=o.mesh if v.new_shape == "mesh" else None,
        )
        uid = create_body(new, world._client)
        world._register(uid, v.body, world._seg[v.body])
        world._park(uid)  # hidden until the swap
        world._alt_look[v.body] = new


def apply_violation(world: World, v: Violation) -> None:
    """Break physics now (called after the step that reaches the violation frame)."""
    py, c = world._py, world._client
    py.violated = True
    name = v.body
    if v.kind == "vanish":
        py.hidden.add(name)
        py.ghost[name] = world.pose(name)
        world._park(py.active[name])
    elif v.kind == "appear":
        py.hidden.discard(name)
        o = world.spec.object(name)
        uid = py.active[name]
        py.parked.discard(uid)
        del py.ghost[name]
        p.resetBasePositionAndOrientation(uid, o.position, o.orientation, physicsClientId=c)
        if not o.kinematic:
            p.resetBaseVelocity(uid, o.linear_velocity, o.angular_velocity, physicsClientId=c)
    elif v.kind == "teleport":
        pos, orn = world.pose(name)
        lin, ang = world.velocity(name)
        new = [a + b for a, b in zip(pos, v.offset, strict=True)]
        p.resetBasePositionAndOrientation(py.active[name], new, orn, physicsClientId=c)
        p.resetBaseVelocity(py.active[name], lin, ang, physicsClientId=c)
    elif v.kind == "change_shape":
        pos, orn = world.pose(name)
        lin, ang = world.velocity(name)
        old, new = py.active[name], world._uids[name][-1]
        py.active[name] = new
        py.looks[name] = world._alt_look[name]
        py.parked.discard(new)
        p.resetBasePositionAndOrientation(new, pos, orn, physicsClientId=c)
        p.resetBaseVelocity(new, lin, ang, physicsClientId=c)
        world._park(old)  # the retired body waits out of sight
        for i, j in enumerate(world.spec.joints):  # joints held the old body: they go with it
            if name in (j.parent, j.child):
                py.broken.setdefault(i, py.step)
    elif v.kind == "change_color":
        py.looks[name] = dataclasses.replace(py.looks[name], color=v.new_color)
    elif v.kind == "shards_vanish":
        for g in (name, *v.group):
            if g not in py.hidden:
                py.hidden.add(g)
                py.ghost[g] = world.pose(g)
                world._park(py.active[g])
    elif v.kind == "liquid_stays":
        gp, go = world.pose(name)
        ip, io = p.invertTransform(gp, go)
        for g in v.group:
            if g not in py.hidden:
                py.held[g] = p.multiplyTransforms(ip, io, *world.pose(g))
    elif v.kind == "reassemble":
        _reassemble(world, v)
    world._sync()


def _reassemble(world: World, v: Violation) -> None:
    """Put every shard back at its initial pose relative to the glass ``v.body``; the glass's
    joints hold again and no longer break (``no_shatter`` from here on)."""
    py, c, spec = world._py, world._client, world.spec
    o = spec.object(v.body)
    ip, io = p.invertTransform(o.position, o.orientation)
    bp, bo = world.pose(v.body)
    lin, ang = world.velocity(v.body)
    moved = []
    for g in v.group:
        if g in py.hidden:
            continue
        s = spec.object(g)
        rp, ro = p.multiplyTransforms(ip, io, s.position, s.orientation)
        pos, orn = p.multiplyTransforms(bp, bo, rp, ro)
        uid = py.active[g]
        p.resetBasePositionAndOrientation(uid, pos, orn, physicsClientId=c)
        p.resetBaseVelocity(uid, lin, ang, physicsClientId=c)
        moved.append(uid)
    # Lift the whole glass if a reassembled shard would start below the floor.
    uids = [py.active[v.body], *moved]
    low = min(p.getAABB(u, physicsClientId=c)[0][2] for u in uids)
    if low < 0.0:
        for u in uids:
            pos, orn = p.getBasePositionAndOrientation(u, physicsClientId=c)
            p.resetBasePositionAndOrientation(
                u, (pos[0], pos[1], pos[2] - low + 1e-3), orn, physicsClientId=c
            )
    names = {v.body, *v.group}
    for i, j in enumerate(spec.joints):
        if j.parent in names and j.child in names:
            py.broken.pop(i, None)
