"""Shared test helper: exact frame fits of a simulated body (tests of the hybrid's motion cues)."""

from __future__ import annotations

import numpy as np
from twinsim.neural.refine import FrameFit


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
