"""Shared test helpers for the hybrid's motion cues: one body let fall alone, and exact frame fits
of a simulated body."""

from __future__ import annotations

import numpy as np
from twinsim.neural.estimate import default_camera
from twinsim.neural.refine import FrameFit
from twinsim.sim import ObjectSpec, SceneSpec, WorldSpec, simulate
from twinsim.sim.spec import LightSpec


def dropped(body: ObjectSpec, frames: int, floor_restitution: float = 0.3):
    """The rollout (rgb and object tracks) of ``body`` alone for ``frames`` frames, seen by the
    families' default camera, without shadows."""
    spec = SceneSpec(
        objects=(body,),
        cameras=(default_camera(),),
        light=LightSpec(shadows=False),
        world=WorldSpec(duration=frames / 24, floor_restitution=floor_restitution),
    )
    return simulate(spec, labels=("rgb", "objects"))


def exact_fits(ro, frames, eye: np.ndarray, depth_error: float = 0.0) -> dict[int, FrameFit]:
    """The first body of rollout ``ro`` at its true pose in each of ``frames``, each moved along
    its line of sight by an alternating relative ``depth_error`` (the image stays the same:
    only the pixels are to be trusted)."""
    tr, o = ro.objects[0], ro.spec.objects[0]
    out = {}
    for i, t in enumerate(frames):
        lam = 1.0 + depth_error * (-1) ** i
        out[t] = FrameFit(
            shape=o.shape,
            size=tuple(lam * s for s in o.size),
            color=o.color,
            position=eye + lam * (tr.position[t] - eye),
            orientation=tr.orientation[t],
            error=0.0,
            evals=0,
        )
    return out
