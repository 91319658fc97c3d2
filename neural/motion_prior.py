"""A constant-velocity guess of the next frame's flow, computed from two frames without learning.

The world model's flow head does not learn, from pixels, where a small body goes next: measured
teacher-forced on moving bodies, its flow is worse than predicting no motion (docs/neural.md).
This module supplies the guess that the network then corrects (``model.motion_prior``): match
each pixel of the newest frame to the frame before it (a soft arg-min over displacements, at
half resolution so that one step's search window covers +-2r pixels), assume each pixel keeps
moving the same way, and splat that displacement forward to where the content will be (the
strip a body leaves keeps pointing back to the floor behind it). The result is the next frame's
backward flow, ``next[q] ~ newest[q + flow[q]]``, the convention of the model's warp."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["constant_velocity_flow", "match_displacement", "splat_forward"]


def match_displacement(newest: Tensor, previous: Tensor, radius: int, temperature: float) -> Tensor:
    """Where each pixel of ``newest`` was in ``previous``: (B, 2, H, W), (dx, dy) in pixels.

    A softmax over the (2r + 1)**2 displacements of minus the 3x3-averaged mean absolute colour
    difference, divided by ``temperature``; its expectation is the displacement (sub-pixel, and
    near 0 where the match is ambiguous, as inside a flat region).
    """
    h, w = newest.shape[-2:]
    side = 2 * radius + 1
    padded = F.pad(previous, (radius,) * 4, mode="replicate")
    cost = torch.stack(
        [
            (newest - padded[:, :, dy : dy + h, dx : dx + w]).abs().mean(1)
            for dy in range(side)
            for dx in range(side)
        ],
        1,
    )
    cost = F.avg_pool2d(cost, 3, stride=1, padding=1, count_include_pad=False)
    weight = torch.softmax(-cost / temperature, 1)
    offsets = torch.arange(-radius, radius + 1, dtype=newest.dtype, device=newest.device)
    dx = (weight * offsets.repeat(side)[None, :, None, None]).sum(1)
    dy = (weight * offsets.repeat_interleave(side)[None, :, None, None]).sum(1)
    return torch.stack([dx, dy], 1)


def splat_forward(displacement: Tensor, sharpness: float = 2.0) -> Tensor:
    """The next frame's backward flow (B, 2, H, W) if every pixel keeps its ``displacement``.

    Content at p came from p + d and so goes to p - d, where the next frame's flow is d.
    Bilinear splatting; where several pixels land on one, the faster one wins (weight
    exp(sharpness * |d|): a moving body passes in front of the still background). Where less
    than a whole pixel lands (the strip a body has just left), the rest is the pixel's own
    displacement: it points back along the motion, to the floor beside the body, which is
    what the strip will show (with 0 there instead, the warp leaves a trail of the body).
    """
    b, _, h, w = displacement.shape
    n = h * w
    ys = torch.arange(h, dtype=displacement.dtype, device=displacement.device)
    xs = torch.arange(w, dtype=displacement.dtype, device=displacement.device)
    tx = (xs[None, None, :] - displacement[:, 0]).reshape(-1)
    ty = (ys[None, :, None] - displacement[:, 1]).reshape(-1)
    d = displacement.permute(0, 2, 3, 1).reshape(-1, 2)
    z = torch.exp(sharpness * d.norm(dim=1, keepdim=True))
    values = torch.cat([z * d, z, torch.ones_like(z)], 1)  # z*dx, z*dy, z, coverage
    first = (torch.arange(b, device=d.device) * n).repeat_interleave(n)
    x0, y0 = tx.floor(), ty.floor()
    fx, fy = tx - x0, ty - y0
    index, weight = [], []
    for ox in (0, 1):
        for oy in (0, 1):
            xi, yi = x0 + ox, y0 + oy
            inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            index.append(first + (yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).long())
            weight.append((fx if ox else 1 - fx) * (fy if oy else 1 - fy) * inside)
    sums = d.new_zeros(b * n, 4)  # one index_add for all four corners: the fastest on CPU
    sums.index_add_(0, torch.cat(index), values.repeat(4, 1) * torch.cat(weight)[:, None])
    coverage = sums[:, 3:4].clamp(max=1.0)
    flow = sums[:, :2] / sums[:, 2:3].clamp_min(1e-6) * coverage + d * (1 - coverage)
    return flow.reshape(b, h, w, 2).permute(0, 3, 1, 2).contiguous()


@torch.no_grad()
def constant_velocity_flow(
    newest: Tensor, previous: Tensor, radius: int = 2, temperature: float = 0.03
) -> Tensor:
    """Next frame's backward flow (B, 2, H, W) in pixels from two frames (B, 3, H, W) in [0, 1].

    Matching runs at half resolution (searching +-2 * ``radius`` pixels) and is upsampled;
    splatting runs at full resolution. No gradients: it is an input, not a learned part.
    """
    h, w = newest.shape[-2:]
    if h % 2 or w % 2:
        raise ValueError(f"constant_velocity_flow needs even frame sides, got {h}x{w}")
    half = match_displacement(
        F.avg_pool2d(newest, 2), F.avg_pool2d(previous, 2), radius, temperature
    )
    displacement = F.interpolate(half * 2, size=(h, w), mode="bilinear", align_corners=False)
    return splat_forward(displacement)
