"""Contact bookkeeping for the World: per-body impulses each step, per-frame contact events."""

from __future__ import annotations

from twinsim.sim.rollout import Contact

__all__ = ["ContactLog"]


class ContactLog:
    """Aggregates PyBullet contact points into :class:`Contact` events.

    One event per frame and body pair: ``normal_impulse`` is the summed normal impulse (N s) of
    all its points over the frame's steps; position and normal are those of the strongest point.
    The floor is always body ``b`` (its normal points up, from the floor to ``a``).
    """

    def __init__(self, floor_uid: int) -> None:
        self.floor = floor_uid
        self.contacts: list[Contact] = []
        self._open: dict[tuple[int, int, int], list] = {}

    def record(self, points, frame: int, dt: float, *, keep: bool) -> dict[int, float]:
        """Take one step's ``getContactPoints()``; returns body uid -> normal impulse this step."""
        impulse: dict[int, float] = {}
        for pt in points:
            a, b, force = pt[1], pt[2], pt[9]
            if force <= 0:
                continue
            j = force * dt
            impulse[a] = impulse.get(a, 0.0) + j
            impulse[b] = impulse.get(b, 0.0) + j
            if not keep:
                continue
            pos, normal = pt[5], pt[7]
            if a == self.floor or (b != self.floor and b < a):
                a, b, pos, normal = b, a, pt[6], tuple(-x for x in normal)
            agg = self._open.get((frame, a, b))
            if agg is None:
                self._open[(frame, a, b)] = [j, j, pos, normal]
            else:
                agg[0] += j
                if j > agg[1]:
                    agg[1:] = [j, pos, normal]
        return impulse

    def flush(self, names: dict[int, str]) -> int:
        """Close the open frame(s) into events; returns the number of events so far."""
        for (frame, a, b), (total, _, pos, normal) in sorted(self._open.items()):
            self.contacts.append(
                Contact(
                    frame=frame,
                    a=names[a],
                    b=names[b],
                    position=tuple(pos),
                    normal=tuple(normal),
                    normal_impulse=float(total),
                )
            )
        self._open.clear()
        return len(self.contacts)

    def truncate(self, n: int) -> None:
        """Forget events after the first ``n`` and any open frame (used by restore_state)."""
        del self.contacts[n:]
        self._open.clear()
