"""Pixel dream: a small action-conditioned video model for gymnasium dreams.

Given the last two RGB frames and an action it predicts the next frame (the last one plus a
bounded change where a learned per-pixel gate opens), the reward and the episode end (success / failure) from its own latent. The
action modulates the latent (FiLM). Checkpoints: ``FOLDER/pixel.safetensors`` (weights and a
bank of initial frame pairs) + ``FOLDER/pixel.json`` (:class:`ActionVideoConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from twinsim.neural.dream_io import encode_action, fit, load_checkpoint, save_checkpoint

__all__ = ["ActionVideoConfig", "ActionVideoModel", "PixelPrediction", "train_action_video"]

FORMAT = "twinsim-pixel-dream"


@dataclass(frozen=True)
class ActionVideoConfig:
    """Shape of a pixel dream. ``num_actions > 0`` means a Discrete action (one-hot input)."""

    task: str
    image_size: int
    act_dim: int
    num_actions: int = 0
    width: int = 24

    def __post_init__(self) -> None:
        if not (isinstance(self.image_size, int) and self.image_size % 4 == 0):
            raise ValueError(f"image_size: invalid value {self.image_size!r}; a multiple of 4")


@dataclass
class PixelPrediction:
    """Next frame (B, H, W, 3) uint8, reward (B,), P(done) (B,), P(success) (B,)."""

    frame: torch.Tensor
    reward: torch.Tensor
    done_prob: torch.Tensor
    success_prob: torch.Tensor


def _block(c: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.GroupNorm(4, c), nn.SiLU())


class ActionVideoModel(nn.Module):
    """Conv encoder (stride 4) -> action FiLM -> residual blocks -> conv decoder + heads."""

    def __init__(self, cfg: ActionVideoConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        a = cfg.num_actions or cfg.act_dim
        self.enc1 = nn.Sequential(nn.Conv2d(6, w, 3, 2, 1), nn.SiLU())
        self.enc2 = nn.Sequential(nn.Conv2d(w, 2 * w, 3, 2, 1), nn.SiLU())
        self.film = nn.Sequential(nn.Linear(a, 64), nn.SiLU(), nn.Linear(64, 4 * w))
        self.mid = nn.Sequential(_block(2 * w), _block(2 * w))
        self.dec2 = nn.Sequential(nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.SiLU())
        # 3 change channels + 1 gate logit; no bias: a constant would tint every pixel.
        self.dec1 = nn.ConvTranspose2d(2 * w, 4, 4, 2, 1, bias=False)
        self.gate_bias = nn.Parameter(torch.tensor(-4.0))
        self.heads = nn.Sequential(nn.Linear(2 * w, 64), nn.SiLU(), nn.Linear(64, 3))
        # Start as copy-last-frame (zero change, gate nearly shut); training learns what moves.
        nn.init.zeros_(self.dec1.weight)
        self.register_buffer("initial_frames", torch.zeros(1, 2, cfg.image_size, cfg.image_size, 3))
        self.register_buffer("reward_mean", torch.zeros(()))
        self.register_buffer("reward_std", torch.ones(()))

    def forward(
        self, prev: torch.Tensor, last: torch.Tensor, act: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """prev, last: (B, 3, H, W) in [0, 1]. Returns next frame (B, 3, H, W) in [0, 1] and
        head outputs (B, 3): normalised reward, done logit, success logit."""
        x = torch.cat([prev, last], dim=1)
        h1 = self.enc1(x)
        h = self.enc2(h1)
        gamma, beta = self.film(encode_action(act, self.cfg.num_actions, len(x))).chunk(2, dim=-1)
        h = h * (1 + gamma[..., None, None]) + beta[..., None, None]
        h = h + self.mid(h)
        up = self.dec2(h)
        out = self.dec1(torch.cat([up, h1], dim=1))
        # A per-pixel gate keeps the static background exactly the last frame's.
        gate = torch.sigmoid(out[:, 3:] + self.gate_bias)
        frame = (last + gate * torch.tanh(out[:, :3])).clamp(0.0, 1.0)
        return frame, self.heads(h.mean(dim=(2, 3)))

    @torch.no_grad()
    def predict(self, prev: torch.Tensor, last: torch.Tensor, act: torch.Tensor) -> PixelPrediction:
        """Batched step on uint8 frames (B, H, W, 3)."""
        f = lambda x: x.permute(0, 3, 1, 2).float() / 255.0  # noqa: E731
        frame, heads = self(f(prev), f(last), act)
        img = (frame * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()
        return PixelPrediction(
            frame=img,
            reward=heads[:, 0] * self.reward_std + self.reward_mean,
            done_prob=torch.sigmoid(heads[:, 1]),
            success_prob=torch.sigmoid(heads[:, 2]),
        )

    def save(self, folder: str | Path, info: dict | None = None) -> None:
        """Write ``pixel.safetensors`` + ``pixel.json`` (each atomically, through fileio)."""
        save_checkpoint(self, folder, "pixel", FORMAT, info)

    @classmethod
    def load(cls, folder: str | Path) -> ActionVideoModel:
        """Load a checkpoint written by :meth:`save` (safetensors, no pickle)."""
        return load_checkpoint(
            cls, ActionVideoConfig, folder, "pixel", FORMAT, "pixel dream", "initial_frames"
        )


def train_action_video(
    cfg: ActionVideoConfig,
    frames: np.ndarray,
    act: np.ndarray,
    reward: np.ndarray,
    done: np.ndarray,
    success: np.ndarray,
    initial_frames: np.ndarray,
    *,
    steps: int = 3000,
    batch: int = 16,
    lr: float = 2e-3,
    seconds: float | None = None,
    seed: int = 0,
    log=print,
) -> ActionVideoModel:
    """Fit on transitions ``frames[i] = (prev, last, next)`` (N, 3, H, W, 3) uint8 with actions.

    The pixel loss weights pixels that change between ``last`` and ``next`` 10x, so small moving
    objects are not drowned by the static floor (copying the last frame is not a minimum).
    """
    torch.manual_seed(seed)
    model = ActionVideoModel(cfg)
    model.initial_frames = torch.as_tensor(initial_frames)
    r = torch.as_tensor(reward, dtype=torch.float32)
    model.reward_mean.copy_(r.mean())
    model.reward_std.copy_(r.std().clamp_min(1e-3))
    fr = torch.as_tensor(frames)
    a = torch.as_tensor(act)
    d, s = (torch.as_tensor(x, dtype=torch.float32) for x in (done, success))
    bce = nn.functional.binary_cross_entropy_with_logits

    def loss_step():
        idx = torch.randint(0, len(fr), (batch,))
        clip = fr[idx].permute(0, 1, 4, 2, 3).float() / 255.0  # (B, 3, 3, H, W)
        pred, heads = model(clip[:, 0], clip[:, 1], a[idx])
        moving = ((clip[:, 2] - clip[:, 1]).abs().sum(1, keepdim=True) > 0.05).float()
        loss_pix = ((pred - clip[:, 2]).pow(2) * (1 + 9 * moving)).mean()
        loss_rew = (heads[:, 0] - (r[idx] - model.reward_mean) / model.reward_std).pow(2).mean()
        loss_end = bce(heads[:, 1], d[idx]) + bce(heads[:, 2], s[idx])  # calibrated P(end)
        loss = 10 * loss_pix + 0.1 * loss_rew + 0.05 * loss_end
        return (
            loss,
            lambda: (
                f"pixel {loss_pix.item():.5f} reward {loss_rew.item():.3f} end {loss_end.item():.3f}"
            ),
        )

    return fit(model, steps, lr, loss_step, seconds=seconds, log=log, log_every=250)
