"""The sim -> neural seam (one clip source for datasets and on-the-fly scenes, roles from the
families), the engine-label losses, balanced VoE and the checkpoint / inference-settings split."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from twinsim.neural import WorldModel, preset, save_checkpoint
from twinsim.neural.clips import backward_flow, dataset_source, engine_source
from twinsim.neural.config import InferenceConfig, RunConfig
from twinsim.neural.model import FlowMemoryNet
from twinsim.neural.train import _loss, batch_to_tensors, loss_terms
from twinsim.sim.errors import SpecError, UnknownNameError

from twinsim.cli import main

LABELS = ("rgb", "occluder", "visible", "flow")


def test_backward_flow_splats_with_a_depth_test():
    flow = np.zeros((2, 8, 8, 2), np.float32)
    depth = np.full((2, 8, 8), 5.0, np.float32)
    flow[0, 2:4, 1:3] = (2.0, 0.0)  # a 2x2 block moves 2 px right, in front (depth 1)
    depth[0, 2:4, 1:3] = 1.0
    back, valid = backward_flow(flow, depth)
    assert not valid[0].any()  # frame 0 has no past
    np.testing.assert_array_equal(back[1, 2:4, 3:5], np.full((2, 2, 2), (-2.0, 0.0)))
    # the block lands on background pixels (3..4): the nearer block wins the depth test
    assert valid[1, 2:4, 3:5].all()
    assert not valid[1, 2:4, 1:3].any()  # where the block was: disoccluded, no label
    assert valid[1, 0].all() and not back[1, 0].any()  # still background: zero flow


@pytest.fixture(scope="module")
def occlusion_source():
    return engine_source(["occlusion", "screen"], 2, 40, 32, 11, LABELS, progress=False)


def test_roles_come_from_the_families(occlusion_source):
    from twinsim.sim.families import family_info

    assert family_info("occlusion").bodies_with_role("occluder") == ("occluder",)
    assert family_info("screen").bodies_with_role("occluder") == ("screen",)
    for i in range(2):  # both families' occluders are found although their bodies differ
        clip = occlusion_source.clip(i)
        assert set(clip) == {"rgb", "occluder", "visible", "flow", "flow_valid"}
        assert clip["occluder"].any() and clip["visible"].min() < 0.05
        assert clip["flow"].shape == (40, 32, 32, 2) and clip["flow_valid"][1:].mean() > 0.9


def test_backward_flow_warps_the_previous_frame_onto_the_next(occlusion_source):
    import torch.nn.functional as F

    clip = occlusion_source.clip(0)
    rgb = torch.from_numpy(clip["rgb"]).permute(0, 3, 1, 2).float() / 255
    r = rgb.shape[-1]
    lin = torch.linspace(-1 + 1 / r, 1 - 1 / r, r)
    ys, xs = torch.meshgrid(lin, lin, indexing="ij")
    grid = torch.stack([xs, ys], -1)[None] + torch.from_numpy(clip["flow"][1:]) * 2 / r
    warped = F.grid_sample(rgb[:-1], grid, padding_mode="border", align_corners=False)
    valid = torch.from_numpy(clip["flow_valid"][1:])[:, None]
    warp_err = float((((warped - rgb[1:]) ** 2) * valid).sum())
    copy_err = float((((rgb[:-1] - rgb[1:]) ** 2) * valid).sum())
    assert warp_err < 0.5 * copy_err


def _aux_cfg(**weights: float) -> RunConfig:
    cfg = preset("tiny").override(
        ["model.hard_write=true", "model.keep_gate=true", "data.clip_length=10", "train.unroll=4"]
    )
    return cfg.replace(train=dataclasses.replace(cfg.train, **weights))


@pytest.mark.parametrize("term", ["write", "keep", "flow", "recall"])
def test_each_auxiliary_loss_falls_after_one_step_with_it(occlusion_source, term):
    # a fixed window of the occlusion scene where the wall moves and starts leaving the object
    occ = occlusion_source.clip(0)["occluder"]
    leaves = np.flatnonzero((occ[:-1] & ~occ[1:]).any(axis=(1, 2)))
    start = int(min(max(leaves[0] - 4, 0), occlusion_source.frames - 10))
    window = {k: v[None] for k, v in occlusion_source.clip(0, start, 10).items()}
    batch = batch_to_tensors(window, "cpu")
    results = {}
    for weight in (0.0, 1.0):
        cfg = _aux_cfg(**{f"{term}_weight": weight})
        torch.manual_seed(0)
        net = FlowMemoryNet(cfg.model)
        opt = torch.optim.SGD(net.parameters(), lr=1e-3)  # small: first order holds
        with torch.no_grad():
            before = float(loss_terms(net, batch, cfg)[term])
        opt.zero_grad()
        _loss(net, batch, cfg).backward()
        opt.step()
        with torch.no_grad():
            results[weight] = (before, float(loss_terms(net, batch, cfg)[term]))
    (b0, a0), (b1, a1) = results[0.0], results[1.0]
    assert b0 == pytest.approx(b1)  # same start
    assert a1 < b1 and a1 < a0, (term, results)  # the step with the term lowers it more


def _generate(tmp_path, labels: str) -> str:
    out = tmp_path / f"ds-{labels.replace(',', '-')}"
    args = ["generate", "--families", "occlusion,drop", "--scenes", "12", "--frames", "20"]
    args += ["--splits", "0.5,0.25,0.25"]
    args += ["--size", "32", "--out", str(out), "--labels", labels, "--workers", "1", "--quiet"]
    assert main(args) == 0
    return str(out)


@pytest.mark.slow
def test_train_and_eval_from_a_generated_dataset(tmp_path, capsys):
    data = _generate(tmp_path, "rgb,depth,segmentation,flow")
    # a stored dataset gives the same clip dict as scenes simulated now
    stored = dataset_source(data, "train", 32, LABELS)
    assert stored.metas[0].family in ("occlusion", "drop")
    clip = stored.clip(0, 2, 8)
    assert {k: v.shape[0] for k, v in clip.items()} == dict.fromkeys(clip, 8)
    assert set(clip) == {"rgb", "occluder", "visible", "flow", "flow_valid"}
    assert any(stored.clip(i)["occluder"].any() for i in range(len(stored)))
    sets = ["model.hard_write=true", "model.keep_gate=true", "train.flow_weight=0.1"]
    sets += ["train.write_weight=0.1", "train.recall_weight=0.1", "train.keep_weight=0.1"]
    sets += ["data.occlusion_windows=0.5", "data.clip_length=10", "train.unroll=4"]
    run = tmp_path / "run"
    args = ["train", "--preset", "tiny", "--data", data, "--out", str(run), "--steps", "3"]
    assert main([*args, *[a for s in sets for a in ("--set", s)]]) == 0
    assert "trained 3 steps" in capsys.readouterr().out
    out = tmp_path / "eval.json"
    args = ["eval", "--ckpt", str(run), "--data", data, "--json", str(out)]
    assert main([*args, "--permanence-scenes", "0", "--voe-items", "0"]) == 0
    res = json.loads(out.read_text())
    windows = res["prediction"]["windows"]
    assert windows["moving"] + windows["faint"] + windows["still"] >= 1
    # a dataset without the labels a loss needs is refused, naming what to generate
    plain = _generate(tmp_path, "rgb")
    args = ["train", "--preset", "tiny", "--data", plain, "--out", str(tmp_path / "r2")]
    assert main([*args, "--set", "model.hard_write=true", "--set", "train.write_weight=0.1"]) == 2
    err = capsys.readouterr().err
    assert "segmentation" in err and "--labels" in err


def test_balanced_voe_builder_gives_baselines_exactly_one_half():
    from twinsim.neural.evaluate import BALANCED_KINDS, balanced_voe, voe_items

    cfg = preset("tiny")
    # carry off: an untrained net is then copy-last (carry alone predicts a hidden body's return)
    model = WorldModel(FlowMemoryNet(cfg.model), cfg, inference=InferenceConfig(carry=False))
    for kind, quad in voe_items(32, 1, 2_000_000):
        assert quad is not None, kind
        a, b, c, d = quad
        f = int(np.flatnonzero((c != a).any(axis=(1, 2, 3)))[0]) - 1  # the splice
        assert np.array_equal(a[f], b[f]) and np.array_equal(c[f + 1 :], b[f + 1 :])
        assert np.array_equal(d[: f + 1], b[: f + 1]) and np.array_equal(d[f + 1 :], a[f + 1 :])
    res = balanced_voe(model, 3, 2_000_000, progress=False)
    for kind in BALANCED_KINDS:
        assert res["items"][kind] == 3
        assert res["copy_last"][kind] == 0.5 and res["linear"][kind] == 0.5
        assert res["model_gated"][kind] == 0.0  # an untrained (copy-last) model cannot score
    fams = res["by_family"]  # the scenes alternate between the two families, 4 kinds each
    assert {f: r["items"] for f, r in fams.items()} == {"occlusion": 8, "screen": 4}
    pooled = sum(r["model"] * r["items"] for r in fams.values()) / 12
    assert np.isclose(pooled, res["model"]["overall"])


def test_voe_summary_per_family_counts_items_and_ties():
    from twinsim.neural.voe import summarise_voe, voe_family_line

    right = {"m": {"a": [1.0, 0.5, 0.0], "b": [0.5, 1.0]}}
    families = {"a": ["occlusion", "screen", "screen"], "b": ["screen", "occlusion"]}
    res = summarise_voe(right, {"a": [1.0, 0, 0], "b": [0, 1.0]}, "m", {}, families)
    assert res["by_family"] == {
        "occlusion": {"items": 2, "m": 1.0, "ties": 0},
        "screen": {"items": 3, "m": pytest.approx(1 / 3), "ties": 2},
    }
    line = voe_family_line(res, "m")
    assert "occlusion 1.000 (2 items, 0 ties)" in line and "screen 0.333 (3 items, 2 ties)" in line
    assert voe_family_line(summarise_voe(right, {"a": [], "b": []}, "m", {}), "m") is None
    with pytest.raises(ValueError):  # one family per scored item
        summarise_voe(right, {"a": [], "b": []}, "m", {}, {"a": ["occlusion"], "b": []})


def test_checkpoint_config_keeps_no_inference_settings(tmp_path):
    cfg = preset("tiny")
    settings = {f.name for f in dataclasses.fields(InferenceConfig)}
    assert settings >= {"snap", "recall", "fallback", "carry"}
    assert not settings & set(cfg.to_dict()["model"])
    folder = save_checkpoint(tmp_path / "ck", FlowMemoryNet(cfg.model), cfg)
    assert WorldModel.load(folder).inference == InferenceConfig()  # defaults in code
    assert WorldModel.load(folder, snap=0).inference.snap == 0
    assert WorldModel.load(folder, carry=False).inference.carry is False
    with pytest.raises(UnknownNameError, match="recall, snap"):
        WorldModel.load(folder, snapp=1)
    with pytest.raises(SpecError, match=r"inference\.snap"):
        WorldModel.load(folder, snap=-1)
    # a config written before the split (snap in the model section) still loads
    data = json.loads((folder / "config.json").read_text())
    data["model"]["snap"] = 16.0
    assert RunConfig.from_dict(data) == cfg


def test_bundled_models_are_rebuilt_from_their_preset_and_settings():
    from twinsim.neural.predict import BUNDLED, load_pretrained

    assert len(BUNDLED) <= 2
    for name, b in BUNDLED.items():
        shipped = RunConfig.from_json((b.folder / "config.json").read_text())
        assert preset(b.preset).override(b.overrides) == shipped, name
        assert load_pretrained(name).inference == b.inference
        assert load_pretrained(name, snap=0).inference.snap == 0
        assert f"--preset {b.preset}" in b.command
