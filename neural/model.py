"""The predictor: a small conv U-Net that warps the last frame, recalls a memory image and paints.

At every step the network sees the last K frames and a persistent memory image and outputs, per
pixel, a flow (to warp the last frame), a 3-way blend between the warped frame, the memory and
freshly generated colour, and a write mask that decides which pixels of the newest frame are
stored in memory. An object hidden by a passing occluder is never written over in memory, so it
can be restored from there once the occluder has moved on (object permanence). Predictions are
fed back as inputs (autoregressive rollout); training unrolls several steps so errors do not
compound.

Frames are float tensors (B, 3, H, W) in [0, 1]; actions (B, T, A) float.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from twinsim.neural.carry import MIN_SEEN, BatchCarrier
from twinsim.neural.config import InferenceConfig, ModelConfig
from twinsim.neural.motion_prior import constant_velocity_flow

__all__ = ["FlowMemoryNet", "RolloutOutput"]

_HEADS = 2 + 3 + 3 + 1  # flow, blend logits, generated rgb, write logit (+ keep, + guess gate)


def _block(cin: int, cout: int) -> nn.Sequential:
    groups = 4 if cout % 4 == 0 else 1
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.GroupNorm(groups, cout),
        nn.GELU(),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.GroupNorm(groups, cout),
        nn.GELU(),
    )


def _stem_input(parts: list[Tensor]) -> Tensor:
    """The stem's input: ``parts`` (B, C_i, H, W) concatenated on channels, mapped to [-1, 1],
    written straight into a channels-last tensor. Concatenating in NCHW and leaving the
    convolution to reorder its input cost about 2.5x this (the same numbers)."""
    b, _, h, w = parts[0].shape
    out = torch.empty(
        (b, sum(p.shape[1] for p in parts), h, w),
        dtype=parts[0].dtype,
        device=parts[0].device,
        memory_format=torch.channels_last,
    )
    c = 0
    for p in parts:
        out[:, c : c + p.shape[1]] = p
        c += p.shape[1]
    return out.mul_(2).sub_(1)


def frames_to_tensor(clips: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 (B, T, H, W, 3) -> float (B, T, 3, H, W) in [0, 1] on ``device``."""
    x = torch.from_numpy(np.ascontiguousarray(clips)).to(device)
    return x.permute(0, 1, 4, 2, 3).float().div_(255.0)


class _Stacked:
    """A field of :class:`RolloutOutput`: its steps' (B, C, H, W) tensors stacked on dim 1 when
    first read; (B, 0, C, H, W) when there are none. The result is stored on the instance,
    which then shadows this (non-data) descriptor: later reads are plain attribute reads."""

    def __init__(self, channels: int) -> None:
        self.channels = channels

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, out: RolloutOutput | None, owner: type) -> Tensor:
        if out is None:
            return self  # type: ignore[return-value]  (class access: the descriptor)
        steps = out._steps[self.name]
        if steps:
            value = torch.stack(steps, 1)
        else:
            b, _, _, h, w = out._frames.shape
            value = out._frames.new_zeros(b, 0, self.channels, h, w)
        out.__dict__[self.name] = value
        return value


class RolloutOutput:
    """Predictions of :meth:`FlowMemoryNet.rollout`, each stacked from the steps' tensors on
    first access (prediction reads three of the seven; stacking the rest cost about 3 % of a
    batch's time).

    Attributes:
        teacher: (B, n_obs - 1, 3, H, W) one-step predictions of observed frames 1..n_obs-1
            (each from the true frames before it).
        future: (B, horizon, 3, H, W) free-running predictions after the observed frames.
        writes: (B, n_obs - 1 + horizon, 1, H, W) memory write masks; entry t is the share of
            frame t (observed, or predicted when t >= n_obs) stored into memory.
        keeps: like ``writes``, the keep gate of each step (probability that the pixel keeps
            the newest input frame's value); empty unless ``model.keep_gate``.
        flows: (B, n_obs - 1 + horizon, 2, H, W) the warp of each step in pixels: where each
            pixel of the predicted frame comes from in the newest input frame (backward flow).
        blends: (B, n_obs - 1 + horizon, 3, H, W) blend weights of each step (warped frame,
            memory, paint).
        carried: (B, n_obs - 1 + horizon, 1, H, W) 1 where the carry rule drew a hidden body
            into the step's frame (:mod:`twinsim.neural.carry`); empty when it is off.
    """

    teacher = _Stacked(3)
    future = _Stacked(3)
    writes = _Stacked(1)
    keeps = _Stacked(1)
    flows = _Stacked(2)
    blends = _Stacked(3)
    carried = _Stacked(1)

    def __init__(self, frames: Tensor, steps: dict[str, list[Tensor]]) -> None:
        self._frames = frames  # (B, T, 3, H, W): batch, size, dtype and device of empty fields
        self._steps = steps


class FlowMemoryNet(nn.Module):
    """U-Net over K context frames plus a memory image; see the module docstring."""

    def __init__(self, cfg: ModelConfig, inference: InferenceConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        # load-time settings (snap, recall): not part of what the checkpoint is
        self.inference = inference if inference is not None else InferenceConfig()
        cin = 3 * cfg.context + self.memory_channels + cfg.action_dim + 2 * cfg.motion_prior
        ch = cfg.channels
        self.enc = nn.ModuleList()
        self.down = nn.ModuleList()
        self.stem = nn.Sequential(nn.Conv2d(cin, cfg.stem_channels, 3, padding=1), nn.GELU())
        s = cfg.stem_stride
        self.stem_down = nn.Conv2d(cfg.stem_channels, cfg.stem_channels, 3, stride=s, padding=1)
        prev = cfg.stem_channels
        for i, c in enumerate(ch):
            self.enc.append(_block(prev, c))
            if i + 1 < len(ch):
                self.down.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
            prev = c
        self.dec = nn.ModuleList()
        for i in range(len(ch) - 2, -1, -1):
            self.dec.append(_block(ch[i + 1] + ch[i], ch[i]))
        self.head = nn.Sequential(
            nn.Conv2d(ch[0] + cfg.stem_channels, ch[0], 3, padding=1),
            nn.GELU(),
            nn.Conv2d(ch[0], _HEADS + int(cfg.keep_gate) + int(cfg.motion_prior), 3, padding=1),
        )
        # Start as copy-last: zero flow. Soft writes: blend favouring the warped frame, light
        # memory writes (0.5). Hard writes: every pixel stored (0.88 rounds to 1), so memory is
        # the last frame, and the blend shared evenly between warped frame and memory (recalling
        # memory where an occluder moves off is then the default), with little paint.
        with torch.no_grad():
            self.head[-1].weight.mul_(0.01)
            self.head[-1].bias.zero_()
            blend = [0.0, 0.0, -3.0] if cfg.hard_write else [3.0, 0.0, -1.0]
            self.head[-1].bias[2:5] = torch.tensor(blend)
            self.head[-1].bias[8] = 2.0 if cfg.hard_write else 0.0
            if cfg.motion_prior:  # the guess gate (last channel) starts mostly open (0.88)
                self.head[-1].bias[-1] = 2.0
        ys, xs = torch.meshgrid(
            torch.linspace(-1 + 1 / cfg.resolution, 1 - 1 / cfg.resolution, cfg.resolution),
            torch.linspace(-1 + 1 / cfg.resolution, 1 - 1 / cfg.resolution, cfg.resolution),
            indexing="ij",
        )
        self.register_buffer("grid", torch.stack([xs, ys], -1)[None], persistent=False)

    @property
    def memory_channels(self) -> int:
        """RGB, plus the validity channel with hard writes."""
        return 4 if self.cfg.hard_write else 3

    def step(
        self, ctx: Tensor | Sequence[Tensor], memory: Tensor, action: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor | None, Tensor, Tensor]:
        """One step: context (B, K, 3, H, W) (or its K frames (B, 3, H, W), oldest first, which
        spares stacking them) and memory (B, M, H, W) -> next frame, new memory,
        the (soft) write mask (B, 1, H, W) that stored the newest context frame into memory,
        the keep gate (B, 1, H, W) (None without ``cfg.keep_gate``), the flow (B, 2, H, W) and
        the blend weights (B, 3, H, W).

        With ``cfg.hard_write`` the memory update uses the mask rounded to 0 or 1 and memory has
        a 4th channel, 1 where a pixel has ever been stored (an input, so that the network knows
        where recalling memory can be trusted); otherwise memory is RGB only.
        """
        frames = ctx.unbind(1) if isinstance(ctx, Tensor) else ctx
        last = frames[-1]
        b, _, h, w = last.shape
        parts = [*frames, memory]
        if self.cfg.action_dim:
            if action is None:
                action = last.new_zeros(b, self.cfg.action_dim)
            parts.append(action[:, :, None, None].expand(-1, -1, h, w))
        guess = None
        if self.cfg.motion_prior:
            guess = constant_velocity_flow(last, frames[-2])
            parts.append(guess / self.cfg.max_flow)
        stem = self.stem(_stem_input(parts))
        x = F.gelu(self.stem_down(stem))
        skips = []
        for i, enc in enumerate(self.enc):
            x = enc(x)
            if i < len(self.down):
                skips.append(x)
                x = self.down[i](x)
        for dec in self.dec:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = dec(torch.cat([x, skip], 1))
        if x.shape[-1] != w:
            x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        # NCHW before slicing the heads: elementwise ops on channel slices of a channels-last
        # tensor take a slow strided path
        out = self._heads(torch.cat([x, stem], 1)).contiguous()
        flow = torch.tanh(out[:, 0:2]) * self.cfg.max_flow
        if guess is not None:  # the network gates the constant-velocity guess and corrects it
            flow = flow + torch.sigmoid(out[:, -1:]) * guess
        blend = torch.softmax(out[:, 2:5], 1)
        paint = torch.sigmoid(out[:, 5:8])
        soft = torch.sigmoid(out[:, 8:9])
        write = soft
        if self.cfg.hard_write:  # store or keep exactly; gradients pass straight through
            write = soft + ((soft > 0.5).to(soft.dtype) - soft).detach()
        # Flow in pixels -> normalised grid offsets (align_corners=False convention).
        scale = torch.tensor([2.0 / w, 2.0 / h], device=last.device, dtype=last.dtype)
        grid = self.grid + flow.permute(0, 2, 3, 1) * scale
        warped = F.grid_sample(
            last, grid, mode="bilinear", padding_mode="border", align_corners=False
        )
        rgb = write * last + (1 - write) * memory[:, :3]
        if self.cfg.hard_write:
            valid = memory[:, 3:]
            memory = torch.cat([rgb, valid + write - valid * write], 1)
        else:
            memory = rgb
        pred = (blend[:, 0:1] * warped + blend[:, 1:2] * rgb + blend[:, 2:3] * paint).clamp(0, 1)
        keep = None
        if self.cfg.keep_gate:
            # Where the gate says "unchanged", show the newest frame exactly: soft in training
            # (so the gate gets gradients), hard at inference (still pixels stay still).
            keep = torch.sigmoid(out[:, 9:10])
            if self.training:
                pred = keep * last + (1 - keep) * pred
            else:
                pred = torch.where(keep > 0.5, last, pred)
        recall, snap = self.inference.recall, self.inference.snap
        if recall > 0 and self.cfg.hard_write and not self.training:
            # Uncovered: the newest frame was held out of memory here (occluder) and the
            # prediction leaves it; what memory saw before the occluder came comes back.
            held = (write < 0.5) & (memory[:, 3:] > 0.5)
            leaves = (pred - last).abs().amax(1, keepdim=True) > recall / 255.0
            pred = torch.where(held & leaves, memory[:, :3], pred)
        if snap > 0 and not self.training:
            still = (pred - last).abs().amax(1, keepdim=True) < snap / 255.0
            pred = torch.where(still, last, pred)
        return pred, memory, soft, keep, flow, blend

    def _heads(self, x: Tensor) -> Tensor:
        """``self.head(x)``; at inference its last convolution runs with its output channels
        padded by zero filters to a multiple of 8 and the padding sliced off: the same numbers,
        and oneDNN's blocked kernels instead of a slow path for 10 or 11 channels (1.3x that
        convolution at 64 px, about 1.09x the whole step at batch 32 on 2 cores)."""
        last = self.head[-1]
        n = last.out_channels
        pad = -n % 8
        if self.training or not pad:
            return self.head(x)
        h = self.head[:-1](x)
        weight = F.pad(last.weight, (0, 0, 0, 0, 0, 0, 0, pad))
        return F.conv2d(h, weight, F.pad(last.bias, (0, pad)), padding=last.padding)[:, :n]

    def forward(
        self,
        frames: Tensor,
        horizon: int,
        actions: Tensor | None = None,
    ) -> RolloutOutput:
        """Teacher-forced pass over observed ``frames`` (B, T, 3, H, W), then ``horizon`` free steps.

        The memory starts as the first frame and is updated at every step; context windows
        shorter than K at the start are padded by repeating the first frame. ``actions``
        (B, T - 1 + horizon, A): action t acts between frame t and t + 1.
        """
        n_obs = frames.shape[1]
        k = self.cfg.context
        window = [frames[:, 0]] * (k - 1) + [frames[:, 0]]
        memory = frames[:, 0]
        if self.cfg.hard_write:  # nothing stored yet: validity 0 until the first write
            memory = torch.cat([memory, memory[:, :1] * 0], 1)
        teacher, future, writes, keeps, flows, blends, carried = [], [], [], [], [], [], []
        carrier = None  # with fewer seen frames the carry rule cannot draw: it is skipped
        if self.inference.carry and not self.training and n_obs >= MIN_SEEN:
            carrier = BatchCarrier(frames[:, 0])
        for t in range(n_obs - 1 + horizon):
            act = actions[:, t] if actions is not None else None
            step = self.step(window[-k:], memory, act)
            pred, memory, write, keep, flow, blend = step
            shown = pred
            if carrier is not None:  # seen frames are followed; predicted ones are not
                if 0 < t < n_obs:
                    carrier.observe(frames[:, t])
                elif t >= n_obs:
                    carrier.advance()
                # an overlay: the network's own frame is what it is fed back
                shown, drawn = carrier.draw(pred)
                carried.append(drawn)
            writes.append(write)
            flows.append(flow)
            blends.append(blend)
            if keep is not None:
                keeps.append(keep)
            if t + 1 < n_obs:
                teacher.append(shown)
                window.append(frames[:, t + 1])
            else:
                future.append(shown)
                window.append(pred)
            window = window[-k:]
        steps = {"teacher": teacher, "future": future, "writes": writes, "keeps": keeps}
        steps |= {"flows": flows, "blends": blends, "carried": carried}
        return RolloutOutput(frames, steps)

    rollout = forward  # readable name outside DDP; DDP needs the call to go via forward
