"""A physics-only trace of a scene (poses, contacts, broken joints per frame), no rendering.

Samplers run one to frame their camera on what actually moves and to check (or reject) their
story; :func:`trace_of_rollout` builds the same record from a simulated Rollout, so a story can be
checked on the labels a user gets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from twinsim.sim.rollout import Rollout
from twinsim.sim.spec import SceneSpec

__all__ = ["Trace", "run_trace", "trace_of_rollout"]


@dataclass(frozen=True)
class Trace:
    """What happened in a scene, frame by frame.

    Attributes:
        spec: the scene.
        position: (T, N, 3) float64 body positions (spec order), metres.
        orientation: (T, N, 4) float64 quaternions (x, y, z, w).
        speed: (T, N) float64 linear speed, m/s.
        spin: (T, N) float64 angular speed, rad/s.
        present: (T, N) bool.
        pairs: frozenset of (a, b) body-name pairs that touched (sorted names; "floor" included).
        first_touch: {(a, b): first frame with a contact}.
        broken: {joint index: the frame after whose steps it had broken}.
    """

    spec: SceneSpec
    position: np.ndarray
    orientation: np.ndarray
    speed: np.ndarray
    spin: np.ndarray
    present: np.ndarray
    first_touch: dict[tuple[str, str], int]
    broken: dict[int, int]

    @property
    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.first_touch)

    def index(self, name: str) -> int:
        return self.spec.names.index(name)

    def touched(self, a: str, b: str) -> bool:
        return tuple(sorted((a, b))) in self.first_touch

    def touch_frame(self, a: str, b: str) -> int | None:
        return self.first_touch.get(tuple(sorted((a, b))))


def _first_touch(contacts) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for c in contacts:
        key = tuple(sorted((c.a, c.b)))
        if key not in out or c.frame < out[key]:
            out[key] = c.frame
    return out


def run_trace(spec: SceneSpec) -> Trace:
    """Step ``spec`` through all its frames in a World and record a :class:`Trace`."""
    from twinsim.sim.world import World

    T, n = spec.world.num_frames, len(spec.objects)
    pos, orn = np.zeros((T, n, 3)), np.zeros((T, n, 4))
    speed, spin = np.zeros((T, n)), np.zeros((T, n))
    present = np.zeros((T, n), bool)
    with World(spec, contacts=True) as w:
        for t in range(T):
            if t:
                w.step_frame()
            st = w.state()
            for i, b in enumerate(st.bodies.values()):
                pos[t, i], orn[t, i] = b.position, b.orientation
                speed[t, i] = np.linalg.norm(b.linear_velocity)
                spin[t, i] = np.linalg.norm(b.angular_velocity)
                present[t, i] = b.present
        spf = spec.world.steps_per_frame
        broken = {j: -(-step // spf) for j, step in w.state().broken_joints.items()}
        touch = _first_touch(w.contacts)
    return Trace(spec, pos, orn, speed, spin, present, touch, broken)


def trace_of_rollout(r: Rollout, broken: dict[int, int] | None = None) -> Trace:
    """A Trace from a Rollout simulated with the "objects" and "contacts" labels.

    Rollouts do not record joints; pass ``broken`` when a story needs them (else it is
    recomputed with a physics-only run of ``r.spec``, which is deterministic).
    """
    if not r.objects or "contacts" not in r.labels:
        raise ValueError(
            "trace_of_rollout needs a rollout with the 'objects' and 'contacts' labels"
        )
    pos = np.stack([t.position for t in r.objects], axis=1)
    orn = np.stack([t.orientation for t in r.objects], axis=1)
    speed = np.stack([np.linalg.norm(t.linear_velocity, axis=1) for t in r.objects], axis=1)
    spin = np.stack([np.linalg.norm(t.angular_velocity, axis=1) for t in r.objects], axis=1)
    present = np.stack([t.present for t in r.objects], axis=1)
    if broken is None:
        broken = run_trace(r.spec).broken if r.spec.joints else {}
    return Trace(r.spec, pos, orn, speed, spin, present, _first_touch(r.contacts), broken)
