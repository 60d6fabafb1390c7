"""Foraging-v0 from Python: the batch-major vector env over every agent of every world, PettingZoo's
parallel API for one world, and the checks on num_agents and action shapes."""

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import simkit
from simkit import foraging


def test_make_vec_rows_are_world_major():
    env = simkit.make_vec("Foraging-v0", num_envs=3, num_agents=4, device="cpu", seed=0)
    assert (env.num_worlds, env.num_agents, env.num_envs) == (3, 4, 12)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (12, 4, 13, 13) and obs.dtype == np.float32
    assert env.single_observation_space.shape == (4, 13, 13)
    assert env.observation_space.contains(obs)
    # Self channel: 1 at the centre of every agent's window.
    assert np.all(obs[:, 0, 6, 6] == 1)
    state = env.get_state()
    assert state.shape == (3, 60 + 4 * 5)
    obs, reward, terminated, truncated, _ = env.step(np.zeros(12, dtype=np.int64))
    assert reward.shape == terminated.shape == truncated.shape == (12,)
    # Staying costs 0.15 and earns 0.1 for every agent.
    np.testing.assert_allclose(reward, -0.05, atol=1e-6)
    # Row world * 4 + agent holds agent `agent` of world `world`: x of (world 1, agent 2).
    x = env.get_state()[1, 60 + 2 * 5]
    assert x == state[1, 60 + 2 * 5]


def test_rollout_counts_agents_alive():
    env = simkit.make_vec("Foraging-v0", num_envs=64, num_agents=10, device="cpu", seed=0)
    env.reset(seed=0)
    stats = env.rollout(400)
    assert stats["episodes"] > 0
    # Random agents rarely find food: most starve around step 43, so episodes end with none alive.
    assert 0 <= stats["mean_agents_alive"] < 1


@pytest.mark.parametrize("bad", [0, -1, 513])
def test_num_agents_out_of_range(bad):
    with pytest.raises(ValueError, match="num_agents must be at"):
        simkit.make_vec("Foraging-v0", num_envs=2, num_agents=bad, device="cpu")


def test_actions_of_one_per_world_are_refused_before_any_change():
    env = simkit.make_vec("Foraging-v0", num_envs=3, num_agents=5, device="cpu", seed=0)
    env.reset(seed=0)
    before = env.get_state()
    with pytest.raises(ValueError, match=r"actions must have shape \(15,\) \(num_envs \* num_agents = 3 \* 5\)"):
        env.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match=r"actions\[7\] = 6 is outside"):
        env.step(np.where(np.arange(15) == 7, 6, 0))
    np.testing.assert_array_equal(env.get_state(), before)


def test_parallel_env_passes_pettingzoo_api_test():
    env = foraging.parallel_env(num_agents=8, seed=3)
    parallel_api_test(env, num_cycles=1100)
    env.close()


def test_parallel_env_episode_ends_when_all_agents_leave():
    env = foraging.parallel_env(num_agents=5)
    observations, infos = env.reset(seed=1)
    assert sorted(observations) == sorted(env.possible_agents) and len(infos) == 5
    steps = 0
    while env.agents:
        actions = {agent: env.action_space(agent).sample() for agent in env.agents}
        observations, rewards, terminations, truncations, _ = env.step(actions)
        assert set(rewards) == set(observations) == set(terminations)
        for agent, reward in rewards.items():
            if terminations[agent]:
                assert reward <= -10  # the death penalty
        steps += 1
    assert 10 <= steps <= 1000
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})
