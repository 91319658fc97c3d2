"""The keep gate: a learned "this pixel stays as it is" that is exact at inference."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from _nets import white_painting_net
from twinsim.neural.config import ModelConfig, TrainConfig
from twinsim.neural.model import FlowMemoryNet
from twinsim.neural.presets import preset
from twinsim.neural.train import _loss
from twinsim.sim.errors import SpecError


def _gated_net(keep_logit: float) -> FlowMemoryNet:
    """White paint everywhere, keep gate at ``keep_logit``."""
    cfg = ModelConfig(resolution=16, context=2, channels=(8, 8), keep_gate=True)
    return white_painting_net(cfg, {9: keep_logit})


def _ctx() -> tuple[torch.Tensor, torch.Tensor]:
    ctx = torch.rand(1, 2, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 0.5
    return ctx, ctx[:, 0].clone()


def test_gate_shows_the_newest_frame_exactly_at_inference():
    ctx, memory = _ctx()
    with torch.no_grad():
        kept, _, _, keep, _, _ = _gated_net(10.0).eval().step(ctx, memory)
        painted = _gated_net(-10.0).eval().step(ctx, memory)[0]
    assert keep is not None and float(keep.min()) > 0.99
    assert torch.equal(kept, ctx[:, -1])  # bit-exact, not merely close
    assert torch.allclose(painted, torch.ones_like(painted), atol=1e-4)


def test_gate_is_soft_in_training_and_absent_by_default():
    ctx, memory = _ctx()
    half = _gated_net(0.0).train().step(ctx, memory)[0]  # gate 0.5: halfway to white
    assert torch.allclose(half, 0.5 * ctx[:, -1] + 0.5, atol=1e-4)
    plain = FlowMemoryNet(ModelConfig(resolution=16, context=2, channels=(8, 8)))
    assert plain.step(ctx, memory)[3] is None
    assert plain.rollout(torch.rand(1, 3, 3, 16, 16), 2).keeps.shape[1] == 0


def test_keep_loss_rewards_a_gate_that_matches_still_pixels():
    cfg = preset("tiny")
    cfg = cfg.replace(
        model=dataclasses.replace(cfg.model, keep_gate=True),
        train=dataclasses.replace(cfg.train, keep_weight=1.0),
    )
    still = torch.full((2, cfg.data.clip_length, 3, 32, 32), 0.4)  # nothing changes
    losses = {}
    for logit in (-6.0, 6.0):
        net = FlowMemoryNet(cfg.model).train()
        with torch.no_grad():
            net.head[-1].bias[9] = logit
        with torch.no_grad():
            losses[logit] = float(_loss(net, {"rgb": still}, cfg))
    # "keep" everywhere is right on a still clip: near-zero BCE; "change" pays about 6 nats
    assert losses[6.0] < 0.05 < 5.0 < losses[-6.0]


def test_keep_weight_needs_the_gate():
    cfg = preset("tiny")
    with pytest.raises(SpecError, match=r"train\.keep_weight"):
        cfg.replace(train=TrainConfig(keep_weight=0.1, unroll=2))
    with pytest.raises(SpecError, match=r"train\.keep_weight"):
        TrainConfig(keep_weight=-1.0)
