"""The PyBullet side that follows the World's python state: visuals and collision filters of
present, hidden and swapped bodies, fixed joints (created, broken by impulse or force, removed)
and the constraints of a ``liquid_stays`` violation. A mixin of
:class:`~twinsim.sim.world.world.World`."""

from __future__ import annotations

import math

from twinsim.sim._pybullet import pybullet as p
from twinsim.sim.rollout import Contact

__all__ = ["ConstraintsMixin"]

_BRITTLE = 0.1  # strength left to the other break_force joints of a fragment that lost one
_JOINT_MAX_FORCE = 1e6  # fixed joints must hold fragments rigidly (PyBullet's default is 500 N)


class ConstraintsMixin:
    """Contacts, breakable joints and the PyBullet state that mirrors the python state."""

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
