"""State dream: an ensemble of MLPs predicting the next state vector, the reward and the episode
end (success / failure) from the state and the action.

The model predicts a normalised state *change*; the ensemble mean is the prediction and the
members' spread its uncertainty. Checkpoints: ``FOLDER/state.safetensors`` (weights,
normalisers, a bank of initial states) + ``FOLDER/state.json`` (:class:`DynamicsConfig`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from twinsim.neural.dream_io import encode_action, fit, load_checkpoint, save_checkpoint

__all__ = ["DynamicsConfig", "EnsembleDynamics", "Prediction", "train_dynamics"]

FORMAT = "twinsim-state-dream"


@dataclass(frozen=True)
class DynamicsConfig:
    """Shape of a state dream. ``num_actions > 0`` means a Discrete action (one-hot input)."""

    task: str
    obs_dim: int
    act_dim: int
    num_actions: int = 0
    hidden: int = 128
    layers: int = 3
    ensemble: int = 5

    def __post_init__(self) -> None:
        for name in ("obs_dim", "act_dim", "hidden", "layers", "ensemble"):
            v = getattr(self, name)
            if not (isinstance(v, int) and 1 <= v <= 4096):
                raise ValueError(f"DynamicsConfig.{name}: invalid value {v!r}; an int in [1, 4096]")
        if self.num_actions < 0:
            raise ValueError(f"DynamicsConfig.num_actions: invalid value {self.num_actions}")


@dataclass
class Prediction:
    """One batched dream step: next state (B, D), reward (B,), P(done) (B,), P(success) (B,),
    ensemble spread of the next state (B,)."""

    next_obs: torch.Tensor
    reward: torch.Tensor
    done_prob: torch.Tensor
    success_prob: torch.Tensor
    spread: torch.Tensor


class _EnsembleLinear(nn.Module):
    def __init__(self, members: int, fan_in: int, fan_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = nn.Parameter(torch.empty(members, fan_in, fan_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(members, 1, fan_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (E, B, in) -> (E, B, out)
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleDynamics(nn.Module):
    """``E`` independent MLPs sharing one batched forward pass (see module docstring)."""

    def __init__(self, cfg: DynamicsConfig) -> None:
        super().__init__()
        self.cfg = cfg
        e, d = cfg.ensemble, cfg.obs_dim
        a = cfg.num_actions or cfg.act_dim
        dims = [d + a] + [cfg.hidden] * cfg.layers
        self.trunk = nn.ModuleList(_EnsembleLinear(e, i, o) for i, o in itertools.pairwise(dims))
        self.head = _EnsembleLinear(e, cfg.hidden, d + 3)  # delta, reward, done, success
        for name, size in (("obs_mean", d), ("obs_std", d), ("delta_mean", d), ("delta_std", d)):
            self.register_buffer(name, torch.zeros(size) if "mean" in name else torch.ones(size))
        self.register_buffer("reward_mean", torch.zeros(()))
        self.register_buffer("reward_std", torch.ones(()))
        self.register_buffer("initial_obs", torch.zeros(1, d))

    def _inputs(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        x = (obs - self.obs_mean) / self.obs_std
        return torch.cat([x, encode_action(act, self.cfg.num_actions, len(obs))], dim=-1)

    def raw(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """(E, B, D + 3) normalised outputs: delta, reward, done logit, success logit."""
        x = self._inputs(obs, act).unsqueeze(0).expand(self.cfg.ensemble, -1, -1)
        for layer in self.trunk:
            x = nn.functional.silu(layer(x))
        return self.head(x)

    @torch.no_grad()
    def predict(self, obs: torch.Tensor, act: torch.Tensor) -> Prediction:
        """Ensemble-mean step for a batch: obs (B, D) float32, act (B, A) or (B,) for Discrete."""
        out = self.raw(obs, act)
        d = self.cfg.obs_dim
        nxt = obs.unsqueeze(0) + out[..., :d] * self.delta_std + self.delta_mean
        mean = nxt.mean(0)
        return Prediction(
            next_obs=mean,
            reward=(out[..., d] * self.reward_std + self.reward_mean).mean(0),
            done_prob=torch.sigmoid(out[..., d + 1]).mean(0),
            success_prob=torch.sigmoid(out[..., d + 2]).mean(0),
            spread=(nxt - mean).pow(2).sum(-1).sqrt().mean(0),
        )

    # -- checkpoints ---------------------------------------------------------------------------

    def save(self, folder: str | Path, info: dict | None = None) -> None:
        """Write ``state.safetensors`` + ``state.json`` (each atomically, through fileio)."""
        save_checkpoint(self, folder, "state", FORMAT, info)

    @classmethod
    def load(cls, folder: str | Path) -> EnsembleDynamics:
        """Load a checkpoint written by :meth:`save` (safetensors, no pickle)."""
        return load_checkpoint(
            cls, DynamicsConfig, folder, "state", FORMAT, "state dream", "initial_obs"
        )


def train_dynamics(
    cfg: DynamicsConfig,
    obs: np.ndarray,
    act: np.ndarray,
    next_obs: np.ndarray,
    reward: np.ndarray,
    done: np.ndarray,
    success: np.ndarray,
    initial_obs: np.ndarray,
    *,
    epochs: int = 40,
    batch: int = 256,
    lr: float = 2e-3,
    seconds: float | None = None,
    seed: int = 0,
    log=print,
) -> EnsembleDynamics:
    """Fit an ensemble on transitions (each member on its own bootstrap of the data)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = EnsembleDynamics(cfg)
    t = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in
         dict(obs=obs, act=act, next=next_obs, rew=reward, done=done, succ=success).items()}  # fmt: skip
    delta = t["next"] - t["obs"]
    std = lambda x: x.std(0).clamp_min(1e-3)  # noqa: E731
    model.obs_mean.copy_(t["obs"].mean(0))
    model.obs_std.copy_(std(t["obs"]))
    model.delta_mean.copy_(delta.mean(0))
    model.delta_std.copy_(std(delta))
    model.reward_mean.copy_(t["rew"].mean())
    model.reward_std.copy_(t["rew"].std().clamp_min(1e-3))
    model.initial_obs = torch.as_tensor(initial_obs, dtype=torch.float32)
    target_delta = (delta - model.delta_mean) / model.delta_std
    target_rew = (t["rew"] - model.reward_mean) / model.reward_std
    n, e, d = len(obs), cfg.ensemble, cfg.obs_dim
    boot = torch.as_tensor(rng.integers(0, n, (e, n)))
    pos_w = torch.tensor(max(1.0, float((1 - t["done"]).sum() / t["done"].sum().clamp_min(1))))
    steps = epochs * max(1, n // batch)
    bce = nn.functional.binary_cross_entropy_with_logits

    def loss_step():
        idx = boot[:, torch.randint(0, n, (batch,))]  # (E, batch)
        flat = idx.reshape(-1)
        x = model._inputs(t["obs"][flat], t["act"][flat]).reshape(e, batch, -1)
        for layer in model.trunk:
            x = nn.functional.silu(layer(x))
        out = model.head(x)
        loss_obs = (out[..., :d] - target_delta[idx]).pow(2).mean()
        loss_rew = (out[..., d] - target_rew[idx]).pow(2).mean()
        loss_done = bce(out[..., d + 1], t["done"][idx], pos_weight=pos_w)
        loss_succ = bce(out[..., d + 2], t["succ"][idx], pos_weight=pos_w)
        loss = loss_obs + loss_rew + 0.5 * (loss_done + loss_succ)
        return (
            loss,
            lambda: (
                f"loss {loss.item():.4f} (obs {loss_obs.item():.4f} "
                f"rew {loss_rew.item():.4f} done {loss_done.item():.3f})"
            ),
        )

    return fit(model, steps, lr, loss_step, seconds=seconds, log=log, log_every=500)
