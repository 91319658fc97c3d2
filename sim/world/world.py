"""The engine world: one PyBullet DIRECT client built from a SceneSpec, bodies addressed by name.

Several worlds can live in one process: every PyBullet call passes this world's client id.
Same spec => bit-identical states (deterministic overlapping pairs, fixed timestep, no wall clock).
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Sequence

from twinsim.sim._pybullet import pybullet as p
from twinsim.sim.errors import SpecError, UnknownNameError
from twinsim.sim.spec import ObjectSpec, SceneSpec
from twinsim.sim.world.bodies import (
    SEG_USER_KEY,
    create_body,
    create_floor,
    event_schedule,
    path_state,
)
from twinsim.sim.world.constraints import ConstraintsMixin
from twinsim.sim.world.contacts import ContactLog
from twinsim.sim.world.state import BodyState, BodyView, PyState, Token, WorldState
from twinsim.sim.world.violations import ViolationsMixin

__all__ = ["SEG_USER_KEY", "BodyState", "World", "WorldState"]

# Retired / not-yet-used change_shape bodies wait far below the floor (no shadows, no pairs).
# Invisible bodies still touch TinyRenderer's shadow pass, so they are moved out of the scene.
_PARKING = (0.0, 0.0, -1000.0)


class World(ConstraintsMixin, ViolationsMixin):
    """PyBullet facade for one scene (see module docstring). Its violations of expectation live
    in :mod:`~twinsim.sim.world.violations`, its joints and the PyBullet side of its state in
    :mod:`~twinsim.sim.world.constraints`.

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

    def penetration(self, a: str, b: str) -> tuple[float, tuple[float, float, float]]:
        """(depth m, unit normal from ``b`` toward ``a``) of the deepest overlap of bodies ``a``
        and ``b`` as placed now; (0.0, (0, 0, 0)) when they do not overlap. Moving ``a`` by
        ``depth`` along the normal separates the pair at that point."""
        deepest = self._closest(a, b, 0.0)
        if deepest is None or deepest[8] >= 0:
            return 0.0, (0.0, 0.0, 0.0)
        return -float(deepest[8]), tuple(float(x) for x in deepest[7])

    def separation(self, a: str, b: str, within: float) -> float | None:
        """Signed distance (m) between bodies ``a`` and ``b`` as placed now: the gap between
        their nearest points, negative where they overlap (minus the deepest overlap); None
        where they are more than ``within`` (m, >= 0) apart."""
        if not (math.isfinite(within) and within >= 0):
            raise SpecError("within", within, "must be a finite distance >= 0 (m)")
        nearest = self._closest(a, b, within)
        return None if nearest is None else float(nearest[8])

    def _closest(self, a: str, b: str, within: float):
        """Bullet's contact point of ``a`` and ``b`` with the smallest signed distance, or None
        where none is within ``within`` (m)."""
        ua, ub = self.body_id(a), self.body_id(b)
        pts = p.getClosestPoints(ua, ub, within, physicsClientId=self._client) or ()
        return min(pts, key=lambda c: c[8], default=None)

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
