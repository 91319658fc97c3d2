"""Analysis by synthesis: fit an object's shape, size, pose and colour to observed pixels by
rendering candidates with the engine and minimising the pixel error (Nelder–Mead).

A single frame cannot tell a small near object from a large far one (the silhouette is the
same when the object is scaled about the camera eye, and the scenes have no shadows), so each
frame is fitted at a fixed depth and the scale is resolved per track afterwards by physics: at
rest or sliding, a body touches the floor (see :func:`twinsim.neural.support.contact_scale`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize
from scipy.spatial.transform import Rotation
from twinsim.neural.canvas import Canvas
from twinsim.neural.support import lowest_offset
from twinsim.sim.render.camera import CameraPose
from twinsim.sim.spec import ObjectSpec

__all__ = [
    "FIT_SHAPES",
    "FrameFit",
    "fit_frame",
    "lowest_offset",
    "pixel_ray",
    "project",
    "proportioned",
    "scaled",
]

FIT_SHAPES = ("sphere", "box", "cylinder")
_STEP_PX, _STEP_LOG, _STEP_ROT = 0.8, 0.12, 0.35  # initial simplex sizes
# half length (m) of a slab longer than any body (scale.SIZE_RANGE): a ramp, tilted about its
# own level side
RAMP_MIN_HALF = 0.2
_CUBE_PRIOR = 20000.0  # pixel-error units per unit variance of a box's log half extents


@dataclass(frozen=True)
class FrameFit:
    """An object fitted in one frame (at some depth; see :func:`scaled`).

    Attributes:
        shape, size, color: the look (spec conventions; colour RGBA in 0..1).
        position: (3,) world position (m). orientation: (4,) quaternion xyzw.
        error: mean absolute pixel error (0..255) over the object's observed and rendered pixels.
        evals: renders spent.
    """

    shape: str
    size: tuple[float, ...]
    color: tuple[float, float, float, float]
    position: np.ndarray
    orientation: np.ndarray
    error: float
    evals: int

    def spec(self, name: str = "fit") -> ObjectSpec:
        return ObjectSpec(
            name=name,
            shape=self.shape,
            size=tuple(float(s) for s in self.size),
            color=self.color,
            position=tuple(float(x) for x in self.position),
            orientation=tuple(float(x) for x in self.orientation),
        )


def compass_search(loss, x0: np.ndarray, steps: np.ndarray, max_evals: int, shrink: int = 4):
    """Pattern search polish: try +-step on each coordinate, move on any gain, halve the steps
    when none helps. Copes with the piecewise-constant error of a rasteriser better than NM's
    shrinking simplex. Returns (x, loss(x), evals)."""
    x, fx, n = np.asarray(x0, float).copy(), float(loss(x0)), 1
    steps = np.asarray(steps, float).copy()
    for _ in range(shrink):
        improved = True
        while improved and n < max_evals:
            improved = False
            for i in range(len(x)):
                for sgn in (1.0, -1.0):
                    y = x.copy()
                    y[i] += sgn * steps[i]
                    fy = float(loss(y))
                    n += 1
                    if fy < fx:
                        x, fx, improved = y, fy, True
                        break
        steps /= 2
    return x, fx, n


def pixel_ray(pose: CameraPose, u: float, v: float) -> np.ndarray:
    """World direction through continuous pixel (u, v), scaled so its camera depth is 1."""
    d_cam = np.linalg.solve(pose.K, np.array([u, v, 1.0]))
    return pose.world_to_camera[:3, :3].T @ d_cam


def project(pose: CameraPose, point: np.ndarray) -> tuple[np.ndarray, float]:
    """Pixel (u, v) and camera depth of a world point."""
    pc = pose.world_to_camera[:3, :3] @ np.asarray(point, float) + pose.world_to_camera[:3, 3]
    uv = pose.K @ (pc / pc[2])
    return uv[:2], float(pc[2])


def scaled(fit: FrameFit, eye: np.ndarray, lam: float) -> FrameFit:
    """The fit scaled by ``lam`` about the camera eye (the same image, a different depth)."""
    pos = eye + lam * (fit.position - eye)
    return replace(fit, position=pos, size=tuple(s * lam for s in fit.size))


def proportioned(size, like) -> tuple[float, ...]:
    """``size``'s extents given to ``like``'s axes by rank (longest to longest), at ``like``'s
    geometric mean: the same body, drawn as large as ``like`` in the frame."""
    size, like = np.asarray(size, float), np.asarray(like, float)
    if len(size) != len(like) or len(size) < 2:
        return tuple(map(float, like))
    out = np.empty_like(like)
    out[np.argsort(like)] = np.sort(size)
    out *= np.exp(np.mean(np.log(like)) - np.mean(np.log(out)))
    return tuple(map(float, out))


def _decode(
    theta,
    shape,
    pose,
    depth,
    u0,
    v0,
    q0,
    fixed_size=None,
    local: bool = False,
    level_side: bool = False,
) -> tuple[tuple[float, ...], np.ndarray, np.ndarray]:
    """Parameters -> (size, position, quaternion). With ``fixed_size`` the third parameter is
    the log of the depth factor instead of the sizes (no body rebuild per render). The last
    three are a rotation vector applied after ``q0`` in the world frame, or with ``local`` in
    the body's own frame; with ``level_side`` too, the last one turns about the vertical
    instead (a ramp tilted about its own level side keeps it level)."""
    eye = np.asarray(pose.eye)
    if fixed_size is not None:
        size, n = tuple(fixed_size), 1
        depth = depth * float(np.exp(theta[2]))
    else:
        n = {"sphere": 1, "box": 3, "cylinder": 2}[shape]
        size = tuple(float(np.exp(x)) for x in theta[2 : 2 + n])
    pos = eye + depth * pixel_ray(pose, u0 + theta[0], v0 + theta[1])
    if shape == "sphere":
        return size, pos, q0
    rx, ry, rz = theta[2 + n : 5 + n]
    if local and level_side:
        turned = Rotation.from_rotvec([0.0, 0.0, rz]) * Rotation.from_quat(q0)
        rot = turned * Rotation.from_rotvec([rx, ry, 0.0])
    elif local:
        rot = Rotation.from_quat(q0) * Rotation.from_rotvec([rx, ry, rz])
    else:
        rot = Rotation.from_rotvec([rx, ry, rz]) * Rotation.from_quat(q0)
    return size, pos, rot.as_quat()


@dataclass(frozen=True)
class _Start:
    """Where one run of the frame fit starts: log sizes, pixel offset of the centre, the
    orientation, the colour it is drawn in, whether the cube prior applies, whether it is a slab
    (rotated in its own frame, its long side kept level), and whether it is an upright
    alternative (it turns about the vertical only: a wall running out of view would otherwise
    tilt its unseen end below the floor), or a ramp (a slab longer than any body: tilted about
    its side, turned about the vertical, so its side stays level)."""

    log_size: np.ndarray
    offset: np.ndarray
    orientation: np.ndarray
    color: tuple[float, float, float, float]
    cube_prior: bool
    slab: bool = False
    upright: bool = False
    ramp: bool = False


def fit_frame(
    canvas: Canvas,
    observed: np.ndarray,
    others: list[ObjectSpec | None],
    slot: int,
    start: FrameFit,
    depth: float,
    max_evals: int = 300,
    orientations: tuple[np.ndarray, ...] = (),
    fixed_size: bool = False,
    mask: np.ndarray | None = None,
    ignore: np.ndarray | None = None,
    alternatives: tuple[FrameFit, ...] = (),
) -> FrameFit:
    """Refine ``start`` against one observed (H, W, 3) uint8 frame at fixed camera ``depth``.

    ``others`` are the other objects drawn meanwhile (``others[slot]`` is replaced by the
    candidate); ``orientations`` are extra starting orientations to try and ``alternatives``
    extra whole starts (size, pose; the shape stays ``start``'s): the best one wins.
    The colour is refitted from the rendered and observed pixels after the geometry. With
    ``fixed_size`` the size stays and the depth is fitted instead (the same image family).
    ``mask`` (H, W) bool: the object's observed pixels (the colour is matched inside it only).
    ``ignore`` (H, W) bool: pixels left out of the error (other objects' blobs: what is behind
    them is unknown, and a candidate must not grow to explain them).
    """
    keep = None if ignore is None else (~ignore).astype(np.float32)
    pose = canvas.pose
    obs = observed.astype(np.float32)
    uv, _ = project(pose, start.position)
    u0, v0 = float(uv[0]), float(uv[1])
    # re-express the start at the requested depth: scale about the eye
    _, d_start = project(pose, start.position)
    start = scaled(start, np.asarray(pose.eye), depth / d_start)
    objs = list(others)
    evals = 0

    def render(size, pos, q, color):
        nonlocal evals
        evals += 1
        objs[slot] = ObjectSpec(name="fit", shape=start.shape, size=size, color=color)
        poses = [None] * len(objs)
        for i, o in enumerate(objs):
            if o is not None:
                poses[i] = (o.position, o.orientation)
        poses[slot] = (pos, q)
        rgb, _ = canvas.render(objs, poses)
        return rgb

    color = _refit_color(
        canvas,
        obs,
        objs,
        slot,
        start.shape,
        start.size,
        start.position,
        start.orientation,
        start.color,
        mask,
    )
    fixed = start.size if fixed_size else None

    cube_prior = start.shape == "box" and not fixed_size
    cur = _Start(
        np.log(start.size), np.zeros(2), np.asarray(start.orientation, float), color, cube_prior
    )

    def loss(theta, st: _Start | None = None):
        st = st or cur
        size, pos, q = _decode(
            theta, start.shape, pose, depth, u0, v0, st.orientation, fixed, st.slab, st.ramp
        )
        if any(s < 1e-3 or s > 5.0 for s in size):
            return 1e12
        rgb = render(size, pos, q, st.color)
        diff = np.abs(rgb.astype(np.float32) - obs).sum(-1)
        err = float(diff.sum() if keep is None else (diff * keep).sum())
        if st.cube_prior:
            # A box's depth extent shows only as a few pixels of its top face: prefer
            # near-cubic boxes where the pixels cannot tell (about 1 px of error per 10 %).
            err += _CUBE_PRIOR * float(np.var(np.log(size)))
        return err

    def optimise(theta0, steps, free, evals):
        """NM over the ``free`` coordinates, a restart, then a compass polish."""
        free = np.asarray(free)
        steps = np.asarray(steps, float)[free]

        def sub(z):
            th = theta0.copy()
            th[free] = z
            return loss(th)

        z0 = theta0[free]
        simplex = np.vstack([z0, z0 + np.diag(steps)])
        res = minimize(
            sub,
            z0,
            method="Nelder-Mead",
            options={"maxfev": evals, "initial_simplex": simplex, "xatol": 1e-3, "fatol": 1.0},
        )
        z = res.x
        if res.fun > 0:  # restart once from the optimum with a fresh simplex (NM stalls)
            simplex = np.vstack([z, z + 0.5 * np.diag(steps)])
            res2 = minimize(
                sub,
                z,
                method="Nelder-Mead",
                options={"maxfev": evals // 2, "initial_simplex": simplex, "xatol": 1e-3},
            )
            z = res2.x if res2.fun < res.fun else z
        z, fz, _ = compass_search(sub, z, 0.5 * steps, evals // 2)
        th = theta0.copy()
        th[free] = z
        return th, fz

    eye = np.asarray(pose.eye)
    starts = [cur]
    if start.shape != "sphere":
        starts += [dataclasses.replace(cur, orientation=np.asarray(q, float)) for q in orientations]
    for alt in alternatives:  # at the fitted depth, offset to where it projects
        uv_alt, d_alt = project(pose, alt.position)
        alt = scaled(alt, eye, depth / d_alt)
        # its own colour: a slab shows other faces, shaded otherwise, than an upright box
        alt_color = _refit_color(
            canvas,
            obs,
            objs,
            slot,
            start.shape,
            alt.size,
            alt.position,
            alt.orientation,
            alt.color,
            mask,
        )
        upright = abs(Rotation.from_quat(alt.orientation).as_matrix()[2, 2]) > 0.999
        starts.append(
            _Start(
                np.log(alt.size),
                uv_alt - (u0, v0),
                np.asarray(alt.orientation),
                alt_color,
                cube_prior=False,
                slab=True,
                upright=upright,
                ramp=not upright and float(alt.size[0]) >= RAMP_MIN_HALF,
            )
        )
    best: tuple[float, np.ndarray, _Start] | None = None
    for n_start, cur in enumerate(starts):
        if fixed_size:
            theta0, steps = np.zeros(3), [_STEP_PX, _STEP_PX, 0.05]
        else:
            theta0 = np.concatenate([cur.offset, cur.log_size])
            steps = [_STEP_PX, _STEP_PX] + [_STEP_LOG] * len(cur.log_size)
        n = len(theta0)
        if start.shape == "sphere":
            theta, fx = optimise(theta0, steps, np.arange(n), max_evals)
        else:
            theta0 = np.concatenate([theta0, np.zeros(3)])
            steps = [*steps, _STEP_ROT, _STEP_ROT, _STEP_ROT]
            if cur.slab:  # tilt about its side and turn about its normal; the side stays level
                turns = [n + 2] if cur.upright else [n + 1, n + 2]
                theta, fx = optimise(theta0, steps, [*range(n), *turns], max_evals)
            else:
                if n_start == 0:  # upright first (yaw only): most bodies rest on a face
                    theta0, _ = optimise(theta0, steps, [*range(n), n + 2], max_evals)
                theta, fx = optimise(theta0, steps, np.arange(n + 3), max_evals)
        if best is not None and best[2].cube_prior and not cur.cube_prior:
            # a slab against the prior's winner: the pixels alone judge (the prior is a
            # tie-break for proportions the pixels cannot tell, not a claim against slabs)
            best = (loss(best[1], dataclasses.replace(best[2], cube_prior=False)), *best[1:])
        if best is None or fx < best[0]:
            best = (fx, theta, cur)
    _, theta, cur = best
    q0, color = cur.orientation, cur.color
    size, pos, q = _decode(theta, start.shape, pose, depth, u0, v0, q0, fixed, cur.slab, cur.ramp)
    color = _refit_color(canvas, obs, objs, slot, start.shape, size, pos, q, color, mask)
    objs[slot] = ObjectSpec(name="fit", shape=start.shape, size=size, color=color)
    poses = [None if o is None else (o.position, o.orientation) for o in objs]
    poses[slot] = (pos, q)
    rgb, seg = canvas.render(objs, poses, segmentation=True)
    diff = np.abs(rgb.astype(np.float32) - obs).sum(-1) / 3
    region = seg == slot + 1
    err = float(diff[region].mean()) if region.any() else float("inf")
    return FrameFit(start.shape, size, color, pos, np.asarray(q), err, evals + 1)


def _refit_color(canvas, obs, objs, slot, shape, size, pos, q, color, mask, rounds: int = 2):
    """Scale the colour so the mean rendered colour matches the observed one where the body is
    both rendered and (``mask``) observed (shading is linear in the colour)."""
    for _ in range(rounds):
        objs[slot] = ObjectSpec(name="fit", shape=shape, size=tuple(size), color=color)
        poses = [None if o is None else (o.position, o.orientation) for o in objs]
        poses[slot] = (pos, q)
        rgb, seg = canvas.render(objs, poses, segmentation=True)
        m = seg == slot + 1
        if mask is not None:
            m &= mask
        if m.sum() < 2:
            break
        ratio = obs[m].mean(0) / np.maximum(rgb[m].astype(np.float32).mean(0), 1.0)
        color = (
            *[float(np.clip(c * r, 0.0, 1.0)) for c, r in zip(color[:3], ratio, strict=True)],
            1.0,
        )
    return color
