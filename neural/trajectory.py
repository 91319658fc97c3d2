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
    friction (parameters x, y, vx, vy and the deceleration), or a path slowed to a stop inside
    the window where that fits better (:func:`_stopped`); in the air, a ballistic arc
    (x, y, z, vx, vy, vz). The look and the per-frame orientations stay as fitted. ``ignore``:
    per frame, pixels left out of the error. Returns (position, velocity, summed mean-abs pixel
    error).
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

    def path_loss(where) -> float:
        """Summed mean-abs pixel error of the body drawn at ``where(t)`` in every frame."""
        total = 0.0
        for t in ts:
            objs = list(others[t])
            objs[slot] = look
            poses = [None if o is None else (o.position, o.orientation) for o in objs]
            poses[slot] = (where(t), orientations[t])
            rgb, _ = canvas.render(objs, poses)
            diff = np.abs(rgb.astype(np.float32) - obs[t]).mean(-1)
            total += float(diff.mean() if keep[t] is None else (diff * keep[t]).mean())
        return total

    def loss(theta):
        p, v = state(theta)
        speed = float(np.linalg.norm(v))
        # on the floor: friction slows the body along its motion (``theta[4]``, m/s^2)
        acc = -theta[4] * v / speed if grounded and speed > 1e-6 else np.zeros(3)
        fall = 0.0 if grounded else gravity

        def where(t):
            dt = (t - t_last) / fps
            return p + v * dt + 0.5 * acc * dt * dt - np.array([0.0, 0.0, 0.5 * fall * dt * dt])

        return path_loss(where)

    if grounded:
        theta0 = np.array([position[0], position[1], velocity[0], velocity[1], 0.5])
        steps = np.array([0.006, 0.006, 0.1, 0.1, 0.5])
    else:
        theta0 = np.concatenate([position, velocity])
        steps = np.array([0.006, 0.006, 0.006, 0.1, 0.1, 0.1])
    res = _nelder_mead(loss, theta0, steps, max_evals)
    p, v = state(res.x)
    best = float(res.fun)
    # A ball rolls: friction does not slide it to a stop, only something it meets stops it (which
    # the engine plays when that is in the scene); a slow one's few changing pixels fitted as
    # at rest (a ball rolling at 11 cm/s, collide seed 2 000 002) lost 4.5 dB.
    if grounded and len(ts) > 2 and look.shape != "sphere":
        stop = _stopped(path_loss, ts, fps, p, v, max_evals)
        if stop is not None and stop[2] < best:
            p, v, best = stop
    return p, v, best


def _nelder_mead(loss, theta0: np.ndarray, steps: np.ndarray, max_evals: int):
    simplex = np.vstack([theta0, theta0 + np.diag(steps)])
    return minimize(
        loss,
        theta0,
        method="Nelder-Mead",
        options={"maxfev": max_evals, "initial_simplex": simplex, "xatol": 1e-4, "fatol": 1e-3},
    )


def _stopped(
    path_loss, ts: list[int], fps: float, position: np.ndarray, velocity: np.ndarray, max_evals: int
):
    """The best path on the floor that slows to a stop at a constant deceleration (friction)
    and stays put from then on: (position, velocity, loss) at the last frame, or None when the
    line fit did not move or the best such path has not stopped by the last frame.

    The line's deceleration cannot say "came to rest two frames ago" (at rest at the last frame
    it is still in every frame): a box pushed to a stop inside the window kept the window's mean
    speed, 10 cm/s, and slid on through the future. Parameters: where it rests (x, y), the
    deceleration (m/s^2, a vector along the motion) and the frame it stops at (after the last
    frame: still moving there, which the line says as well)."""
    t0, t_last = ts[0], ts[-1]
    span = (t_last - t0) / fps
    travel = np.asarray(velocity, float) * span  # the line's path over the window
    if np.linalg.norm(travel) < 1e-4:
        return None
    z = float(position[2])

    def motion(theta, t):
        rest = np.array([theta[0], theta[1], z])
        decel = np.array([theta[2], theta[3], 0.0])
        left = max(theta[4] - t, 0.0) / fps  # s until it stops
        return rest - 0.5 * decel * left * left, decel * left

    stop = t_last - 1.0
    decel = 2 * travel / ((stop - t0) / fps) ** 2
    theta0 = np.array([position[0], position[1], decel[0], decel[1], stop])
    steps = np.array([0.006, 0.006, 0.5 * abs(decel[0]) + 0.1, 0.5 * abs(decel[1]) + 0.1, 1.0])
    res = _nelder_mead(lambda th: path_loss(lambda t: motion(th, t)[0]), theta0, steps, max_evals)
    if res.x[4] > t_last:
        return None
    p, v = motion(res.x, t_last)
    return p, v, float(res.fun)
