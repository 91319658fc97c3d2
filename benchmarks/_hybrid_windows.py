"""The held-out windows bench_hybrid.py scores (families, context ends, seeds) and the state
errors of a hybrid prediction against the engine's truth. Imported with this folder on
``sys.path``, like ``_common``."""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = [
    "CONTEXT_END",
    "FAMILIES",
    "HORIZON",
    "OBSERVED",
    "SEED",
    "StateErrors",
    "match_bodies",
]

FAMILIES = ("drop", "collide", "ramp", "projectile", "push", "occlusion")
# context end frame per family: inside the motion (drop and projectile from the start, push
# after its event at 0.3-0.8 s, occlusion while the wall slides)
CONTEXT_END = {"drop": 9, "collide": 10, "ramp": 12, "projectile": 9, "push": 22, "occlusion": 20}
SEED = 2_000_000  # the pixel model's held-out evaluation seeds (the default of --seed)
OBSERVED, HORIZON = 6, 12


def match_bodies(est_objs, spec, rollout, k):
    """Per true movable object: (estimate or None, true track) matched by colour."""
    out = []
    for j, o in enumerate(spec.objects):
        if o.mass == 0 or o.kinematic:
            continue
        best, bd = None, 0.25
        for e in est_objs:
            d = float(np.abs(np.array(e.spec.color[:3]) - np.array(o.color[:3])).sum())
            if d < bd:
                best, bd = e, d
        out.append((best, o, rollout.objects[j]))
    return out


@dataclasses.dataclass
class StateErrors:
    """State errors of hybrid predictions, pooled over windows: per true movable body, position
    and velocity errors at the last observed frame (m, m/s; bodies seen then), shape class
    right (a body not estimated counts wrong), and the median distance of its predicted
    trajectory over the next HORIZON frames (m)."""

    pos: list = dataclasses.field(default_factory=list)
    vel: list = dataclasses.field(default_factory=list)
    cls: list = dataclasses.field(default_factory=list)
    traj: list = dataclasses.field(default_factory=list)

    def add(self, pr, spec, ro, k: int) -> None:
        """Pool the bodies of ``spec`` (rollout ``ro``, labels "objects") against the hybrid
        prediction ``pr`` made at frame ``k``."""
        from twinsim.sim import simulate

        world = dataclasses.replace(pr.spec.world, duration=HORIZON / pr.spec.world.fps)
        fut = simulate(dataclasses.replace(pr.spec, world=world), labels=("objects",))
        for e, o, tr in match_bodies(pr.estimate.objects, spec, ro, k):
            if e is None:
                self.cls.append(False)
                continue
            self.cls.append(e.spec.shape == o.shape)
            if e.frames_hidden == 0:
                self.pos.append(float(np.linalg.norm(np.array(e.spec.position) - tr.position[k])))
                self.vel.append(
                    float(np.linalg.norm(np.array(e.spec.linear_velocity) - tr.linear_velocity[k]))
                )
            idx = pr.spec.names.index(e.spec.name)
            d = np.linalg.norm(
                fut.objects[idx].position[1:] - tr.position[k + 1 : k + 1 + HORIZON], axis=1
            )
            self.traj.append(float(np.median(d)))

    def summary(self) -> dict:
        """Medians in the table's units (mm, cm/s, share right, cm); NaN where none."""

        def med(v, scale):
            return scale * float(np.median(v)) if v else float("nan")

        return {
            "pos_mm": med(self.pos, 1000),
            "vel_cms": med(self.vel, 100),
            "class_acc": float(np.mean(self.cls)) if self.cls else float("nan"),
            "traj_cm": med(self.traj, 100),
        }
