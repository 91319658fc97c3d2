"""Moving bodies drawn with their own observed pixels, moved as the engine moves them.

The engine's render of a body is only as good as its fit: a cylinder laid level where the
truth still rocks a few degrees, a ball's facets at the wrong turn, a box a pixel too wide.
Every such pixel is wrong in every predicted frame. A body's pixels in the last observed frame
are right by definition; what the frames cannot show is where it goes, which the engine says.
So a moving body that does not turn much is drawn as a *sprite*: its pixels in the last
frame, shifted and scaled as its centre's projection moves in the rollout (bilinear, with its
mask as alpha), over the composite (where the render drew the body itself, what is around it:
the fit's outline would show through the sprite's edges), farthest first, and behind any other
body the render shows nearer. A body that turns shows faces the last frame does not: it is left
to the render.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from twinsim.sim.rollout import Rollout
from twinsim.sim.spec import SceneSpec

__all__ = ["Sprite", "paint_sprites"]

_MAX_TURN = 0.2  # rad over the rollout; a sphere's turn does not change its look


@dataclass(frozen=True)
class Sprite:
    """A body's observed pixels: ``name`` in the played spec, ``mask`` (H, W) bool in the
    last observed frame."""

    name: str
    mask: np.ndarray


def paint_sprites(
    frames: np.ndarray, last: np.ndarray, sprites: tuple[Sprite, ...], spec: SceneSpec, ro: Rollout
) -> np.ndarray:
    """``frames`` (horizon, H, W, 3) uint8 (a composite of the rollout ``ro`` of ``spec``,
    frames 1..horizon; ``ro`` with segmentation, depth and object tracks) with each sprite's
    body that moves without turning much drawn from ``last`` (H, W, 3) uint8; a new array."""
    from scipy.ndimage import distance_transform_edt
    from twinsim.neural.refine import project
    from twinsim.neural.settle import turn
    from twinsim.neural.support import reach
    from twinsim.sim.render.camera import camera_pose_at

    if not sprites:
        return frames
    pose = camera_pose_at(spec.cameras[0], 0.0)
    index = {o.name: i for i, o in enumerate(spec.objects)}
    chosen = []
    for s in sprites:
        i = index.get(s.name)
        if i is None or not s.mask.any():
            continue
        tr = ro.objects[i]
        n = min(len(frames) + 1, len(tr.position))
        turned = float(turn(tr.orientation[0], tr.orientation[:n]).max())
        if spec.objects[i].shape != "sphere" and turned > _MAX_TURN:
            continue
        chosen.append((i, s.mask, tr))
    if not chosen:
        return frames
    out = frames.astype(np.float32)
    h, w = last.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    seg = ro.segmentation
    sprite_ids = [i + 1 for i, _, _ in chosen]
    # per sprite: its segmentation id, alpha and premultiplied colour, nearest reach, and its
    # centre's pixel and depth in the last frame
    layers = []
    for i, mask, tr in chosen:
        alpha = mask.astype(np.float32)[..., None]
        uv0, z0 = project(pose, tr.position[0])
        far = reach(spec.objects[i].shape, spec.objects[i].size)
        layers.append((i + 1, alpha, last.astype(np.float32) * alpha, far, uv0, z0, tr))
    for t in range(1, min(len(frames), len(seg) - 1) + 1):
        # the render's own drawing of a sprite's body goes, or it would show through the
        # sprite's edges as a ghost: filled with the nearest pixel the render calls background
        drawn = np.isin(seg[t], sprite_ids)
        if drawn.any() and (seg[t] == 0).any():
            _, (iv, iu) = distance_transform_edt(seg[t] != 0, return_indices=True)
            out[t - 1][drawn] = out[t - 1][iv[drawn], iu[drawn]]
        now = [(*layer, *project(pose, layer[-1].position[t])) for layer in layers]
        # farthest first, so nearer sprites cover farther ones
        for _, alpha0, colour0, far, uv0, z0, _, uvt, zt in sorted(now, key=lambda n: -n[-1]):
            scale = z0 / zt
            # where the target pixel centre came from in the last frame
            su = uv0[0] + (xs + 0.5 - uvt[0]) / scale - 0.5
            sv = uv0[1] + (ys + 0.5 - uvt[1]) / scale - 0.5
            alpha = _bilinear(alpha0, su, sv)[..., 0]
            premult = _bilinear(colour0, su, sv)
            # in front of the sprite: another body's surface nearer than the sprite body's
            # nearest point could be (a body beside it, however near its centre, is not)
            nearer = ~np.isin(seg[t], [0, *sprite_ids]) & (ro.depth[t] < zt - far)
            alpha = np.where(nearer, 0.0, alpha)
            premult = np.where(nearer[..., None], 0.0, premult)
            out[t - 1] = premult + (1.0 - alpha[..., None]) * out[t - 1]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _bilinear(img: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(H, W, C) ``img`` sampled at continuous pixel indices (u: column, v: row); zero
    outside."""
    h, w = img.shape[:2]
    u0, v0 = np.floor(u).astype(int), np.floor(v).astype(int)
    fu, fv = (u - u0)[..., None], (v - v0)[..., None]
    out = np.zeros((*u.shape, img.shape[2]), np.float32)
    for du, dv, wt in ((0, 0, (1 - fu) * (1 - fv)), (1, 0, fu * (1 - fv)),
                       (0, 1, (1 - fu) * fv), (1, 1, fu * fv)):  # fmt: skip
        uu, vv = u0 + du, v0 + dv
        ok = (uu >= 0) & (uu < w) & (vv >= 0) & (vv < h)
        out += np.where(ok[..., None], img[vv.clip(0, h - 1), uu.clip(0, w - 1)], 0.0) * wt
    return out
