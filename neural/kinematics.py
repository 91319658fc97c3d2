"""Motion models for a tracked body's fitted positions: a line (on the floor) or a ballistic arc
(in the air), and the scale that gravity fixes.

A single frame cannot tell a small near body from a large far one (the image is the same when the
scene is scaled about the camera eye). A body in free flight can: it falls at g = 9.81 m/s^2
whatever its size, so the one scale about the eye at which its fitted positions form an arc under
g is its true scale (the cue Galileo's and Wu et al.'s de-animation use).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "FPS",
    "G",
    "across_sight",
    "constant_acceleration",
    "fit_arc",
    "motion_fit",
    "slide_to_roll",
    "velocity_break",
]

G = 9.81
FPS = 24.0  # the engine's default frame rate, which the estimator assumes
_DEPTH_WEIGHT = 10.0  # px of reprojection error per unit log depth ratio
_BREAK_SPEED = 0.15  # m/s: about 6 mm a frame, a pixel or less at 64 px
_BREAK_SIGNIFICANCE = 4.0  # standard errors the change must exceed
_REST_F = 4.0  # F statistic under which a fall from rest explains a falling arc's pixels
_REST_NOISE_PX = 0.15  # px: the least per-coordinate noise the F test assumes


def across_sight(
    vec: np.ndarray, point: np.ndarray, eye: np.ndarray, level: bool = False
) -> np.ndarray:
    """``vec`` without its component along the line of sight from ``eye`` to ``point`` (the
    direction a 64 px view measures worst: depth comes from apparent size only). With
    ``level`` only the sight's horizontal direction is removed (a horizontal ``vec`` stays
    horizontal: a body on the floor)."""
    ray = np.asarray(point, float) - np.asarray(eye, float)
    if level:
        ray[2] = 0.0
    ray = ray / np.linalg.norm(ray)
    return np.asarray(vec, float) - ray * float(ray @ vec)


def constant_acceleration(
    times: np.ndarray, pos: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position, velocity, acceleration) at the last time of a least-squares constant
    acceleration fit to ``pos`` (N, 3) at ``times`` (N,) s."""
    t = times - times[-1]
    A = np.stack([np.ones_like(t), t, 0.5 * t**2], 1)
    coef, *_ = np.linalg.lstsq(A, pos, rcond=None)
    return coef[0], coef[1], coef[2]


def motion_fit(
    times: np.ndarray, pos: np.ndarray, airborne: bool
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(position, velocity) at the last time from a least-squares motion model (a line, or a
    ballistic arc when ``airborne``), the residual scatter (m) and the velocity's standard
    error (m/s). ``times`` (N,) in s, ``pos`` (N, 3) in m."""
    t = times - times[-1]
    n = len(t)
    if n == 1:
        return pos[-1], np.zeros(3), 0.0, 0.5
    y = pos.copy()
    if airborne:
        y[:, 2] += 0.5 * G * t**2  # ballistic: remove gravity, then straight lines
    A = np.stack([np.ones_like(t), t], 1)
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    fitted = n > 2
    sigma = float(np.sqrt((resid**2).sum(0) / max(1, n - 2)).mean()) if fitted else 0.005
    cov = np.linalg.pinv(A.T @ A)
    v_se = float(sigma * math.sqrt(cov[1, 1])) if fitted else 0.3
    return coef[0], coef[1], sigma, v_se


def velocity_break(times: np.ndarray, pos: np.ndarray, eye: np.ndarray | None = None) -> int | None:
    """Index of the frame from which a body on the floor moved at another velocity than before
    (a collision inside the window), or None when one velocity explains the steps.

    The steps between consecutive fitted positions ``pos`` (N, 3) at ``times`` (N,) s are split
    in two runs of constant velocity where their means differ most, in standard errors of the
    steps' scatter about them, taken along and across the line of sight from ``eye`` apart
    (depth comes from apparent size: its scatter is several times the other's; without ``eye``
    along the world's x and y). A break counts when the means differ by more than 0.15 m/s and,
    along one of the two, by more than four standard errors; the step that holds the collision
    belongs to the run after it (the instant inside a step is not measured).
    """
    if len(times) < 4:  # two runs and a scatter about them take three steps
        return None
    steps = np.diff(pos[:, :2], axis=0) / np.diff(times)[:, None]
    if eye is not None:
        sight = pos[-1, :2] - np.asarray(eye, float)[:2]
        sight = sight / max(float(np.linalg.norm(sight)), 1e-9)
        steps = steps @ np.array([sight, [-sight[1], sight[0]]]).T
    dof = max(1, len(steps) - 2)
    best, split = 0.0, None
    for s in range(1, len(steps)):
        a, b = steps[:s], steps[s:]
        jump = a.mean(0) - b.mean(0)
        if float(np.linalg.norm(jump)) < _BREAK_SPEED:
            continue
        spread = np.concatenate([a - a.mean(0), b - b.mean(0)])
        se = np.sqrt((spread**2).sum(0) / dof) * math.sqrt(1.0 / len(a) + 1.0 / len(b))
        score = float(np.max(np.abs(jump) / np.maximum(se, 1e-9)))
        if score > _BREAK_SIGNIFICANCE and score > best:
            best, split = score, s
    return split


def fit_arc(
    pose,
    times: np.ndarray,
    uv: np.ndarray,
    position: np.ndarray,
    velocity: np.ndarray,
    depth: np.ndarray | None = None,
    g: float = G,
) -> tuple[np.ndarray, np.ndarray, float]:
    """The ballistic arc whose projection best follows the pixel track ``uv`` (N, 2).

    Only where the body is seen (its image position, sub-pixel from the fits) enters, not its
    per-frame depth: at 64 px a 5-px ball's apparent size gives its depth to about 20 %, while
    its image acceleration under g gives it to a few %. ``depth`` (N,), optional: per-frame
    camera depths at one fixed size; only their ratios enter (weakly: 10 % = 1 px), which pins
    the motion along the line of sight that the pixel track alone leaves loose. Starts from
    ``position``/``velocity`` at the last time. Returns (position, velocity) at the last time and the RMS pixel residual of the
    frames kept (frames off the arc by over a pixel are dropped once).

    A falling arc is then refitted as a fall from rest (:func:`_fall_from_rest`), and that
    simpler path is returned where the pixels cannot tell it from the free arc.
    """
    from scipy.optimize import least_squares

    t = np.asarray(times, float) - float(times[-1])
    drop = np.outer(0.5 * g * t**2, [0.0, 0.0, 1.0])

    def resid(x):
        return _track_residual(pose, x[:3] + np.outer(t, x[3:]) - drop, uv, depth).ravel()

    x0 = np.concatenate([position, velocity])
    # A robust fit first, then a plain refit without frames off the arc by more than 0.75 px (a
    # body cut by the image edge, a stalled frame fit): a few such pixels bend the arc, and its
    # bend is the scale.
    res = least_squares(resid, x0, loss="soft_l1", f_scale=0.3)
    err = np.linalg.norm(resid(res.x).reshape(len(t), -1)[:, :2], axis=1)
    keep = err < max(0.75, 3.0 * float(np.median(err)))
    if keep.sum() < 4:
        keep[:] = True
    res = least_squares(_rows(resid, len(t), keep), res.x, method="lm")
    rms = float(np.sqrt(np.mean(res.fun.reshape(-1, 2 if depth is None else 3)[:, :2] ** 2)))
    p, v = res.x[:3], res.x[3:]
    if v[2] < 0 and keep.sum() >= 5:
        free = resid(res.x).reshape(len(t), -1)[keep, :2]
        rest = _fall_from_rest(pose, t, uv, depth, g, p, v[2] / g, keep, free)
        if rest is not None:
            return rest
    return p, v, rms


def _fall_from_rest(
    pose,
    t: np.ndarray,
    uv: np.ndarray,
    depth: np.ndarray | None,
    g: float,
    position: np.ndarray,
    release: float,
    keep: np.ndarray,
    free: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(position, velocity, RMS px) at the last time (``t`` is relative to it) of a fall from
    rest released at a fitted time (at rest before it; started from ``position`` and
    ``release``), or None where the free arc's pixels ``free`` (kept frames, 2
    columns) fit significantly better: its two more unknowns must cut the summed squared
    residual by more than ``_REST_F`` times their expected share (an F test, the noise floored
    at ``_REST_NOISE_PX``).

    The free arc's scale is the bend of a track a few pixels long; a body seen falling from
    rest has two unknowns fewer (no velocity at the release), so the whole fall sets the
    scale. On development drop windows (3 000 000-023 and 4 000 000-023) the median position
    error went from 20.9 to 17.3 and from 20.3 to 18.9 mm; thrown bodies never took it."""
    from scipy.optimize import least_squares

    def resid(x):
        since = np.maximum(t - x[3], 0.0)
        P = np.tile(x[:3], (len(t), 1))
        P[:, 2] += 0.5 * g * (x[3] ** 2 - since**2)
        return _track_residual(pose, P, uv, depth)

    res = least_squares(
        lambda x: resid(x).ravel(), np.append(position, release), loss="soft_l1", f_scale=0.3
    )
    pix = resid(res.x)[keep, :2]
    ssr_free, ssr_rest = float((free**2).sum()), float((pix**2).sum())
    noise = max(ssr_free / max(free.size - 6, 1), _REST_NOISE_PX**2)
    if res.x[3] >= 0 or (ssr_rest - ssr_free) / 2.0 > _REST_F * noise:
        return None
    rms = float(np.sqrt(np.mean(pix**2)))
    return res.x[:3], np.array([0.0, 0.0, g * res.x[3]]), rms


def _track_residual(pose, P: np.ndarray, uv: np.ndarray, depth: np.ndarray | None) -> np.ndarray:
    """(N, 2) pixel residuals of world points ``P`` (N, 3) against the track ``uv``, plus a
    third column, the weighted log depth ratio against ``depth``, where it is given."""
    pc = P @ pose.world_to_camera[:3, :3].T + pose.world_to_camera[:3, 3]
    z = np.maximum(pc[:, 2:3], 1e-3)
    r = ((pc / z) @ pose.K.T)[:, :2] - uv
    if depth is not None:
        ratio = np.log(z[:, 0] / z[-1, 0]) - np.log(depth / depth[-1])
        r = np.concatenate([r, _DEPTH_WEIGHT * ratio[:, None]], 1)
    return r


def _rows(resid, n: int, keep: np.ndarray):
    """``resid`` restricted to the kept frames' rows."""
    return lambda x: resid(x).reshape(n, -1)[keep].ravel()


def slide_to_roll(
    mean_velocity, roll_before, span: tuple[float, float], friction: float
) -> tuple[np.ndarray, np.ndarray]:
    """A ball's (velocity, roll) (each (3,) m/s; the roll is its spin times its radius) at the
    end of ``span`` (s after a blow), from its mean ``mean_velocity`` over ``span`` (a negative
    start reaches back to before the blow, when it rolled at ``roll_before``).

    A blow through the centre changes the speed, not the spin, so the ball slips; floor
    friction (``friction`` times g) slows the slip until it rolls again, at (5 v0 + 2 roll0) / 7
    (a solid sphere), at the rollout's friction. A ball rolling at 1.44 m/s, stopped short by
    a blow, was sped up again by its spin from 0.21 to 0.37 m/s within three frames; read as the
    mean over the frames since the blow, its speed was 0.30 (0.33 so; development collide
    3 000 009)."""
    mean_velocity = np.asarray(mean_velocity, float)
    roll0 = np.asarray(roll_before, float)
    decel = friction * G

    def state(v0: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(velocity, roll, displacement) at t s after the blow."""
        if t <= 0:
            return roll0, roll0, roll0 * t
        slip = v0 - roll0
        size = float(np.linalg.norm(slip))
        if size == 0 or decel <= 0:
            return v0, v0, v0 * t
        u = slip / size
        t_roll = size / (3.5 * decel)  # the slip closes at (1 + 5/2) times the deceleration
        s = min(t, t_roll)
        v = v0 - decel * u * s
        moved = v0 * s - 0.5 * decel * u * s * s + v * (t - s)
        return v, roll0 + 2.5 * decel * u * s, moved

    start, end = span
    v0 = mean_velocity.copy()
    for _ in range(20):  # the mean is near the identity in v0 (slope 5/7..1): fixed point
        mean = (state(v0, end)[2] - state(v0, start)[2]) / (end - start)
        v0 = v0 + (mean_velocity - mean)
    velocity, roll, _ = state(v0, end)
    return velocity, roll
