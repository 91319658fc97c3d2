"""Neural world model: training, checkpoints, resume, prediction (tiny preset, toy scenes)."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest
import torch
from twinsim.neural import CheckpointError, WorldModel, load_model, preset, train
from twinsim.neural.clips import toy_source
from twinsim.neural.config import RunConfig
from twinsim.neural.data import ClipBank, toy_scenes
from twinsim.neural.model import FlowMemoryNet
from twinsim.neural.predict import MAX_CHUNK
from twinsim.neural.train import _loss, to_tensor
from twinsim.sim.errors import SpecError


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    cfg = preset("tiny")
    cfg = cfg.replace(train=dataclasses.replace(cfg.train, steps=40, lr=3e-3))
    out = tmp_path_factory.mktemp("run")
    result = train(cfg, out, progress=False)
    return cfg, out, result


def _fixed_loss(model: torch.nn.Module, cfg) -> float:
    bank = ClipBank(toy_source(8, 16, cfg.model.resolution, seed=99))
    clips = to_tensor(bank.batch(seed=5, step=0, batch_size=8, length=cfg.data.clip_length))
    with torch.no_grad():
        return float(_loss(model, {"rgb": clips}, cfg))


def test_smoke_training_lowers_loss(tiny_run):
    cfg, out, result = tiny_run
    torch.manual_seed(cfg.train.seed)
    before = _fixed_loss(FlowMemoryNet(cfg.model), cfg)
    trained, _ = load_model(out)
    after = _fixed_loss(trained, cfg)
    assert result.steps == cfg.train.steps
    assert after < 0.9 * before, (before, after)
    assert (out / "log.jsonl").is_file() and (out / "config.json").is_file()


def test_tensorboard_logs_match_the_validation_log(tiny_run):
    pytest.importorskip("tensorboard", reason="optional: pip install 'twinsim[tensorboard]'")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, out, _ = tiny_run
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    events = EventAccumulator(str(out / "tb"))
    events.Reload()
    psnr = events.Scalars("val/psnr")
    assert [e.step for e in psnr] == [r["step"] for r in log] and len(log) >= 2
    assert [e.value for e in psnr] == pytest.approx([r["val_psnr"] for r in log], rel=1e-5)
    assert [e.step for e in events.Scalars("train/loss")] == [r["step"] for r in log]


def test_checkpoint_roundtrip_identical_predictions(tiny_run, tmp_path):
    cfg, out, _ = tiny_run
    from twinsim.neural import save_checkpoint

    a = WorldModel.load(out)
    save_checkpoint(tmp_path / "copy", a.net, a.config)
    b = WorldModel.load(tmp_path / "copy" / "model.safetensors")
    frames = toy_scenes(1, 6, cfg.model.resolution, seed=3)[0]
    np.testing.assert_array_equal(a.predict(frames, 5), b.predict(frames, 5))
    assert b.config == cfg


def test_resume_equals_uninterrupted(tmp_path):
    cfg = preset("tiny")
    cfg = cfg.replace(train=dataclasses.replace(cfg.train, steps=8, val_every=100))
    full = train(cfg, tmp_path / "full", progress=False)
    part = train(cfg, tmp_path / "part", progress=False, stop_at=3)
    assert part.steps == 3
    assert json.loads((tmp_path / "part" / "last.json").read_text())["step"] == 3
    resumed = train(cfg, tmp_path / "part", resume=True, progress=False)
    assert resumed.steps == full.steps == 8
    a, _ = load_model(tmp_path / "full")
    b, _ = load_model(tmp_path / "part")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name


def test_resume_refuses_other_config(tiny_run, tmp_path):
    cfg, out, _ = tiny_run
    other = cfg.replace(train=dataclasses.replace(cfg.train, lr=1e-4))
    with pytest.raises(CheckpointError, match="another config"):
        train(other, out, resume=True, progress=False)
    with pytest.raises(CheckpointError, match=r"no last\.json"):
        train(cfg, tmp_path / "empty", resume=True, progress=False)


def test_wrong_config_checkpoint_gives_clear_error(tiny_run, tmp_path):
    cfg, out, _ = tiny_run
    from twinsim.neural import save_checkpoint

    model, _ = load_model(out)
    folder = save_checkpoint(tmp_path / "ck", model, cfg)
    data = json.loads((folder / "config.json").read_text())
    data["model"]["channels"] = [12, 24]
    (folder / "config.json").write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match=r"shape mismatch: .*config expects"):
        load_model(folder)
    other = cfg.replace(model=dataclasses.replace(cfg.model, context=3))
    with pytest.raises(CheckpointError, match=r"model\.context: checkpoint 2 vs expected 3"):
        load_model(out, expected=other)
    (folder / "config.json").write_text('{"model": {"resolution": "big"}}')
    with pytest.raises(CheckpointError, match="not a valid world-model config"):
        load_model(folder)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nowhere")


def test_predict_shapes_and_dtypes(tiny_run):
    cfg, out, _ = tiny_run
    model = WorldModel.load(out)
    r = model.resolution
    assert (r, model.context) == (cfg.model.resolution, cfg.model.context)
    frames = toy_scenes(2, 8, r, seed=4)
    one = model.predict(frames[0], horizon=7)
    assert one.shape == (7, r, r, 3) and one.dtype == np.uint8
    assert model.predict(frames[0, :1], horizon=2).shape == (2, r, r, 3)  # fewer than context
    big = np.repeat(np.repeat(frames[0], 2, axis=1), 3, axis=2)  # (T, 2r, 3r, 3): resized
    assert model.predict(big, horizon=3).shape == (3, r, r, 3)
    batch = model.predict_batch(frames, horizon=4)
    assert batch.shape == (2, 4, r, r, 3) and batch.dtype == np.uint8
    # batched convolutions may round differently: equal to within one grey level
    one = model.predict(frames[0], 4).astype(int)
    assert np.abs(batch[0].astype(int) - one).max() <= 1
    # a batch larger than one forward pass runs in chunks: the same frames as one clip at a time
    many = toy_scenes(MAX_CHUNK + 3, 6, r, seed=5)
    chunked = model.predict_batch(many, horizon=2)
    assert chunked.shape == (MAX_CHUNK + 3, 2, r, r, 3)
    tail = model.predict_batch(many[MAX_CHUNK:], horizon=2)
    assert np.abs(chunked[MAX_CHUNK:].astype(int) - tail).max() <= 1
    with pytest.raises(ValueError, match="uint8"):
        model.predict(frames[0].astype(np.float32), 2)
    with pytest.raises(ValueError, match="horizon"):
        model.predict(frames[0], 0)


def test_action_conditioned_model_uses_actions():
    cfg = preset("tiny")
    cfg = cfg.replace(model=dataclasses.replace(cfg.model, action_dim=2))
    torch.manual_seed(0)
    net = FlowMemoryNet(cfg.model)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    model = WorldModel(net, cfg)
    frames = toy_scenes(1, 4, 32, seed=1)[0]
    a = model.predict(frames, 3, actions=np.zeros((3, 2)))
    b = model.predict(frames, 3, actions=np.ones((3, 2)))
    assert a.shape == (3, 32, 32, 3) and not np.array_equal(a, b)
    with pytest.raises(ValueError, match="actions must be"):
        model.predict(frames, 3, actions=np.ones((5, 3)))


@pytest.mark.parametrize("name", ["cpu"])
def test_load_pretrained_bundled_models(name):
    from twinsim.neural.predict import PRETRAINED, load_pretrained

    size = sum(p.stat().st_size for p in PRETRAINED[name].iterdir())
    assert size <= 20 * 2**20
    model = load_pretrained(name)
    assert (model.resolution, model.context, model.config.name) == (64, 4, name)
    frames = toy_scenes(1, 5, 64, seed=0)[0]
    out = model.predict(frames, horizon=3)
    assert out.shape == (3, 64, 64, 3) and out.dtype == np.uint8


def test_load_pretrained_unknown_name_lists_the_bundled_ones():
    from twinsim.neural.predict import load_pretrained
    from twinsim.sim.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match=r"valid.*cpu"):
        load_pretrained("gpu-huge")


def test_occlusion_model_keeps_a_hidden_object():
    from twinsim.neural.evaluate import EVAL_SEED, permanence
    from twinsim.neural.predict import load_pretrained

    res = permanence(load_pretrained(), 3, EVAL_SEED, progress=False)
    assert res["scenes"] == 3 and res["model"] >= 2 / 3


def test_write_mask_loss_uses_occluder_labels_and_configs_validate():
    cfg = preset("tiny")
    cfg = cfg.replace(
        model=dataclasses.replace(cfg.model, hard_write=True),
        train=dataclasses.replace(cfg.train, write_weight=1.0),
    )
    torch.manual_seed(0)
    model = FlowMemoryNet(cfg.model)
    clips = to_tensor(toy_scenes(2, cfg.data.clip_length, cfg.model.resolution, seed=1))
    out = model(clips[:, :4], 2)
    assert out.writes.shape == (2, 5, 1, cfg.model.resolution, cfg.model.resolution)
    occ = torch.zeros(clips.shape[:2] + clips.shape[3:], dtype=torch.bool)
    with torch.no_grad():
        none = float(_loss(model, {"rgb": clips}, cfg))
        clear = float(_loss(model, {"rgb": clips, "occluder": occ}, cfg))
        covered = float(_loss(model, {"rgb": clips, "occluder": ~occ}, cfg))  # store nothing
    assert none < clear < covered
    model.eval()  # untrained with hard writes: memory is the last frame, prediction copy-last
    with torch.no_grad():
        future = model(clips[:, :4], 2).future
    assert float((future - clips[:, 3:4]).abs().mean()) < 0.03
    with pytest.raises(SpecError, match="write_weight"):
        dataclasses.replace(cfg.train, write_weight=-1.0)
    with pytest.raises(SpecError, match="occlusion_windows"):
        dataclasses.replace(cfg.data, occlusion_windows=1.5)


def test_config_override_sets_typed_fields_and_names_bad_ones():
    cfg = preset("cpu").override(["train.keep_weight=0.1", "model.channels=[8, 16, 32]"])
    assert cfg.train.keep_weight == 0.1 and cfg.model.channels == (8, 16, 32)
    assert cfg.data == preset("cpu").data  # untouched sections stay equal
    with pytest.raises(SpecError, match="keep_weight, lr"):  # unknown field: valid ones listed
        cfg.override(["train.keep_wieght=0.1"])
    with pytest.raises(SpecError, match=r"SECTION\.FIELD=VALUE"):
        cfg.override(["keep_weight=0.1"])
    with pytest.raises(SpecError, match=r"train\.keep_weight"):  # validated like a loaded config
        cfg.override(["train.keep_weight=-1"])
    with pytest.raises(SpecError, match=r"model\.keep_gate"):  # cross-field rule too
        preset("tiny").override(["train.keep_weight=0.1"])
    with pytest.raises(SpecError, match="must be a list"):  # not silently a string of letters
        cfg.override(["data.families=occlusion,drop"])
    with pytest.raises(SpecError, match="an integer"):
        cfg.override(["train.steps=1.5"])
    with pytest.raises(SpecError, match="a number"):
        cfg.override(["train.lr=fast"])
    with pytest.raises(SpecError, match="true or false"):
        cfg.override(["model.keep_gate=1"])
    assert cfg.override(["train.lr=1"]).train.lr == 1.0  # an integer is a number
    saved = json.loads(cfg.to_json())
    saved["train"]["lr"] = "fast"  # a hand-edited config.json is type-checked the same way
    with pytest.raises(SpecError, match=r"config\.train\.lr"):
        RunConfig.from_dict(saved)


def _perturbed_tiny():
    cfg = preset("tiny")
    torch.manual_seed(0)
    net = FlowMemoryNet(cfg.model)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return net, cfg


def test_compiled_inference_predicts_the_same_frames():
    from twinsim.neural.config import InferenceConfig

    net, cfg = _perturbed_tiny()
    frames = toy_scenes(2, 5, 32, seed=3)
    eager = WorldModel(net, cfg).predict_batch(frames, 3)
    net2, _ = _perturbed_tiny()
    compiled = WorldModel(net2, cfg, inference=InferenceConfig(compile=True))
    assert compiled.inference.compile
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # compiled, not the uncompiled fallback
        out = compiled.predict_batch(frames, 3)
    assert out.shape == eager.shape and np.abs(out.astype(int) - eager).max() <= 1
    assert InferenceConfig().override(["inference.compile=true"]).compile


def test_every_world_model_runs_channels_last_with_the_same_frames():
    """load_pretrained had kept NCHW weights (only WorldModel.load converted them): ~15 % fewer
    frames/s on the default model. NHWC must not change a prediction."""
    from twinsim.neural.config import InferenceConfig
    from twinsim.neural.predict import load_pretrained

    def nhwc(model):
        return model.net.stem[0].weight.is_contiguous(memory_format=torch.channels_last)

    assert nhwc(load_pretrained())
    net, cfg = _perturbed_tiny()
    frames = toy_scenes(2, 5, 32, seed=3)
    x = torch.from_numpy(frames).permute(0, 1, 4, 2, 3).float() / 255
    net.inference = InferenceConfig(fallback=False)
    with torch.no_grad():
        nchw = net.eval().rollout(x, 3).future  # before WorldModel converts the weights
    model = WorldModel(net, cfg, inference=net.inference)
    assert nhwc(model)
    out = model.predict_batch(frames, 3)
    want = (nchw * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 1, 3, 4, 2).numpy()
    assert np.abs(out.astype(int) - want).max() <= 1


def test_the_fast_inference_paths_compute_exactly_the_plain_network():
    """Two rewrites for throughput (padding the 10-channel last head convolution to 16 with zero
    filters; building the stem input straight into channels-last memory) must give the very
    numbers of the plain modules, with and without the weights in channels-last."""
    from twinsim.neural.model import _stem_input

    torch.manual_seed(0)
    net, _ = _perturbed_tiny()
    assert net.head[-1].out_channels % 8  # the case the padding is for
    parts = [torch.rand(2, 12, 16, 16), torch.rand(2, 4, 16, 16)]
    stem_in = _stem_input(parts)
    assert stem_in.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(stem_in, torch.cat(parts, 1) * 2 - 1)
    x = torch.randn(2, net.head[0].in_channels, 16, 16)
    with torch.no_grad():
        for memory_format in (torch.contiguous_format, torch.channels_last):
            net = net.to(memory_format=memory_format).eval()
            xm = x.contiguous(memory_format=memory_format)
            assert torch.equal(net._heads(xm), net.head(xm))
    net.train()  # training runs the module itself (gradients reach its weights as before)
    net._heads(x).sum().backward()
    assert net.head[-1].weight.grad is not None


def test_a_step_given_its_context_frames_unstacked_computes_the_same_numbers():
    """The rollout hands ``step`` its K context frames as a list (stacking them cost ~1 % of a
    batch's time); a stacked (B, K, 3, H, W) context must give the very same outputs."""
    net, cfg = _perturbed_tiny()
    torch.manual_seed(1)
    ctx = torch.rand(2, cfg.model.context, 3, 32, 32)
    memory = torch.rand(2, net.memory_channels, 32, 32)
    with torch.no_grad():
        stacked = net.eval().step(ctx, memory)
        unstacked = net.step(list(ctx.unbind(1)), memory)
    for a, b in zip(stacked, unstacked, strict=True):
        assert (a is None and b is None) or torch.equal(a, b)


def test_rollout_fields_are_stacked_on_demand_with_the_documented_shapes():
    net, _ = _perturbed_tiny()
    x = torch.rand(2, 3, 3, 32, 32)
    with torch.no_grad():
        out = net.eval().rollout(x, 4)
    assert out.future.shape == (2, 4, 3, 32, 32) and out.teacher.shape == (2, 2, 3, 32, 32)
    assert out.writes.shape == (2, 6, 1, 32, 32) and out.flows.shape == (2, 6, 2, 32, 32)
    assert out.blends.shape == (2, 6, 3, 32, 32)
    assert out.future is out.future  # stacked once
    assert net.rollout(x[:, :1], 0).teacher.shape == (2, 0, 3, 32, 32)


def test_keep_freed_memory_raises_glibcs_thresholds_or_says_it_did_not(monkeypatch):
    """Model construction asks glibc to keep freed memory (about 1.1x the frames/s at batch 32)
    unless inference.keep_freed_memory is false; off glibc nothing changes."""
    import platform

    from twinsim.neural import allocator
    from twinsim.neural import predict as P
    from twinsim.neural.config import InferenceConfig

    with pytest.raises(ValueError, match="positive"):
        allocator.keep_freed_memory(0)
    on_glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert allocator.keep_freed_memory() is on_glibc
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_freed_memory() is False
    calls = []
    monkeypatch.setattr(P, "keep_freed_memory", lambda: calls.append(1))
    net, cfg = _perturbed_tiny()
    WorldModel(net, cfg, inference=InferenceConfig(keep_freed_memory=False))
    assert calls == []
    WorldModel(net, cfg, inference=InferenceConfig())
    assert calls == [1]


def test_compiled_inference_that_cannot_compile_warns_and_runs_uncompiled(monkeypatch):
    from twinsim.neural import predict as P
    from twinsim.neural.config import InferenceConfig

    def no_compiler(fn, **kwargs):
        def fail(*args, **kw):
            raise RuntimeError("InductorError: no C++ compiler found")

        return fail

    monkeypatch.setattr(P.torch, "compile", no_compiler)
    net, cfg = _perturbed_tiny()
    frames = toy_scenes(1, 5, 32, seed=3)
    eager = WorldModel(_perturbed_tiny()[0], cfg).predict_batch(frames, 2)
    model = WorldModel(net, cfg, inference=InferenceConfig(compile=True))
    with pytest.warns(RuntimeWarning, match="no C\\+\\+ compiler"):
        out = model.predict_batch(frames, 2)
    assert np.array_equal(out, eager)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once; later calls run uncompiled quietly
        model.predict_batch(frames, 2)
