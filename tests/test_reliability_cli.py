"""The CLI's numeric flags under generated values (property-based): every value is either refused
with exit code 2 and one error line, or accepted and then finite and in the documented range.
The expensive work behind each command is replaced by a recorder."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinsim.cli import main

VALUES = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "NaN", "Infinity", "1e18", "1e999", "-0", "0",
                     "-5", "1", "2", "0.5", "4096", "1e-300", "", "x", "0x10", "2**8"]),
    st.floats(allow_subnormal=False).map(repr),  # train() sets flush-to-zero process-wide
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)  # fmt: skip


class Reached(Exception):
    """The command got past its argument checks to the (replaced) expensive work."""


@pytest.fixture
def recorder(monkeypatch):
    import importlib

    # (import_module: the package attribute ``train`` is the function, not the module)
    predict_mod = importlib.import_module("twinsim.neural.predict")
    train_mod = importlib.import_module("twinsim.neural.train")
    generate_mod = importlib.import_module("twinsim.sim.datasets.generate")

    seen: dict[str, object] = {}

    def fake_generate(config, out, **kw):
        seen["config"] = config
        raise Reached

    def fake_train(cfg, out, data=None, footage=None, resume=False, device="cpu", minutes=None,
                   **kw):  # fmt: skip
        seen["config"], seen["minutes"] = cfg, minutes
        raise Reached

    def fake_load(path, device="cpu", **settings):
        raise Reached

    monkeypatch.setattr(generate_mod, "generate_dataset", fake_generate)
    monkeypatch.setattr(train_mod, "train", fake_train)
    monkeypatch.setattr(predict_mod.WorldModel, "load", staticmethod(fake_load))
    threads = torch.get_num_threads()
    yield seen
    torch.set_num_threads(threads)


def _run(argv, capsys) -> str:
    """'refused' (exit 2, one line), 'accepted' (reached the recorder) or the output of a
    command that ran (exit 0); anything else fails the test."""
    try:
        rc = main(argv)
    except Reached:
        return "accepted"
    except SystemExit as exc:  # argparse: usage + one error line
        assert exc.code == 2, argv
        err = capsys.readouterr().err
        assert err.strip().splitlines()[-1].startswith("twinsim"), err
        return "refused"
    out, err = capsys.readouterr()
    if rc == 0:
        return out
    assert rc == 2, (argv, rc, err)
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, err
    return "refused"


GENERATE = {
    "--scenes": ("scenes", 1, 10**9),
    "--frames": ("frames", 2, 100_000),
    "--size": ("size", 1, 4096),
    "--seed": ("seed", 0, 2**63 - 1),
    "--impossible-fraction": ("impossible_fraction", 0, 1),
    "--shard-size": ("shard_size", 1, 10**6),
    "--max-attempts": ("max_attempts", 1, 100),
    "--workers": ("workers", 1, 4096),
}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(flag=st.sampled_from(sorted(GENERATE)), value=VALUES)
def test_generate_numeric_flags(recorder, capsys, tmp_path, flag, value):
    argv = ["generate", "--families=drop", "--scenes=2", "--frames=4", "--size=16", "--quiet",
            f"--out={tmp_path / 'd'}", f"{flag}={value}"]  # fmt: skip
    if _run(argv, capsys) == "accepted":
        field, lo, hi = GENERATE[flag]
        v = getattr(recorder["config"], field)
        assert math.isfinite(v) and lo <= v <= hi, (flag, value, v)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.tuples(VALUES, VALUES, VALUES))
def test_generate_split_fractions(recorder, capsys, tmp_path, value):
    argv = ["generate", "--families=drop", "--scenes=2", "--frames=4", "--quiet",
            f"--out={tmp_path / 'd'}", f"--splits={','.join(value)}"]  # fmt: skip
    if _run(argv, capsys) == "accepted":
        fr = recorder["config"].split_fractions
        assert all(math.isfinite(x) and x >= 0 for x in fr) and abs(sum(fr) - 1) < 1e-6


TRAIN_FLAGS = ["--steps", "--scenes", "--seed", "--minutes", "--threads", "--real-fraction"]
TRAIN_SETS = ["train.lr", "train.grad_clip", "model.max_flow", "model.snap", "data.real_fraction",
              "train.steps", "train.batch_size", "data.frames", "train.keep_weight"]  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(flag=st.sampled_from(TRAIN_FLAGS + TRAIN_SETS), value=VALUES)
def test_train_numeric_flags_and_set(recorder, capsys, tmp_path, flag, value):
    argv = ["train", "--preset=tiny", f"--out={tmp_path / 'r'}", "--footage=nowhere"]
    argv += ["--set", f"{flag}={value}"] if "." in flag else [f"{flag}={value}"]
    if _run(argv, capsys) == "accepted":
        cfg = recorder["config"]
        for section in (cfg.model, cfg.data, cfg.train):
            for f in dataclasses.fields(section):
                v = getattr(section, f.name)
                if isinstance(v, float):
                    assert math.isfinite(v), (flag, value, f.name, v)
        minutes = recorder["minutes"]
        assert minutes is None or (math.isfinite(minutes) and minutes > 0)
        assert 1 <= torch.get_num_threads() <= 1024


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    flag=st.sampled_from(
        ["--context", "--horizon", "--start", "--fps", "--seed", "--threads", "--samples"]
    ),
    value=VALUES,
)
def test_predict_numeric_flags(recorder, capsys, tmp_path, flag, value):
    argv = ["predict", "--ckpt=x", "--scene=drop", f"--out={tmp_path / 'o.mp4'}",
            f"{flag}={value}"]  # fmt: skip
    if _run(argv, capsys) == "accepted":
        v = float(value)
        assert math.isfinite(v) and v >= 0
        assert flag != "--start" or v >= 0
        assert flag not in ("--context", "--horizon", "--fps") or v > 0
        assert flag != "--samples" or v == 1  # draws of materials: the hybrid backend's only


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    flag=st.sampled_from(["--test-scenes", "--permanence-scenes", "--voe-pairs", "--seed"]),
    value=VALUES,
)
def test_eval_numeric_flags(recorder, capsys, flag, value):
    if _run(["eval", "--ckpt=x", f"{flag}={value}"], capsys) == "accepted":
        v = int(value)
        assert v >= 0  # 0 skips a stage (--test-scenes, --permanence-scenes, --voe-items)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=VALUES)
def test_sample_seed(capsys, value):
    out = _run(["sample", "drop", f"--seed={value}"], capsys)
    if out != "refused":
        seed = json.loads(out)["seed"]
        assert 0 <= seed < 2**63 and seed == int(value)


def test_sample_accepts_an_ordinary_seed(capsys):
    assert main(["sample", "drop", "--seed=3"]) == 0
    assert '"seed": 3' in capsys.readouterr().out
