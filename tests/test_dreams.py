"""Dream twins: training, checkpoints, spaces, batched vector envs, dream-check and planning."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from twinsim.envs import make
from twinsim.envs.dream_check import dream_check
from twinsim.envs.dream_data import collect
from twinsim.envs.dream_train import train_dreams
from twinsim.envs.planning import CEMConfig, CEMPlanner, dream_scorer, engine_scorer
from twinsim.neural.action_video import ActionVideoModel
from twinsim.neural.dynamics import EnsembleDynamics

from twinsim.cli import main as cli


@pytest.fixture(scope="module")
def tiny_dreams(tmp_path_factory):
    """Catch and Topple dreams trained for a few seconds (enough to exercise every path)."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("dreams")
    for task in ("Catch", "Topple"):
        train_dreams(
            task, root, state_steps=400, pixel_steps=60, state_seconds=3, pixel_seconds=2,
            image_size=32, log=lambda *_: None,
        )  # fmt: skip
    return root


def test_collect_mixes_scripted_successes_and_random_steps():
    data = collect("Catch", 300, seed=0, progress=False)
    assert data.obs.shape == (300, 10) and data.act.shape == (300, 2)
    assert data.success.sum() >= 1  # scripted episodes catch the ball
    assert data.done.sum() >= data.success.sum()
    np.testing.assert_array_equal(
        data.obs[1:][data.done[:-1] == 0], data.next_obs[:-1][data.done[:-1] == 0]
    )


def test_checkpoints_round_trip_exactly(tiny_dreams):
    m = EnsembleDynamics.load(tiny_dreams / "Catch")
    assert m.cfg.obs_dim == 10 and len(m.initial_obs) >= 1
    obs = m.initial_obs[:3]
    act = torch.zeros(3, 2)
    m.save(tiny_dreams / "copy")
    m2 = EnsembleDynamics.load(tiny_dreams / "copy")
    torch.testing.assert_close(m.predict(obs, act).next_obs, m2.predict(obs, act).next_obs)
    px = ActionVideoModel.load(tiny_dreams / "Topple")
    assert px.cfg.num_actions == 5 and px.initial_frames.shape[2:] == (32, 32, 3)
    with pytest.raises(FileNotFoundError, match="missing"):
        EnsembleDynamics.load(tiny_dreams / "nowhere")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kind", ["dream", "dream-rgb"])
@pytest.mark.parametrize("task", ["Catch", "Topple"])
def test_dream_has_the_engine_spaces_and_passes_check_env(tiny_dreams, task, kind):
    from gymnasium.utils.env_checker import check_env

    dream = make(f"twinsim/{task}-{kind}-v0", checkpoint=str(tiny_dreams))
    mode, size = ("state", 64) if kind == "dream" else ("rgb", 32)
    engine = make(f"twinsim/{task}-v0", obs_mode=mode, image_size=size)
    assert dream.observation_space == engine.observation_space
    assert dream.action_space == engine.action_space
    check_env(dream.unwrapped)
    o1, _ = dream.reset(seed=3)
    o2, _ = dream.reset(seed=3)
    np.testing.assert_array_equal(o1, o2)
    with pytest.raises(ValueError, match="invalid action"):
        dream.step(np.full(7, 0.5))


def test_dream_starts_from_a_given_engine_observation(tiny_dreams):
    engine = make("twinsim/Catch-v0")
    obs, _ = engine.reset(seed=11)
    dream = make("twinsim/Catch-dream-v0", checkpoint=str(tiny_dreams))
    d_obs, _ = dream.reset(options={"obs": obs})
    np.testing.assert_array_equal(d_obs, obs)
    nxt, r, _term, _trunc, info = dream.step(np.zeros(2, np.float32))
    assert nxt.shape == obs.shape and np.isfinite(r) and "uncertainty" in info


def test_batched_dream_vector_env_autoresets(tiny_dreams):
    envs = gym.make_vec("twinsim/Catch-dream-v0", num_envs=8, checkpoint=str(tiny_dreams))
    assert type(envs).__name__ == "StateDreamVectorEnv"
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (8, 10)
    ends = 0
    for _ in range(45):  # > max_episode_steps (40): every row ends at least once
        obs, rew, term, trunc, info = envs.step(envs.action_space.sample())
        ends += int((term | trunc).sum())
        assert rew.shape == (8,) and info["is_success"].shape == (8,)
    assert ends >= 8
    px = gym.make_vec("twinsim/Topple-dream-rgb-v0", num_envs=4, checkpoint=str(tiny_dreams))
    frames, _ = px.reset(seed=0)
    assert frames.shape == (4, 32, 32, 3) and frames.dtype == np.uint8
    assert px.step(np.array([0, 1, 2, 3]))[0].shape == (4, 32, 32, 3)


def test_dream_check_reports_per_step_errors_against_a_baseline(tiny_dreams):
    rep = dream_check(
        "twinsim/Catch-v0", episodes=2, steps=8, checkpoint=str(tiny_dreams), policy="scripted"
    )
    assert 1 <= len(rep.obs_error) <= 8 and len(rep.reward_error) == len(rep.obs_error)
    assert all(np.isfinite(rep.obs_error)) and len(rep.steps_within) == 2
    assert rep.hold_error[-1] > 0  # the world moved: holding the first frame is wrong
    px = dream_check(
        "twinsim/Topple-dream-rgb-v0", episodes=1, steps=4, checkpoint=str(tiny_dreams)
    )
    assert px.dream_id.endswith("dream-rgb-v0") and len(px.obs_error) >= 1


def test_dream_check_cli(tiny_dreams, capsys):
    rc = cli(["dream-check", "twinsim/Topple-dream-v0", "--episodes", "1", "--steps", "3",
              "--checkpoint", str(tiny_dreams)])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0 and "steps within tolerance" in out
    assert cli(["dream-check", "twinsim/Nope-v0"]) == 2
    assert "valid env ids" in capsys.readouterr().err


def test_cem_plans_with_dream_and_engine_scorers(tiny_dreams):
    env = make("twinsim/Catch-v0")
    obs, _ = env.reset(seed=0)
    cfg = CEMConfig(horizon=4, population=16, elites=4, iterations=2)
    model = EnsembleDynamics.load(tiny_dreams / "Catch")
    a = CEMPlanner(env.action_space, dream_scorer(model), cfg)(obs)
    assert env.action_space.contains(a)
    before = env.unwrapped.world.state()
    b = CEMPlanner(env.action_space, engine_scorer(env.unwrapped), cfg)(obs)
    assert env.action_space.contains(b)
    after = env.unwrapped.world.state()  # the engine scorer restores the world it searched in
    assert before.step == after.step
    np.testing.assert_allclose(before.bodies["ball"].position, after.bodies["ball"].position)
    d = make("twinsim/Topple-v0")
    obs, _ = d.reset(seed=0)
    topple = EnsembleDynamics.load(tiny_dreams / "Topple")
    assert d.action_space.contains(CEMPlanner(d.action_space, dream_scorer(topple), cfg)(obs))


def test_vector_dream_rejects_bad_action_batches(tiny_dreams):
    from twinsim.envs import InvalidActionError

    envs = gym.make_vec("twinsim/Catch-dream-v0", num_envs=3, checkpoint=str(tiny_dreams))
    envs.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"expected \(3, 2\)"):
        envs.step(np.zeros((2, 2)))
    with pytest.raises(InvalidActionError, match="out of bounds"):
        envs.step(np.array([[0, 0], [0, 9.0], [0, 0]]))
    one = gym.make_vec("twinsim/Catch-dream-v0", num_envs=1, checkpoint=str(tiny_dreams))
    one.reset(seed=0)
    assert one.step(np.zeros((1, 2), np.float32))[0].shape == (1, 10)
    d = gym.make_vec("twinsim/Topple-dream-v0", num_envs=2, checkpoint=str(tiny_dreams))
    d.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"\[0, 4\]"):
        d.step(np.array([1, 5]))
