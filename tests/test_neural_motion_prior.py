"""The constant-velocity flow guess (neural/motion_prior.py) and the model option that uses it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from twinsim.neural import WorldModel, preset, train
from twinsim.neural.config import ModelConfig
from twinsim.neural.data import toy_scenes
from twinsim.neural.model import FlowMemoryNet
from twinsim.neural.motion_prior import constant_velocity_flow, match_displacement, splat_forward
from twinsim.sim.errors import SpecError


def _frame_with_square(left: int, top: int, side: int = 32) -> torch.Tensor:
    frame = torch.full((1, 3, side, side), 0.2)
    frame[:, 0, top : top + 6, left : left + 6] = 0.9  # a red 6x6 body on a grey floor
    frame[:, 1, top : top + 6, left : left + 6] = 0.1
    return frame


def test_match_displacement_reads_out_a_global_shift():
    rng = np.random.default_rng(0)
    previous = torch.from_numpy(rng.random((1, 3, 24, 24), dtype=np.float32))
    newest = torch.roll(previous, shifts=(1, -2), dims=(2, 3))  # content moved down 1, left 2
    d = match_displacement(newest, previous, radius=3, temperature=0.03)[0, :, 4:-4, 4:-4]
    # each pixel of the newest frame was at (x + 2, y - 1) in the previous one
    assert torch.allclose(d[0], torch.full_like(d[0], 2.0), atol=0.05)
    assert torch.allclose(d[1], torch.full_like(d[1], -1.0), atol=0.05)


def test_constant_velocity_flow_carries_a_moving_body_on_and_leaves_the_floor_still():
    # the body's left edge is at x = 8, 10, 12 in three frames
    previous, newest, following = (_frame_with_square(8 + 2 * i, 12) for i in range(3))
    flow = constant_velocity_flow(newest, previous)
    assert flow.shape == (1, 2, 32, 32) and not flow.requires_grad
    # where the body will be next, the content comes from its left (2 px; matching at half
    # resolution blurs the body's edges, so less on average)
    ahead = flow[0, :, 12:18, 14:20]
    assert ahead[0].mean() < -0.5 and ahead[1].abs().mean() < 0.2
    assert flow[0, :, 24:, :].abs().max() < 0.2  # the floor far from the body stays put
    ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    grid = torch.stack([(xs + flow[0, 0] + 0.5) / 16 - 1, (ys + flow[0, 1] + 0.5) / 16 - 1], -1)
    warped = torch.nn.functional.grid_sample(newest, grid[None], align_corners=False)
    assert (warped - following).abs().mean() < 0.5 * (newest - following).abs().mean()
    # the strip the body leaves (columns 10-11) shows floor again, not a trail of the body
    assert warped[0, 0, 13:17, 10:12].mean() < 0.4


def test_splat_forward_moves_a_block_and_points_the_strip_it_leaves_back_to_the_floor():
    displacement = torch.zeros(1, 2, 16, 24)
    displacement[:, 0, 4:10, 10:16] = -2.0  # a block at x 10..15 that came from 2 px left
    flow = splat_forward(displacement)[0]
    # next frame: the block at x 12..17 samples itself 2 px left; the strip x 10..11 it leaves
    # samples the floor 2 px further left; everything else stays
    # (where the block lands on still floor, the floor weighs 1 against exp(2 * 2))
    assert torch.allclose(flow[0, 4:10, 10:18], torch.full((6, 8), -2.0), atol=0.05)
    assert flow[1].abs().max() < 1e-6
    flow[:, 4:10, 10:18] = 0
    assert flow.abs().max() < 1e-6


def test_constant_velocity_flow_refuses_odd_frames():
    with pytest.raises(ValueError, match="even"):
        constant_velocity_flow(torch.zeros(1, 3, 31, 32), torch.zeros(1, 3, 31, 32))


def test_the_networks_gate_adds_the_guess_to_its_own_correction():
    torch.manual_seed(0)
    net = FlowMemoryNet(ModelConfig(resolution=32, context=2, channels=(8, 16), motion_prior=True))
    frames = [_frame_with_square(8 + 2 * i, 12) for i in range(2)]
    ctx, memory = torch.stack(frames, 1), frames[-1]
    flows = []
    with torch.no_grad():
        for bias in (-30.0, 30.0):  # gate shut, gate open
            net.head[-1].bias[-1] = bias
            flows.append(net.step(ctx, memory)[4])
    guess = constant_velocity_flow(frames[1], frames[0])
    assert guess.abs().max() > 1.0
    assert torch.allclose(flows[1] - flows[0], guess, atol=1e-5)


def test_motion_prior_model_trains_round_trips_and_validates(tmp_path):
    cfg = preset("tiny")
    cfg = cfg.replace(
        model=dataclasses.replace(cfg.model, motion_prior=True),
        train=dataclasses.replace(cfg.train, steps=6, val_every=3),
    )
    train(cfg, tmp_path, progress=False)
    model = WorldModel.load(tmp_path)
    assert model.config.model.motion_prior
    frames = toy_scenes(1, 4, 32, seed=1)[0]
    assert model.predict(frames, 2).shape == (2, 32, 32, 3)
    with pytest.raises(SpecError, match="motion_prior"):
        cfg.override(["model.context=1", "model.motion_prior=true"])
    with pytest.raises(SpecError, match="motion_prior"):  # refused at the boundary, not mid-run
        ModelConfig(resolution=9, channels=(8,), stem_stride=1, motion_prior=True)
