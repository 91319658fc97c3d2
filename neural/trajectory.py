"""The state of a moving body refined against every observed frame of its window at once
(analysis by synthesis over a motion model, not frame by frame)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from twinsim.neural.canvas import Canvas
from twinsim.sim.spec import ObjectSpec

__all__ = ["fit_trajectory"]


def fit_trajectory(
    canvas: Canvas,
    frames: dict[int, np.ndarray],
    others: dict[int, list[ObjectSpec | None]],
    slot: int,
    look: ObjectSpec,
    orientations: dict[int, np.ndarray],
    t_last: int,
    position: np.ndarray,
    velocity: np.ndarray,
    grounded: bool,
    fps: float,
    gravity: float = 9.81,
    max_evals: int = 200,
    ignore: dict[int, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Refine the state at frame ``t_last`` against every observed frame of the window at once.

    Motion model over the window: on the floor, a straight line at constant height slowed by
    friction (parameters x, y, vx, vy and the deceleration); in the air, a ballistic arc (x, y, z, vx, vy, vz). The look and the per-frame
    orientations stay as fitted. ``ignore``: per frame, pixels left out of the error. Returns
    (position, velocity, summed mean-abs pixel error).
    """
    ts = sorted(frames)
    keep = {
        t: None if not ignore or t not in ignore else (~ignore[t]).astype(np.float32) for t in ts
    }
    obs = {t: frames[t].astype(np.float32) for t in ts}
    z0 = float(position[2])

    def state(theta):
        if grounded:
            p = np.array([theta[0], theta[1], z0])
            v = np.array([theta[2], theta[3], 0.0])
        else:
            p, v = np.asarray(theta[:3]), np.asarray(theta[3:6])
        return p, v

    def loss(theta):
        p, v = state(theta)
        speed = float(np.linalg.norm(v))
        # on the floor: friction slows the body along its motion (``theta[4]``, m/s^2)
        acc = -theta[4] * v / speed if grounded and speed > 1e-6 else np.zeros(3)
        total = 0.0
        for t in ts:
            dt = (t - t_last) / fps
            pt = p + v * dt + 0.5 * acc * dt * dt
            if not grounded:
                pt = pt - np.array([0.0, 0.0, 0.5 * gravity * dt * dt])
            objs = list(others[t])
            objs[slot] = look
            poses = [None if o is None else (o.position, o.orientation) for o in objs]
            poses[slot] = (pt, orientations[t])
            rgb, _ = canvas.render(objs, poses)
            diff = np.abs(rgb.astype(np.float32) - obs[t]).mean(-1)
            total += float(diff.mean() if keep[t] is None else (diff * keep[t]).mean())
        return total

    if grounded:
        theta0 = np.array([position[0], position[1], velocity[0], velocity[1], 0.5])
        steps = np.array([0.006, 0.006, 0.1, 0.1, 0.5])
    else:
        theta0 = np.concatenate([position, velocity])
        steps = np.array([0.006, 0.006, 0.006, 0.1, 0.1, 0.1])
    simplex = np.vstack([theta0, theta0 + np.diag(steps)])
    res = minimize(
        loss,
        theta0,
        method="Nelder-Mead",
        options={"maxfev": max_evals, "initial_simplex": simplex, "xatol": 1e-4, "fatol": 1e-3},
    )
    p, v = state(res.x)
    return p, v, float(res.fun)
