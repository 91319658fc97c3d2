"""Engine-backed gymnasium tasks: registry, spaces, determinism, errors, vector envs, export."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import twinsim.envs
from gymnasium.utils.env_checker import check_env
from twinsim.envs import InvalidActionError, env_ids, make
from twinsim.envs.policies import RandomPolicy, scripted_policy
from twinsim.sim import SceneSpec, World

ENGINE = env_ids("engine")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("env_id", env_ids())
def test_check_env_passes_on_every_registered_id(env_id):
    assert env_id in gym.registry
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=False)
    env.close()


def test_registry_lists_four_tasks_with_both_action_kinds_and_dreams():
    assert len(ENGINE) >= 4
    kinds = {type(gym.make(i).action_space).__name__ for i in ENGINE}
    assert kinds == {"Box", "Discrete"}
    for i in ENGINE:
        task = i.split("/")[1].removesuffix("-v0")
        assert f"twinsim/{task}-dream-v0" in gym.registry
        assert f"twinsim/{task}-dream-rgb-v0" in gym.registry
        assert gym.registry[i].max_episode_steps > 0


def test_unknown_id_lists_valid_ids():
    with pytest.raises(KeyError, match=r"valid env ids: .*twinsim/PushBlock-v0"):
        make("twinsim/PushBlok-v0")


@pytest.mark.parametrize("env_id", ENGINE)
def test_reset_is_reproducible(env_id):
    a, b = make(env_id), make(env_id)
    oa, _ = a.reset(seed=7)
    ob, _ = b.reset(seed=7)
    np.testing.assert_array_equal(oa, ob)
    a.action_space.seed(3)
    b.action_space.seed(3)
    for _ in range(5):
        act = a.action_space.sample()
        assert b.action_space.sample() == pytest.approx(act)
        ra = a.step(act)
        rb = b.step(act)
        np.testing.assert_array_equal(ra[0], rb[0])
        assert ra[1] == rb[1]
    oc, _ = a.reset(seed=8)
    assert not np.array_equal(oa, oc)


def test_observation_modes_shapes_and_dtypes():
    for mode, shape in (("rgb", (32, 32, 3)), ("rgbd", (32, 32, 4))):
        env = make("twinsim/PushBlock-v0", obs_mode=mode, image_size=32)
        obs, _ = env.reset(seed=0)
        assert obs.shape == shape and obs.dtype == np.uint8
        assert env.observation_space.contains(obs)
        assert obs[..., :3].std() > 1  # an actual picture, not a blank
    env = make("twinsim/Topple-v0", obs_mode="rgb+state", image_size=32, render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"rgb", "state"}
    assert obs["state"].shape == (len(env.unwrapped.STATE_LABELS),)
    assert env.render().shape == (32, 32, 3)
    with pytest.raises(ValueError, match="valid obs modes"):
        make("twinsim/Topple-v0", obs_mode="depth")
    with pytest.raises(ValueError, match="difficulty"):
        make("twinsim/Topple-v0", difficulty=2.0)


def test_invalid_actions_give_clear_errors():
    env = make("twinsim/PushBlock-v0")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"shape \(3,\).*expected \(2,\)"):
        env.step(np.zeros(3))
    with pytest.raises(InvalidActionError, match="finite"):
        env.step(np.array([np.nan, 0.0]))
    with pytest.raises(InvalidActionError, match="out of bounds"):
        env.step(np.array([5.0, 0.0]))
    d = make("twinsim/Topple-v0")
    d.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"\[0, 4\]"):
        d.step(7)
    with pytest.raises(InvalidActionError, match="one integer"):
        d.step(np.array([0.5, 1.0]))


@pytest.mark.parametrize("env_id", ENGINE)
def test_scripted_policy_succeeds_and_random_rarely_does(env_id):
    task = env_id.split("/")[1].removesuffix("-v0")
    env = make(env_id)
    wins = {"scripted": 0, "random": 0}
    for name in wins:
        for seed in range(3):
            pol = scripted_policy(task) if name == "scripted" else RandomPolicy(env.action_space)
            obs, _ = env.reset(seed=seed)
            pol.reset()
            while True:
                obs, _r, term, trunc, info = env.step(pol(obs))
                if term or trunc:
                    break
            wins[name] += info["is_success"]
    assert wins["scripted"] >= 2
    assert wins["random"] <= 1


def test_intercept_hides_the_target_for_part_of_the_episode():
    env = make("twinsim/Intercept-v0", randomize=False)
    obs, _ = env.reset(seed=0)
    visible = [obs[4]]
    for _ in range(90):
        obs, *_ = env.step(np.zeros(2, np.float32))
        visible.append(obs[4])
        if obs[4] == 0:
            assert np.all(obs[5:9] == 0)  # hidden: no position leaks into the state
    v = np.asarray(visible)
    assert v[0] == 1 and v.min() == 0 and v[-1] == 1  # seen, hidden, seen again


def test_export_spec_round_trips_and_matches_the_world():
    env = make("twinsim/Intercept-v0")
    env.reset(seed=1)
    for _ in range(10):
        env.step(env.action_space.sample())
    spec = env.unwrapped.export_spec(duration=1.0)
    assert SceneSpec.from_json(spec.to_json()) == spec
    live = env.unwrapped.world
    with World(spec) as w:
        for name in spec.names:
            np.testing.assert_allclose(w.pose(name)[0], live.pose(name)[0], atol=1e-6)


def test_async_vector_env_steps_engine_envs():
    envs = gym.make_vec(
        "twinsim/Catch-v0", num_envs=2, vectorization_mode="async", obs_mode="state"
    )
    try:
        obs, _ = envs.reset(seed=0)
        assert obs.shape == (2, 10)
        assert not np.array_equal(obs[0], obs[1])
        for _ in range(30):  # crosses episode ends (autoreset)
            obs, rew, _term, _trunc, _info = envs.step(envs.action_space.sample())
        assert obs.shape == (2, 10) and rew.shape == (2,)
    finally:
        envs.close()


def test_package_registers_on_import():
    assert twinsim.envs.env_ids()[0] in gym.registry


def test_cli_lists_envs_and_exports_a_renderable_spec(tmp_path, capsys):
    from twinsim.cli import main as cli

    assert cli(["envs"]) == 0
    listed = capsys.readouterr().out
    assert all(i in listed for i in env_ids())
    out = tmp_path / "scene.json"
    assert cli(["env-spec", "twinsim/Topple-v0", "--steps", "5", "--out", str(out)]) == 0
    spec = SceneSpec.from_json(out.read_text())
    assert spec.names == ("puck", "b0", "b1", "b2")
    assert cli(["env-spec", "twinsim/Topple-dream-v0"]) == 2
    assert "dream" in capsys.readouterr().err
