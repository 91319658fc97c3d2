"""Violations of expectation inside the engine: how the World breaks physics for a scene's
impossible twin (vanish, appear, teleport, change_shape, change_color, shards_vanish,
liquid_stays, reassemble). A mixin of :class:`~twinsim.sim.world.world.World`: the methods use
its python state (``_py``), bodies by name and ``_sync``."""

from __future__ import annotations

import dataclasses

from twinsim.sim._pybullet import pybullet as p
from twinsim.sim.errors import SpecError
from twinsim.sim.spec import Violation
from twinsim.sim.world.bodies import create_body

__all__ = ["ViolationsMixin"]


class ViolationsMixin:
    """The impossible twin's breaks of physics (see the module docstring)."""

    def _prepare_violation(self, v: Violation) -> None:
        """Set up a violation at construction: an appearing body starts absent, a changing shape
        gets its replacement body built now and parked (so the body count never changes)."""
        o = self.spec.object(v.body)
        if v.kind == "appear":
            self._py.hidden.add(v.body)
            self._py.ghost[v.body] = (o.position, o.orientation)
            self._park(self._py.active[v.body])
        elif v.kind == "change_shape":
            if v.new_shape == "mesh" and o.shape != "mesh":
                raise SpecError("violation.new_shape", "mesh", "only a mesh body can become a mesh")
            new = dataclasses.replace(
                o,
                shape=v.new_shape,
                size=v.new_size,
                mesh=o.mesh if v.new_shape == "mesh" else None,
            )
            uid = create_body(new, self._client)
            self._register(uid, v.body, self._seg[v.body])
            self._park(uid)  # hidden until the swap
            self._alt_look[v.body] = new

    def _apply_violation(self, v: Violation) -> None:
        """Break physics now (called after the step that reaches the violation frame)."""
        py, c = self._py, self._client
        py.violated = True
        name = v.body
        if v.kind == "vanish":
            py.hidden.add(name)
            py.ghost[name] = self.pose(name)
            self._park(py.active[name])
        elif v.kind == "appear":
            py.hidden.discard(name)
            o = self.spec.object(name)
            uid = py.active[name]
            py.parked.discard(uid)
            del py.ghost[name]
            p.resetBasePositionAndOrientation(uid, o.position, o.orientation, physicsClientId=c)
            if not o.kinematic:
                p.resetBaseVelocity(uid, o.linear_velocity, o.angular_velocity, physicsClientId=c)
        elif v.kind == "teleport":
            pos, orn = self.pose(name)
            lin, ang = self.velocity(name)
            new = [a + b for a, b in zip(pos, v.offset, strict=True)]
            p.resetBasePositionAndOrientation(py.active[name], new, orn, physicsClientId=c)
            p.resetBaseVelocity(py.active[name], lin, ang, physicsClientId=c)
        elif v.kind == "change_shape":
            pos, orn = self.pose(name)
            lin, ang = self.velocity(name)
            old, new = py.active[name], self._uids[name][-1]
            py.active[name] = new
            py.looks[name] = self._alt_look[name]
            py.parked.discard(new)
            p.resetBasePositionAndOrientation(new, pos, orn, physicsClientId=c)
            p.resetBaseVelocity(new, lin, ang, physicsClientId=c)
            self._park(old)  # the retired body waits out of sight
            for i, j in enumerate(self.spec.joints):  # joints held the old body: they go with it
                if name in (j.parent, j.child):
                    py.broken.setdefault(i, py.step)
        elif v.kind == "change_color":
            py.looks[name] = dataclasses.replace(py.looks[name], color=v.new_color)
        elif v.kind == "shards_vanish":
            for g in (name, *v.group):
                if g not in py.hidden:
                    py.hidden.add(g)
                    py.ghost[g] = self.pose(g)
                    self._park(py.active[g])
        elif v.kind == "liquid_stays":
            gp, go = self.pose(name)
            ip, io = p.invertTransform(gp, go)
            for g in v.group:
                if g not in py.hidden:
                    py.held[g] = p.multiplyTransforms(ip, io, *self.pose(g))
        elif v.kind == "reassemble":
            self._reassemble(v)
        self._sync()

    def _reassemble(self, v: Violation) -> None:
        """Put every shard back at its initial pose relative to the glass ``v.body``; the glass's
        joints hold again and no longer break (``no_shatter`` from here on)."""
        py, c, spec = self._py, self._client, self.spec
        o = spec.object(v.body)
        ip, io = p.invertTransform(o.position, o.orientation)
        bp, bo = self.pose(v.body)
        lin, ang = self.velocity(v.body)
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
