"""The Gymnasium vector API of SimkitVectorEnv: spaces, autoreset modes against Gymnasium's own
CartPoleVectorEnv / SyncVectorEnv driven through the same states, seeding, wrappers, buffers, rollout."""

from __future__ import annotations

import math
import threading
import time

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import simkit

N = 16


def cartpole(n=N, **kw):
    kw.setdefault("precision", "float64")
    return simkit.make_vec("CartPole-v1", num_envs=n, device="cpu", **kw)


def test_spaces_match_gymnasium():
    ref = gymnasium.make_vec("CartPole-v1", num_envs=N, vectorization_mode="vector_entry_point")
    env = cartpole()
    assert env.single_observation_space == ref.single_observation_space
    assert env.observation_space == ref.observation_space
    assert env.single_action_space == ref.single_action_space
    assert env.action_space == ref.action_space and env.action_space.dtype == ref.action_space.dtype
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    for env_id in ("Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Acrobot-v1"):
        g = gymnasium.make(env_id)
        s = simkit.make_vec(env_id, num_envs=3, device="cpu")
        assert s.single_observation_space == g.observation_space, env_id
        assert s.single_action_space == g.action_space, env_id
    for mode, member in (("same_step", AutoresetMode.SAME_STEP), ("disabled", AutoresetMode.DISABLED)):
        assert cartpole(autoreset_mode=mode).metadata["autoreset_mode"] == member


def _drive_next_step(max_steps=None, elapsed=None, steps=80):
    """Both envs put in the same states; same actions; compare flags, rewards, obs step by step.
    The reset states come from different RNGs, so after each autoreset simkit's new state is copied
    into Gymnasium (the reset step itself is compared: reward 0, flags False, action ignored)."""
    ref = gymnasium.make_vec("CartPole-v1", num_envs=N, vectorization_mode="vector_entry_point",
                             **({} if max_steps is None else {"max_episode_steps": max_steps}))
    env = cartpole(**({} if max_steps is None else {"max_episode_steps": max_steps}))
    ref.reset(seed=0)
    env.reset(seed=0)
    state = env.get_state()
    if elapsed is not None:
        env.set_state(state, elapsed=elapsed)
        ref.unwrapped.steps[:] = elapsed
    ref.unwrapped.state = state.T.copy()
    rng = np.random.default_rng(1)
    ends = resets = truncs = 0
    for t in range(steps):
        a = rng.integers(0, 2, N)
        obs, r, term, trunc, _ = env.step(a)
        was_reset = ref.unwrapped.prev_done.copy()
        robs, rr, rterm, rtrunc, _ = ref.step(a)
        np.testing.assert_array_equal(term, rterm, err_msg=f"t={t}")
        np.testing.assert_array_equal(trunc, rtrunc, err_msg=f"t={t}")
        np.testing.assert_array_equal(r, rr.astype(np.float64), err_msg=f"t={t}")
        assert (r[was_reset] == 0).all() and not term[was_reset].any() and not trunc[was_reset].any()
        np.testing.assert_array_equal(obs[~was_reset], robs[~was_reset])
        resets += was_reset.sum()
        ends += (term | trunc).sum()
        truncs += trunc.sum()
        # copy simkit's reset states into Gymnasium (Gymnasium drew its own)
        ref.unwrapped.state[:, was_reset] = env.get_state()[was_reset].T
        np.testing.assert_array_equal(env.get_state(), ref.unwrapped.state.T)
    return ends, resets, truncs


def test_next_step_matches_cartpole_vector_env():
    ends, resets, _ = _drive_next_step()
    assert ends > 10 and resets > 10


def test_truncation_at_500_via_elapsed():
    elapsed = np.full(N, 495, dtype=np.int64)
    elapsed[: N // 2] = np.arange(N // 2) + 490
    _, _, truncs = _drive_next_step(elapsed=elapsed, steps=20)
    assert truncs > 0


def test_truncation_via_max_episode_steps():
    _, _, truncs = _drive_next_step(max_steps=7, steps=30)
    assert truncs > 0


def test_same_step_matches_sync_vector_env():
    n = 4
    ref = gymnasium.vector.SyncVectorEnv([lambda: gymnasium.make("CartPole-v1") for _ in range(n)],
                                         autoreset_mode=AutoresetMode.SAME_STEP)
    env = cartpole(n, autoreset_mode="same_step")
    ref.reset(seed=0)
    env.reset(seed=0)
    for i, e in enumerate(ref.envs):
        e.unwrapped.state = env.get_state()[i].copy()
    rng = np.random.default_rng(2)
    ends = 0
    for t in range(300):
        a = rng.integers(0, 2, n)
        obs, r, term, trunc, info = env.step(a)
        robs, rr, rterm, rtrunc, rinfo = ref.step(a)
        np.testing.assert_array_equal(term, rterm)
        np.testing.assert_array_equal(trunc, rtrunc)
        np.testing.assert_array_equal(r, rr)
        done = term | trunc
        assert set(info) >= {"final_obs", "_final_obs", "final_info", "_final_info"}
        np.testing.assert_array_equal(info["_final_obs"], done)
        if done.any():
            ends += done.sum()
            np.testing.assert_array_equal(rinfo["_final_obs"], done)
            for i in np.flatnonzero(done):
                np.testing.assert_array_equal(info["final_obs"][i], rinfo["final_obs"][i])
                assert env.single_observation_space.contains(info["final_obs"][i]) or term[i]
        np.testing.assert_array_equal(obs[~done], robs[~done])
        for i in np.flatnonzero(done):  # new episodes: copy simkit's reset state into Gymnasium
            ref.envs[i].unwrapped.state = env.get_state()[i].copy()
    assert ends > 10


def test_same_step_final_info_masks_only_ended_envs():
    """final_info holds the info of the step each ended episode ended in, masked to those envs; up to
    its first ending an env steps exactly as in a next_step twin, whose info at that step is the
    reference."""
    n = 6
    env = simkit.make_vec("ChemicalReactor-v0", num_envs=n, device="cpu", autoreset_mode="same_step")
    twin = simkit.make_vec("ChemicalReactor-v0", num_envs=n, device="cpu", autoreset_mode="next_step")
    for e in (env, twin):
        e.reset(seed=0)
        e.set_state(e.get_state(), elapsed=np.arange(n) * 10)  # episodes end at different steps
    actions = np.random.default_rng(0).uniform(-1, 1, (60, n, 1)).astype(np.float32)
    partial = 0
    first_end_checked = np.zeros(n, dtype=bool)
    for a in actions:
        _, _, term, trunc, info = env.step(a)
        twin_info = twin.step(a)[4]
        ended = term | trunc
        np.testing.assert_array_equal(info["_final_info"], ended)
        np.testing.assert_array_equal(info["final_info"]["_safety_violation"], ended)
        # info itself is the running episode's: the new one's where an episode ended
        np.testing.assert_array_equal(info["safety_violation"], env.get_state()[:, env.state_fields.index("violation")])
        first = ended & ~first_end_checked
        np.testing.assert_array_equal(info["final_info"]["safety_violation"][first], twin_info["safety_violation"][first])
        first_end_checked |= ended
        assert (info["final_info"]["safety_violation"][~ended] == 0).all()
        partial += 0 < ended.sum() < n
    assert partial >= 5 and first_end_checked.all()


def test_disabled_mode_with_reset_mask():
    env = cartpole(4, autoreset_mode="disabled")
    env.reset(seed=0)
    s = env.get_state()
    s[1] = [2.39, 5.0, 0.0, 0.0]  # env 1 leaves the track on the next step
    env.set_state(s)
    _, r, term, _, _ = env.step(np.ones(4, dtype=np.int64))
    assert term[1] and not term[[0, 2, 3]].any()
    before = env.get_state()
    mask = np.array([False, True, False, False])
    obs, _ = env.reset(options={"reset_mask": mask})
    after = env.get_state()
    np.testing.assert_array_equal(after[~mask], before[~mask])
    assert np.all(np.abs(after[1]) <= 0.05)
    np.testing.assert_array_equal(obs[1], after[1].astype(np.float32))
    _, r, term, _, _ = env.step(np.ones(4, dtype=np.int64))
    assert r[1] == 1.0 and not term[1]  # a normal first step (no reset step in disabled mode)


def test_seeding():
    a, b = cartpole(), cartpole()
    oa, _ = a.reset(seed=42)
    ob, _ = b.reset(seed=42)
    np.testing.assert_array_equal(oa, ob)
    assert not np.array_equal(oa[0], oa[1])
    oc, _ = b.reset(seed=43)
    assert not np.array_equal(oa, oc)
    seeds = list(range(100, 100 + N))
    ol, _ = a.reset(seed=seeds)
    ol2, _ = b.reset(seed=seeds)
    np.testing.assert_array_equal(ol, ol2)
    acts = np.ones(N, dtype=np.int64)
    for _ in range(30):
        np.testing.assert_array_equal(a.step(acts)[0], b.step(acts)[0])
    g = gymnasium.make_vec("simkit/CartPole-v1", num_envs=8)
    assert isinstance(g.unwrapped, simkit.SimkitVectorEnv) and g.num_envs == 8
    obs, _ = g.reset(seed=0)
    assert obs.shape == (8, 4) and obs.dtype == np.float32


def test_unseeded_envs_draw_their_seed_from_os_entropy():
    a, b = cartpole(), cartpole()
    oa, _ = a.reset()
    ob, _ = b.reset()
    assert isinstance(a.np_random_seed, int) and a.np_random_seed != b.np_random_seed
    assert not np.array_equal(oa, ob)
    again = cartpole()
    np.testing.assert_array_equal(again.reset(seed=a.np_random_seed)[0], oa)  # the reported seed reproduces
    assert cartpole(seed=5).np_random_seed == 5
    a.reset(seed=list(range(N)))
    assert a.np_random_seed == tuple(range(N))
    with pytest.raises(ValueError):
        a.reset(seed=7, options={"reset_mask": np.ones(3, dtype=bool)})
    assert a.np_random_seed == tuple(range(N))  # a failed reset changes nothing
    g = gymnasium.make_vec("simkit/CartPole-v1", num_envs=2)
    assert isinstance(g.np_random_seed, int)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "GeneCircuit-v0"])
def test_seed_list_seeds_each_env_independently(env_id):
    """Env i of ``reset(seed=[s_0, ...])`` follows the same trajectory as env i of a batch reset with
    the single seed s_i (env i draws from (seed, i)), through steps and autoresets."""
    n, steps = 5, 120
    seeds = [11, 2**40 + 3, 7, 0, 2**64 - 1]
    actions = np.random.default_rng(0).integers(0, 2, (steps, n))

    def run(seed):
        env = simkit.make_vec(env_id, num_envs=n, device="cpu", precision="float64")
        obs, _ = env.reset(seed=seed)
        states, observations = [env.get_state()], [obs]
        for a in actions:
            observations.append(env.step(a)[0])
            states.append(env.get_state())
        return np.stack(states), np.stack(observations)

    states, observations = run(seeds)
    for i, seed in enumerate(seeds):
        ref_states, ref_observations = run(seed)
        np.testing.assert_array_equal(states[:, i], ref_states[:, i], err_msg=f"env {i}")
        np.testing.assert_array_equal(observations[:, i], ref_observations[:, i], err_msg=f"env {i}")
    assert len({states[:, i].tobytes() for i in range(n)}) == n  # the seeds give different trajectories


def test_gymnasium_wrappers_run_unchanged():
    from gymnasium.wrappers.vector import ClipAction, NormalizeObservation, RecordEpisodeStatistics
    env = RecordEpisodeStatistics(NormalizeObservation(cartpole(8, precision="float32")))
    env.reset(seed=0)
    episodes = 0
    for _ in range(200):
        _, _, term, trunc, info = env.step(env.action_space.sample())
        if "episode" in info:
            episodes += info["_episode"].sum()
            assert (info["episode"]["l"][info["_episode"]] > 0).all()
    assert episodes > 20
    p = ClipAction(simkit.make_vec("Pendulum-v1", num_envs=4, device="cpu"))
    p.reset(seed=0)
    obs, r, *_ = p.step(np.array([[5.0], [-5.0], [0.5], [np.float32(2.0)]], dtype=np.float32))  # clipped to bounds
    assert obs.shape == (4, 3) and r.shape == (4,)


def test_copy_false_returns_persistent_buffers_and_dlpack():
    env = cartpole(4, copy=False)
    o1, _ = env.reset(seed=0)
    o2, r2, t2, *_ = env.step(np.zeros(4, dtype=np.int64))
    assert np.shares_memory(o1, o2)
    snapshot = o2.copy()
    o3, r3, *_ = env.step(np.zeros(4, dtype=np.int64))
    assert o3 is o2 or np.shares_memory(o3, o2)
    assert not np.array_equal(snapshot, o2)  # overwritten in place
    d = np.from_dlpack(o3)
    np.testing.assert_array_equal(d, o3)
    env2 = cartpole(4)
    q1, _ = env2.reset(seed=0)
    q2, *_ = env2.step(np.zeros(4, dtype=np.int64))
    assert not np.shares_memory(q1, q2)
    np.testing.assert_array_equal(np.from_dlpack(q2), q2)


def test_state_round_trip():
    for env_id in simkit.list_envs():
        for precision in ("float32", "float64"):
            env = simkit.make_vec(env_id, num_envs=5, device="cpu", precision=precision)
            env.reset(seed=1)
            s = env.get_state()
            assert s.shape == (5, len(env.state_fields)) and s.dtype == np.float64
            env.set_state(s, elapsed=np.arange(5))
            np.testing.assert_array_equal(env.get_state(), s)
            np.testing.assert_array_equal(env.get_elapsed(), np.arange(5))


def test_rollout_mean_episode_length():
    """Random-policy CartPole: Gymnasium's steady-state mean episode length is 22.24 +- 0.014 (s.e.,
    688k episodes). Episode lengths have a standard deviation of ~11.9 (measured with this API: 11.90 over
    73k episodes), so our run of
    E episodes has s.e. 11.8 / sqrt(E); the band is +-6 combined standard errors sqrt(se_ours^2 +
    0.014^2): wide enough that a correct engine essentially never fails (6 sigma), narrow enough to
    catch a wrong force sign, threshold or integrator (those shift the mean by >= 1 step)."""
    env = simkit.make_vec("CartPole-v1", num_envs=4096, device="cpu")
    env.reset(seed=0)
    env.rollout(200)  # warm-up: lengths are counted after the start-up transient
    stats = env.rollout(3000)
    e = stats["episodes"]
    assert e > 100_000
    se = math.sqrt((11.9 / math.sqrt(e)) ** 2 + 0.014 ** 2)
    mean = stats["mean_episode_length"]
    print(f"\nrollout: {e} episodes, mean length {mean:.4f} (band 22.24 +- {6 * se:.4f})")
    assert abs(mean - 22.24) <= 6 * se


def test_dlpack_outputs_on_cpu_are_the_step_buffers():
    env = simkit.make_vec("CartPole-v1", num_envs=5, device="cpu")
    env.reset(seed=0)
    obs, reward, terminated, truncated, _ = env.step(np.ones(5, dtype=np.int64))
    out = env.dlpack_outputs()
    assert np.array_equal(np.from_dlpack(out["obs"]), obs)
    assert np.array_equal(np.from_dlpack(out["reward"]), reward)
    assert np.array_equal(np.from_dlpack(out["terminated"]), terminated)
    assert np.array_equal(np.from_dlpack(out["truncated"]), truncated)


class _ConcurrencyProbe:
    """Stands in for the engine: counts how many step() calls are inside it at once."""

    def __init__(self, sim):
        self._sim, self.inside, self.most = sim, 0, 0

    def __getattr__(self, name):
        return getattr(self._sim, name)

    def step(self, *args):
        self.inside += 1
        self.most = max(self.most, self.inside)
        time.sleep(0.002)  # a slow step: the other thread gets the GIL meanwhile
        self._sim.step(*args)
        self.inside -= 1


def test_steps_from_two_threads_run_one_after_another():
    n, steps = 20_000, 150
    env = simkit.make_vec("Pendulum-v1", num_envs=n, device="cpu", max_episode_steps=0)  # never ends
    env.reset(seed=0)
    probe = env._sim = _ConcurrencyProbe(env._sim)
    actions = np.zeros((n, 1), dtype=np.float32)
    workers = [threading.Thread(target=lambda: [env.step(actions) for _ in range(steps)]) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert probe.most == 1
    np.testing.assert_array_equal(env.get_elapsed(), 2 * steps)  # no step lost


def test_reset_bounds_apply_to_that_reset_only_as_in_gymnasium():
    env = cartpole(256)
    wide, _ = env.reset(seed=0, options={"low": -0.2, "high": 0.2})
    assert np.abs(wide).max() <= 0.2 and np.abs(wide).max() > 0.05
    plain, _ = env.reset(seed=1)  # the next reset is back to Gymnasium's U(-0.05, 0.05)
    assert np.abs(plain).max() <= 0.05
    env.reset(seed=2, options={"low": -0.2, "high": 0.2})
    resets = 0
    for _ in range(60):  # and so are the autoresets after the reset with options
        was_done = env.get_elapsed() == 0
        obs, *_ = env.step(np.ones(256, dtype=np.int64))
        started = (env.get_elapsed() == 0) & ~was_done
        assert np.abs(obs[started]).max(initial=0) <= 0.05
        resets += started.sum()
    assert resets > 100
    # one bound alone keeps the other, as Gymnasium's maybe_parse_reset_bounds
    low_only, _ = env.reset(seed=3, options={"low": -0.3})
    assert low_only.min() < -0.05 and low_only.max() <= 0.05
    with pytest.raises(ValueError, match="reset options .*greater than reset_high=0.05"):
        env.reset(options={"low": 0.1})
    # make_vec's bounds are the ones an option given alone keeps
    custom = cartpole(256, reset_low=-0.01, reset_high=0.01)
    high_only, _ = custom.reset(seed=0, options={"high": 0.3})
    assert high_only.min() >= -0.01 and high_only.max() > 0.01
    assert np.abs(custom.reset(seed=1)[0]).max() <= 0.01


def test_reset_options_are_gymnasiums():
    pendulum = simkit.make_vec("Pendulum-v1", num_envs=64, device="cpu", precision="float64")
    pendulum.reset(seed=0, options={"x_init": 0.1, "y_init": 0.2})
    state = pendulum.get_state()
    assert np.abs(state[:, 0]).max() <= 0.1 and np.abs(state[:, 1]).max() <= 0.2
    pendulum.reset(seed=1)
    assert np.abs(pendulum.get_state()[:, 0]).max() > 0.1
    for env_id, option in (("CartPole-v1", "sutton_barto_reward"), ("Pendulum-v1", "low"),
                           ("GeneCircuit-v0", "low")):
        env = simkit.make_vec(env_id, num_envs=2, device="cpu")
        with pytest.raises(ValueError, match=f"unknown reset option '{option}'.*known: reset_mask"):
            env.reset(options={option: 1})


def _legal_random_actions(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random empty cell of every board (cell 0 when a board has none)."""
    keys = np.where(obs == 0, rng.random(obs.shape), -1.0)
    return keys.argmax(axis=1).astype(np.int64)


def test_tic_tac_toe_action_mask_on_reset_and_on_autoreset_steps():
    """info["action_mask"] is the legal-move mask of the board in obs, as int8, after reset() and on
    every step, the next_step reset steps included (where the board is a new one)."""
    n = 64
    env = simkit.make_vec("TicTacToe-v0", num_envs=n, device="cpu", seed=1)
    obs, info = env.reset(seed=1)
    assert info["action_mask"].dtype == np.int8 and info["action_mask"].shape == (n, 9)
    np.testing.assert_array_equal(info["action_mask"], (obs == 0).astype(np.int8))
    np.testing.assert_array_equal(info["_action_mask"], np.ones(n, dtype=bool))
    assert info["illegal"].dtype == np.int8 and not info["illegal"].any()
    rng = np.random.default_rng(0)
    reset_steps = 0
    ended = np.zeros(n, dtype=bool)
    for _ in range(40):
        obs, _, terminated, truncated, info = env.step(_legal_random_actions(obs, rng))
        assert info["action_mask"].dtype == np.int8
        np.testing.assert_array_equal(info["action_mask"], (obs == 0).astype(np.int8))
        reset_steps += ended.sum()
        assert np.all(info["action_mask"][ended].sum(axis=1) >= 8)  # a new board: at most one mark
        ended = terminated | truncated
    assert reset_steps > 100


def test_tic_tac_toe_same_step_info_is_the_new_boards_and_final_info_the_ended_ones():
    n = 64
    env = simkit.make_vec("TicTacToe-v0", num_envs=n, device="cpu", autoreset_mode="same_step")
    obs, info = env.reset(seed=2)
    np.testing.assert_array_equal(info["action_mask"], (obs == 0).astype(np.int8))
    rng = np.random.default_rng(1)
    endings = 0
    for _ in range(40):
        obs, _, terminated, truncated, info = env.step(_legal_random_actions(obs, rng))
        ended = terminated | truncated
        np.testing.assert_array_equal(info["action_mask"], (obs == 0).astype(np.int8))
        final = info["final_info"]
        np.testing.assert_array_equal(final["_action_mask"], ended)
        assert final["action_mask"].dtype == np.int8
        for i in np.flatnonzero(ended):
            np.testing.assert_array_equal(final["action_mask"][i], (info["final_obs"][i] == 0).astype(np.int8))
        assert not final["action_mask"][~ended].any()
        endings += ended.sum()
    assert endings > 100
