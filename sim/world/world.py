"""The engine world: one PyBullet DIRECT client built from a SceneSpec, bodies addressed by name.

Several worlds can live in one process: every PyBullet call passes this world's client id.
Same spec => bit-identical states (deterministic overlapping pairs, fixed timestep, no wall clock).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from collections.abc import Sequence

from twinsim.sim._pybullet import pybullet as p
from twinsim.sim.errors import SpecError, UnknownNameError
from twinsim.sim.rollout import Contact
from twinsim.sim.spec import ObjectSpec, SceneSpec, Violation
from twinsim.sim.world.bodies import (
    SEG_USER_KEY,
    create_body,
    create_floor,
    event_schedule,
    path_state,
)
from twinsim.sim.world.contacts import ContactLog
from twinsim.sim.world.state import BodyState, BodyView, PyState, Token, WorldState

__all__ = ["SEG_USER_KEY", "BodyState", "World", "WorldState"]

# Retired / not-yet-used change_shape bodies wait far below the floor (no shadows, no pairs).
# Invisible bodies still touch TinyRenderer's shadow pass, so they are moved out of the scene.
_PARKING = (0.0, 0.0, -1000.0)
_BRITTLE = 0.1  # strength left to the other break_force joints of a fragment that lost one
_JOINT_MAX_FORCE = 1e6  # fixed joints must hold fragments rigidly (PyBullet's default is 500 N)


class World:
    """PyBullet facade for one scene (see module docstring).

    Args:
        spec: the scene.
        contacts: collect per-frame contact events (``contacts``); costs a little per step.
    """

    def __init__(self, spec: SceneSpec, *, contacts: bool = False) -> None:
        self.spec = spec
        self.collect_contacts = contacts
        self._client = p.connect(p.DIRECT)
        self._closed = False
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    # -- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        spec, c = self.spec, self._client
        w = spec.world
        p.setGravity(*w.gravity, physicsClientId=c)
        p.setPhysicsEngineParameter(
            fixedTimeStep=w.timestep,
            numSubSteps=w.substeps,
            deterministicOverlappingPairs=1,
            physicsClientId=c,
        )
        self._dt = w.timestep
        self._spf = w.steps_per_frame
        self._floor = -1
        self._log = ContactLog(self._floor)
        if w.floor:
            self._floor = create_floor(
                w.floor_color,
                w.floor_friction,
                w.floor_restitution,
                c,
                rolling=w.floor_rolling_friction,
                spinning=w.floor_spinning_friction,
            )
            p.addUserData(self._floor, SEG_USER_KEY, "0", physicsClientId=c)
            self._log = ContactLog(self._floor)
        self._py = PyState()
        self._uid_name: dict[int, str] = {self._floor: "floor"}
        self._seg: dict[str, int] = {}
        self._uids: dict[str, list[int]] = {}  # every body that ever stands for a name
        self._alt_look: dict[str, ObjectSpec] = {}  # change_shape: the replacement's look
        for i, o in enumerate(spec.objects):
            uid = create_body(o, c)
            self._register(uid, o.name, i + 1)
            self._py.active[o.name] = uid
            self._py.looks[o.name] = o
        self._mass = {o.name: (0.0 if o.kinematic else o.mass) for o in spec.objects}
        v = spec.violation
        if v is not None:
            self._prepare_violation(v)
        self._joint_frames = [self._joint_frame(j.parent, j.child) for j in spec.joints]
        self._constraints: dict[int, int] = {}
        self._held_cids: dict[str, int] = {}  # liquid_stays: held body -> constraint id
        self._applied: dict[int, tuple] = {}  # uid -> (rgba, collides) as set in PyBullet
        self._applied_pairs: set[tuple[int, int]] = set()
        self._events = event_schedule(self.spec.events, self._dt)
        self._kinematic = [o for o in spec.objects if o.kinematic]
        self._breakable = [i for i, j in enumerate(spec.joints) if j.breakable]
        self._sync()
        # Build the initial contact manifolds so a snapshot at step 0 holds them too
        # (restoreState keeps newer manifolds it does not know about).
        p.performCollisionDetection(physicsClientId=c)

    def _register(self, uid: int, name: str, seg: int) -> None:
        self._uid_name[uid] = name
        self._uids.setdefault(name, []).append(uid)
        self._seg[name] = seg
        p.addUserData(uid, SEG_USER_KEY, str(seg), physicsClientId=self._client)

    def _joint_frame(self, parent: str, child: str) -> tuple:
        pp, po = self.pose(parent)
        cp, co = self.pose(child)
        ip, io = p.invertTransform(pp, po)
        rel_p, rel_o = p.multiplyTransforms(ip, io, cp, co)
        return rel_p, rel_o

    # -- naming ------------------------------------------------------------------------------

    @property
    def client(self) -> int:
        """The PyBullet physics client id (pass it as ``physicsClientId``)."""
        return self._client

    @property
    def step_count(self) -> int:
        return self._py.step

    @property
    def time(self) -> float:
        return self._py.step * self._dt

    @property
    def frame(self) -> int:
        """Index of the last frame boundary reached (steps // steps_per_frame)."""
        return self._py.step // self._spf

    def body_id(self, name: str) -> int:
        """PyBullet unique id of the body currently standing for ``name``."""
        try:
            return self._py.active[name]
        except KeyError:
            raise UnknownNameError("body", name, self.spec.names) from None

    def seg_id(self, name: str) -> int:
        self.body_id(name)
        return self._seg[name]

    def present(self, name: str) -> bool:
        self.body_id(name)
        return name not in self._py.hidden

    def pose(self, name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(position (3,), orientation quaternion xyzw (4,)) in the world frame.

        An absent body reports where it vanished (or, before it appears, its initial pose).
        """
        uid = self.body_id(name)
        if name in self._py.ghost:
            return self._py.ghost[name]
        pos, orn = p.getBasePositionAndOrientation(uid, physicsClientId=self._client)
        return tuple(pos), tuple(orn)

    def velocity(self, name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(linear m/s, angular rad/s) world-frame velocity; kinematic bodies report their path's."""
        uid = self.body_id(name)
        o = self.spec.object(name)
        if name in self._py.hidden:
            return (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)
        if o.kinematic:
            _, _, lin, ang = path_state(o.path, self.time)
            return lin, ang
        lin, ang = p.getBaseVelocity(uid, physicsClientId=self._client)
        return tuple(lin), tuple(ang)

    # -- control -----------------------------------------------------------------------------

    def apply_force(
        self,
        name: str,
        force: Sequence[float],
        point: Sequence[float] | None = None,
        steps: int = 1,
    ) -> None:
        """Push ``name`` with a world-frame force (N) at a world ``point`` for the next ``steps``."""
        self.body_id(name)
        if steps < 1:
            raise SpecError("steps", steps, "must be >= 1")
        f = tuple(float(x) for x in force)
        if len(f) != 3 or not all(map(math.isfinite, f)):
            raise SpecError("force", force, "must be 3 finite numbers (N)")
        pt = None if point is None else tuple(float(x) for x in point)
        self._py.pending.append([name, f, pt, steps])

    def apply_impulse(
        self, name: str, impulse: Sequence[float], point: Sequence[float] | None = None
    ) -> None:
        """An impulse (N s) delivered as force impulse / timestep during the next step."""
        self.apply_force(name, [x / self._dt for x in impulse], point)

    def apply_action(
        self,
        name: str,
        *,
        force: Sequence[float] | None = None,
        impulse: Sequence[float] | None = None,
        velocity: Sequence[float] | None = None,
    ) -> None:
        """Convenience for agents: any of a force (next step), an impulse, or a new velocity."""
        if force is not None:
            self.apply_force(name, force)
        if impulse is not None:
            self.apply_impulse(name, impulse)
        if velocity is not None:
            _, ang = self.velocity(name)
            p.resetBaseVelocity(
                self.body_id(name), list(velocity), list(ang), physicsClientId=self._client
            )

    # -- stepping ----------------------------------------------------------------------------

    def step(self) -> None:
        """Advance one physics step (timestep s): forces, kinematic paths, violations, joints."""
        c, py, k = self._client, self._py, self._py.step
        for start, end, (name, force, point) in self._events:
            if start <= k < end:
                self._push(name, force, point)
        if py.pending:
            for item in py.pending:
                self._push(item[0], item[1], item[2])
                item[3] -= 1
            py.pending = [it for it in py.pending if it[3] > 0]
        p.stepSimulation(physicsClientId=c)
        py.step += 1
        t = py.step * self._dt
        for o in self._kinematic:
            if o.name not in py.hidden:
                pos, orn, lin, ang = path_state(o.path, t)
                uid = py.active[o.name]
                p.resetBasePositionAndOrientation(uid, pos, orn, physicsClientId=c)
                p.resetBaseVelocity(uid, lin, ang, physicsClientId=c)
        for uid in py.parked:
            self._park(uid)
        if self._breakable or self.collect_contacts:
            self._contacts_and_joints()
        v = self.spec.violation
        if v is not None and not py.violated and py.step >= v.frame * self._spf:
            self._apply_violation(v)

    def step_frame(self) -> None:
        """Advance to the next frame boundary (``spec.world.steps_per_frame`` steps)."""
        for _ in range(self._spf):
            self.step()

    def _park(self, uid: int) -> None:
        self._py.parked.add(uid)
        c = self._client
        p.resetBasePositionAndOrientation(uid, _PARKING, (0, 0, 0, 1), physicsClientId=c)
        p.resetBaseVelocity(uid, (0, 0, 0), (0, 0, 0), physicsClientId=c)

    def _push(self, name: str, force, point) -> None:
        if name in self._py.hidden:
            return
        uid = self._py.active[name]
        if point is None:
            point = p.getBasePositionAndOrientation(uid, physicsClientId=self._client)[0]
        p.applyExternalForce(uid, -1, force, point, p.WORLD_FRAME, physicsClientId=self._client)

    # -- violations of expectation (the impossible twin of a scene) ------------------------

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

    # -- contacts and breakable joints -------------------------------------------------------

    def _contacts_and_joints(self) -> None:
        py = self._py
        points = p.getContactPoints(physicsClientId=self._client)
        frame = (py.step + self._spf - 1) // self._spf
        impulse = self._log.record(points, frame, self._dt, keep=self.collect_contacts)
        if self.collect_contacts and py.step % self._spf == 0:
            py.num_contacts = self._log.flush(self._uid_name)
        v = self.spec.violation
        if v is not None and v.kind in ("no_shatter", "reassemble") and py.violated:
            return  # the impossible twin: nothing breaks any more
        broke = False
        c = self._client
        for i in self._breakable:
            jt = self.spec.joints[i]
            if i in py.broken:
                continue
            a, b = py.active[jt.parent], py.active[jt.child]
            hit = max(impulse.get(a, 0.0), impulse.get(b, 0.0))
            cid = self._constraints.get(i)
            if jt.break_impulse is not None and hit > jt.break_impulse:
                py.broken[i] = py.step
                broke = True
            elif jt.break_force is not None and cid is not None:
                f = p.getConstraintState(cid, physicsClientId=c)
                # Brittle: a fragment that has lost a joint holds on at a tenth of its strength.
                weak = _BRITTLE if {jt.parent, jt.child} & py.cracked else 1.0
                if math.sqrt(f[0] * f[0] + f[1] * f[1] + f[2] * f[2]) > weak * jt.break_force:
                    py.cracked.update((jt.parent, jt.child))
                    py.broken[i] = py.step
                    broke = True
        if broke:
            self._sync()

    @property
    def contacts(self) -> list[Contact]:
        """Contact events so far: per frame and body pair, the summed normal impulse (N s) and
        the position/normal of the strongest point (needs ``contacts=True``)."""
        return list(self._log.contacts)

    # -- PyBullet-side state that follows the python state -----------------------------------

    def _sync(self) -> None:
        """Make visuals, collision filters and constraints match the python state."""
        c, py = self._client, self._py
        for name, active in py.active.items():
            look = py.looks[name]
            on = name not in py.hidden
            self._set_body(active, look.color if on else (*look.color[:3], 0.0), on)
            for uid in self._uids[name]:
                if uid != active:
                    self._set_body(uid, (*look.color[:3], 0.0), False)
        pairs: set[tuple[int, int]] = set()
        for i, jt in enumerate(self.spec.joints):
            a, b = self._py.active[jt.parent], self._py.active[jt.child]
            # Joints of an absent body (vanished / not yet appeared) hold nothing meanwhile.
            if i not in py.broken and not {jt.parent, jt.child} & py.hidden:
                pairs.add((a, b))
                if i not in self._constraints:
                    (rp, ro), kw = self._joint_frames[i], {"physicsClientId": c}
                    cid = p.createConstraint(
                        a, -1, b, -1, p.JOINT_FIXED, [0, 0, 0], rp, [0, 0, 0], ro, **kw
                    )
                    p.changeConstraint(cid, maxForce=_JOINT_MAX_FORCE, **kw)
                    self._constraints[i] = cid
            elif i in self._constraints:
                p.removeConstraint(self._constraints.pop(i), physicsClientId=c)
        v = self.spec.violation
        if v is not None and v.kind == "pass_through" and py.violated:
            pairs.add((py.active[v.body], py.active[v.other]))
        self._sync_held()
        for a, b in pairs ^ self._applied_pairs:
            enable = (a, b) not in pairs
            p.setCollisionFilterPair(a, b, -1, -1, int(enable), physicsClientId=c)
        self._applied_pairs = pairs

    def _sync_held(self) -> None:
        """Constraints of a liquid_stays violation: each held body follows the glass."""
        c, py = self._client, self._py
        for name in list(self._held_cids):
            if name not in py.held:
                p.removeConstraint(self._held_cids.pop(name), physicsClientId=c)
        if not py.held:
            return
        glass = py.active[self.spec.violation.body]
        for name, (rp, ro) in py.held.items():
            if name not in self._held_cids:
                kw = {"physicsClientId": c}
                cid = p.createConstraint(
                    glass,
                    -1,
                    py.active[name],
                    -1,
                    p.JOINT_FIXED,
                    [0, 0, 0],
                    rp,
                    [0, 0, 0],
                    ro,
                    **kw,
                )
                p.changeConstraint(cid, maxForce=_JOINT_MAX_FORCE, **kw)
                self._held_cids[name] = cid

    def _set_body(self, uid: int, rgba, collides: bool) -> None:
        want = (tuple(rgba), collides)
        have = self._applied.get(uid)
        if have == want:
            return
        c = self._client
        if have is None or have[0] != want[0]:
            p.changeVisualShape(uid, -1, rgbaColor=list(rgba), physicsClientId=c)
        # A new body already has PyBullet's default filter: only switching needs a call.
        if (have is None and not collides) or (have is not None and have[1] != collides):
            # PyBullet's defaults: dynamic group 1 / mask all, static group 2 / mask all but 2.
            static = self._mass[self._uid_name[uid]] == 0
            group, mask = (2, -1 ^ 2) if static else (1, -1)
            if not collides:
                group, mask = 0, 0
            p.setCollisionFilterGroupMask(uid, -1, group, mask, physicsClientId=c)
        self._applied[uid] = want

    # -- read-out ----------------------------------------------------------------------------

    def state(self) -> WorldState:
        """Full read-out of the world now."""
        bodies = {}
        for o in self.spec.objects:
            pos, orn = self.pose(o.name)
            lin, ang = self.velocity(o.name)
            bodies[o.name] = BodyState(
                o.name, pos, orn, lin, ang, present=o.name not in self._py.hidden
            )
        return WorldState(
            time=self.time,
            step=self._py.step,
            frame=self.frame,
            bodies=bodies,
            broken_joints=dict(self._py.broken),
        )

    def body_views(self) -> list[BodyView]:
        """Every spec body (spec order) with its current pose and look, for renderers."""
        out = []
        for o in self.spec.objects:
            pos, orn = self.pose(o.name)
            out.append(
                BodyView(
                    seg_id=self._seg[o.name],
                    spec=self._py.looks[o.name],
                    position=pos,
                    orientation=orn,
                    visible=o.name not in self._py.hidden,
                )
            )
        return out

    # -- save / restore ----------------------------------------------------------------------

    def save_state(self) -> Token:
        """Snapshot PyBullet and python state; :meth:`restore_state` continues bit-identically."""
        if self.collect_contacts:
            self._py.num_contacts = self._log.flush(self._uid_name)
        sid = p.saveState(physicsClientId=self._client)
        return Token(id(self), sid, copy.deepcopy(self._py))

    def restore_state(self, token: Token) -> None:
        """Return to a snapshot taken by this world's :meth:`save_state`."""
        if not isinstance(token, Token) or token.world != id(self):
            raise ValueError("restore_state needs a token from this world's save_state()")
        p.restoreState(stateId=token.bullet_state, physicsClientId=self._client)
        self._py = copy.deepcopy(token.py)
        self._log.truncate(self._py.num_contacts)
        self._sync()

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Disconnect the PyBullet client (idempotent)."""
        if not self._closed:
            self._closed = True
            p.disconnect(physicsClientId=self._client)

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown: pybullet may be gone
            self.close()
