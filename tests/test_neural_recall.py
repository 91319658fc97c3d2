"""The recall rule: where an occluder leaves a pixel it kept out of memory, memory comes back."""

from __future__ import annotations

import pytest
import torch
from _nets import white_painting_net
from twinsim.neural.config import InferenceConfig, ModelConfig
from twinsim.neural.model import FlowMemoryNet
from twinsim.sim.errors import SpecError


def _painting_net(recall: float) -> FlowMemoryNet:
    """White paint everywhere, and the newest frame kept out of memory everywhere."""
    cfg = ModelConfig(resolution=16, context=2, channels=(8, 8), hard_write=True)
    net = white_painting_net(cfg, {8: -20.0}).eval()
    net.inference = InferenceConfig(snap=0.0, recall=recall)
    return net


def _inputs(valid: float) -> tuple[torch.Tensor, torch.Tensor]:
    ctx = torch.zeros(1, 2, 3, 16, 16)  # black frames: the occluder
    memory = torch.cat([torch.full((1, 3, 16, 16), 0.3), torch.full((1, 1, 16, 16), valid)], 1)
    return ctx, memory


def test_uncovered_pixels_show_what_memory_kept():
    ctx, memory = _inputs(valid=1.0)
    with torch.no_grad():
        pred, new_memory, write, *_ = _painting_net(recall=8.0).step(ctx, memory)
    assert float(write.max()) < 0.01
    assert torch.allclose(pred, torch.full_like(pred, 0.3))  # memory, not the white paint
    assert torch.allclose(new_memory[:, :3], memory[:, :3])  # nothing was written over it


def test_recall_off_in_training_without_memory_or_when_disabled():
    ctx, memory = _inputs(valid=1.0)
    off = _painting_net(recall=0.0).step(ctx, memory)[0]
    assert torch.allclose(off, torch.ones_like(off), atol=1e-4)
    training = _painting_net(recall=8.0).train().step(ctx, memory)[0]
    assert torch.allclose(training, torch.ones_like(training), atol=1e-4)
    empty = _painting_net(recall=8.0).step(*_inputs(valid=0.0))[0]
    assert torch.allclose(empty, torch.ones_like(empty), atol=1e-4)  # nothing stored to recall


def test_recall_is_an_inference_setting_with_a_valid_range():
    with pytest.raises(SpecError, match=r"inference\.recall"):
        InferenceConfig(recall=300.0)
    # without hard-write memory there is nothing to recall: the setting is ignored
    soft = white_painting_net(ModelConfig(resolution=16, context=2, channels=(8, 8)), {}).eval()
    soft.inference = InferenceConfig(snap=0.0, recall=8.0)
    ctx, memory = _inputs(valid=1.0)
    out = soft.step(ctx, memory[:, :3])[0]
    assert torch.allclose(out, torch.ones_like(out), atol=1e-4)
