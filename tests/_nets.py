"""Nets with fixed heads for tests of inference rules (recall, keep gate)."""

from __future__ import annotations

import torch
from twinsim.neural.config import ModelConfig
from twinsim.neural.model import FlowMemoryNet


def white_painting_net(cfg: ModelConfig, head_bias: dict[int, float]) -> FlowMemoryNet:
    """Zero flow, blend = paint, paint = white everywhere; ``head_bias`` sets further head
    outputs by channel (8: write logit, 9: keep logit)."""
    net = FlowMemoryNet(cfg)
    with torch.no_grad():
        head = net.head[-1]
        head.weight.zero_()
        head.bias.zero_()
        head.bias[2:5] = torch.tensor([-20.0, -20.0, 20.0])  # all paint
        head.bias[5:8] = 20.0  # white paint
        for channel, value in head_bias.items():
            head.bias[channel] = value
    return net


def copy_last_net(cfg: ModelConfig) -> FlowMemoryNet:
    """Zero flow and the whole blend on the warped newest frame: it predicts the last frame."""
    net = FlowMemoryNet(cfg)
    with torch.no_grad():
        head = net.head[-1]
        head.weight.zero_()
        head.bias.zero_()
        head.bias[2:5] = torch.tensor([20.0, -20.0, -20.0])
    return net
