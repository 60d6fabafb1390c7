"""Every bad input raises the documented error naming the argument, before any env state changes;
the env then steps correctly."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import simkit


def fresh(env_id="CartPole-v1", n=4, **kw):
    env = simkit.make_vec(env_id, num_envs=n, device="cpu", precision="float64", **kw)
    env.reset(seed=3)
    return env


def assert_unchanged_then_steps(env, good_actions):
    """State and elapsed are what they were; a good step then matches a twin env stepped the same way."""
    before, elapsed = env.get_state(), env.get_elapsed()
    twin = simkit.make_vec(env.env_id, num_envs=env.num_envs, device="cpu", precision="float64")
    twin.reset(seed=0)
    twin.set_state(before, elapsed=elapsed)
    out = env.step(good_actions)
    ref = twin.step(good_actions)
    for a, b in zip(out[:4], ref[:4]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(env.get_state(), twin.get_state())


CARTPOLE_BAD = [
    (np.zeros(3, dtype=np.int64), ValueError, "shape"),
    (np.zeros((4, 1), dtype=np.int64), ValueError, "shape"),
    (np.zeros(4, dtype=np.float32), ValueError, "integers"),
    (np.array([0, 1, 2, 0]), ValueError, r"actions\[2\] = 2"),
    (np.array([0, -1, 0, 0]), ValueError, r"actions\[1\] = -1"),
]


@pytest.mark.parametrize("actions,exc,match", CARTPOLE_BAD)
def test_bad_discrete_actions(actions, exc, match):
    env = fresh()
    before, elapsed = env.get_state(), env.get_elapsed()
    with pytest.raises(exc, match=match):
        env.step(actions)
    np.testing.assert_array_equal(env.get_state(), before)
    np.testing.assert_array_equal(env.get_elapsed(), elapsed)
    assert_unchanged_then_steps(env, np.array([0, 1, 0, 1]))


@pytest.mark.parametrize("bad", [np.nan, 2.5, -2.0001, np.inf])
def test_bad_continuous_actions(bad):
    env = fresh("Pendulum-v1", 3)
    before = env.get_state()
    a = np.array([[0.5], [bad], [0.0]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"actions\[1\]"):
        env.step(a)
    np.testing.assert_array_equal(env.get_state(), before)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros((3, 2), dtype=np.float32))
    assert_unchanged_then_steps(env, np.array([[2.0], [-2.0], [0.1]], dtype=np.float32))


@pytest.mark.parametrize("n,exc", [(0, ValueError), (-5, ValueError), (2.0, TypeError), ("8", TypeError), (True, TypeError)])
def test_bad_num_envs(n, exc):
    with pytest.raises(exc, match="num_envs"):
        simkit.make_vec("CartPole-v1", num_envs=n, device="cpu")


def test_step_before_reset():
    env = simkit.make_vec("CartPole-v1", num_envs=2, device="cpu")
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(2, dtype=np.int64))
    env.reset(seed=0)
    env.step(np.zeros(2, dtype=np.int64))


def test_unknown_env_id_suggests():
    with pytest.raises(ValueError, match="CartPole-v1") as e:
        simkit.make_vec("CartPole-v0", num_envs=2)
    assert "Did you mean" in str(e.value) and "env_id" in str(e.value)
    with pytest.raises(ValueError, match="MountainCar"):
        simkit.make_vec("MountainCar", num_envs=2)


def test_cuda_without_driver():
    if any(d["kind"] == "cuda" for d in simkit.devices()):
        pytest.skip("a CUDA device is present")
    with pytest.raises(ValueError) as e:
        simkit.make_vec("CartPole-v1", num_envs=2, device="cuda")
    msg = str(e.value).lower()
    assert "cuda" in msg and len(msg) > 20  # says why (no driver / not compiled)


def test_bad_device_precision_kwarg_mode():
    with pytest.raises(ValueError, match="device"):
        simkit.make_vec("CartPole-v1", num_envs=2, device="tpu")
    with pytest.raises(ValueError, match="precision"):
        simkit.make_vec("CartPole-v1", num_envs=2, precision="float16")
    with pytest.raises(ValueError, match="unknown parameter 'gravity'.*sutton_barto_reward"):
        simkit.make_vec("CartPole-v1", num_envs=2, gravity=3.0)
    with pytest.raises(ValueError, match="autoreset_mode"):
        simkit.make_vec("CartPole-v1", num_envs=2, autoreset_mode="sometimes")
    with pytest.raises(ValueError, match="autoreset_mode"):
        simkit.make_vec("CartPole-v1", num_envs=2, autoreset_mode="NextStep")  # the enum's value, not a mode name


@pytest.mark.parametrize("member", list(AutoresetMode))
def test_autoreset_mode_enum_members_are_accepted(member):
    env = simkit.make_vec("CartPole-v1", num_envs=2, device="cpu", autoreset_mode=member)
    assert env.metadata["autoreset_mode"] is member


@pytest.mark.parametrize("limit", [2**31, 2**32 + 5, 2**64])
def test_max_episode_steps_beyond_32_bits_raise(limit):
    with pytest.raises(ValueError, match="max_episode_steps must be at most 2147483647"):
        simkit.make_vec("CartPole-v1", num_envs=2, device="cpu", max_episode_steps=limit)


@pytest.mark.parametrize("seed,exc", [(-1, ValueError), (2**64, ValueError), (1.5, TypeError), ("0", TypeError),
                                      ([1, 2, 3], ValueError), ([1, 2, -3, 4], ValueError)])
def test_bad_seed(seed, exc):
    env = fresh()
    before = env.get_state()
    with pytest.raises(exc, match="seed"):
        env.reset(seed=seed)
    np.testing.assert_array_equal(env.get_state(), before)
    assert_unchanged_then_steps(env, np.array([1, 1, 0, 0]))


@pytest.mark.parametrize("mask", [np.ones(3, dtype=bool), np.ones((4, 1), dtype=bool), np.ones(4, dtype=np.int64)])
def test_bad_reset_mask(mask):
    env = fresh(autoreset_mode="disabled")
    before = env.get_state()
    with pytest.raises(ValueError, match="reset_mask"):
        env.reset(options={"reset_mask": mask})
    np.testing.assert_array_equal(env.get_state(), before)
    assert_unchanged_then_steps(env, np.array([1, 0, 1, 0]))


def test_bad_set_state():
    env = fresh()
    before = env.get_state()
    with pytest.raises(ValueError, match="state"):
        env.set_state(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        env.set_state(np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="elapsed"):
        env.set_state(before, elapsed=np.array([1, 2, -1, 0]))
    np.testing.assert_array_equal(env.get_state(), before)


def test_simd_target_is_chosen_and_a_missing_one_is_a_value_error(monkeypatch):
    targets = simkit.simd_targets()
    assert targets[0] == "scalar"
    for target in targets:
        monkeypatch.setenv("SIMKIT_SIMD", target)
        assert simkit.make_vec("CartPole-v1", num_envs=3, device="cpu").simd_target == target
    monkeypatch.setenv("SIMKIT_SIMD", "sse9")
    with pytest.raises(ValueError, match=r"SIMKIT_SIMD=sse9 is not a SIMD target; available: scalar"):
        simkit.make_vec("CartPole-v1", num_envs=3, device="cpu")

@pytest.mark.parametrize("threads", [4097, 100_000, 10**6, 10**12])
def test_threads_above_4096_raise(threads):
    with pytest.raises(ValueError, match="threads must be at most 4096"):
        simkit.make_vec("CartPole-v1", num_envs=2, device="cpu", threads=threads)
    with pytest.raises(ValueError, match="threads must be at most 4096"):
        simkit.throughput("CartPole-v1", num_envs=2, steps=1, device="cpu", threads=threads)
    with pytest.raises(ValueError, match="threads must be at most 4096"):
        simkit.qlearning.train(num_envs=2, rounds=1, threads=threads)


@pytest.mark.parametrize("env_id,params,match", [
    ("CartPole-v1", {"euler": 0.9}, "'euler'.*0 or 1"),
    ("CartPole-v1", {"sutton_barto_reward": np.nan}, "'sutton_barto_reward'"),
    ("CartPole-v1", {"reset_low": np.nan}, "'reset_low'.*finite"),
    ("CartPole-v1", {"reset_high": np.inf}, "'reset_high'.*finite"),
    ("CartPole-v1", {"reset_low": 0.2}, "reset_low=0.2 of CartPole-v1 is greater than reset_high=0.05"),
    ("Acrobot-v1", {"book": 2}, "'book'"),
    ("ChemicalReactor-v0", {"safety": 0.5}, "'safety'"),
    ("GeneCircuit-v0", {"target": 3}, "'target'"),
    ("Pendulum-v1", {"g": 10**400}, "'g'.*finite"),
])
def test_bad_env_params_raise(env_id, params, match):
    with pytest.raises(ValueError, match=match):
        simkit.make_vec(env_id, num_envs=2, device="cpu", **params)


def test_env_params_must_be_numbers():
    with pytest.raises(TypeError, match="'euler' must be a number"):
        simkit.make_vec("CartPole-v1", num_envs=2, device="cpu", euler="1")
    assert simkit.make_vec("CartPole-v1", num_envs=2, device="cpu", euler=True, sutton_barto_reward=np.int8(1))


@pytest.mark.parametrize("env_id,field,value,match", [
    ("TicTacToe-v0", "cell[4]", 300, r"cell\[4\] = 300 does not fit"),     # int8: would wrap to 44
    ("TicTacToe-v0", "cell[4]", 3, r"its observation\[4\] = 3 is outside"),    # fits int8, not a mark
    ("GeneCircuit-v0", "f", 1e10, "f = 10000000000 does not fit"),          # int32: would be INT_MIN
    ("GeneCircuit-v0", "f", -1, r"its observation\[0\].*outside"),             # a negative count
    ("GeneCircuit-v0", "step", 2.5, "step = 2.5 does not fit"),              # would truncate
    ("ChemicalReactor-v0", "violation", 2**31, "violation = 2147483648 does not fit"),
    ("CartPole-v1", "x", 1e300, "x = 1.0000000000000001e\\+300 does not fit"),  # beyond float32
])
def test_set_state_rejects_values_the_state_cannot_hold(env_id, field, value, match):
    env = simkit.make_vec(env_id, num_envs=3, device="cpu")
    env.reset(seed=0)
    before, elapsed = env.get_state(), env.get_elapsed()
    bad = before.copy()
    bad[1, env.state_fields.index(field)] = value
    with pytest.raises(ValueError, match="state row 1 of " + env_id + ": " + match):
        env.set_state(bad, elapsed=elapsed + 3)
    np.testing.assert_array_equal(env.get_state(), before)
    np.testing.assert_array_equal(env.get_elapsed(), elapsed)  # nothing changed, elapsed included


@pytest.mark.parametrize("elapsed", [[0, 2**32 + 5], [0, 2**31], [0, 1.5], [True, False]])
def test_set_state_rejects_elapsed_that_would_wrap_or_truncate(elapsed):
    env = fresh(n=2)
    before = env.get_elapsed()
    with pytest.raises(ValueError, match=r"elapsed must be integers in \[0, 2147483647\]"):
        env.set_state(env.get_state(), elapsed=np.array(elapsed))
    np.testing.assert_array_equal(env.get_elapsed(), before)


@pytest.mark.parametrize("kwargs,match", [
    ({"num_envs": 1.5}, "num_envs must be an int"),
    ({"num_envs": 2**32}, "num_envs must be at most 4294967295"),
    ({"num_envs": 2**70}, "num_envs must be at most"),
    ({"chunk": 2**40}, "chunk must be at most 1048576"),
    ({"chunk": 0}, "chunk must be at least 1"),
    ({"steps": -1}, "steps must be at least 0"),
    ({"steps": 2**64}, "steps must be at most"),
    ({"seconds": float("inf")}, "seconds must be a finite number > 0"),
    ({"seconds": 0}, "seconds must be a finite number > 0"),
    ({"seed": 2**64}, "seed must be at most"),
    ({"warmup": -1}, "warmup must be at least 0"),
    ({"repeat": 1001}, "repeat must be at most 1000"),
    ({"device": 0}, "device must be one of"),
    ({"precision": "f16"}, "precision must be one of"),
])
def test_throughput_arguments_are_checked_before_running(kwargs, match):
    args = {"env_id": "CartPole-v1", "num_envs": 2, "steps": 1, "device": "cpu", **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        simkit.throughput(**args)


@pytest.mark.parametrize("kwargs,match", [
    ({"num_envs": 2**63}, "num_envs must be at most"),
    ({"chunk": 2**31}, "chunk must be at most"),
    ({"free_bytes": -1}, "free_bytes must be at least 0"),
    ({"free_bytes": 2**64}, "free_bytes must be at most"),
    ({"mode": "replay"}, "mode must be one of"),
])
def test_memory_plan_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simkit.memory_plan("CartPole-v1", **{"device": "cpu", **kwargs})


@pytest.mark.parametrize("kwargs,match", [
    ({"gamma": np.nan}, "gamma must be a finite number >= 0 and <= 1"),
    ({"alpha": -1}, "alpha must be a finite number >= 0"),
    ({"epsilon": 2}, "epsilon must be a finite number >= 0 and <= 1"),
    ({"epsilon_min": -0.1}, "epsilon_min"),
    ({"alpha_decay": np.inf}, "alpha_decay"),
    ({"num_envs": 2**32}, "num_envs must be at most 4294967295"),
    ({"seed": 2**64}, "seed must be at most"),
    ({"rounds": 2**64}, "rounds must be at most"),
    ({"eval_games": 0}, "eval_games must be at least 1"),
])
def test_qlearning_train_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simkit.qlearning.train(**{"num_envs": 4, "rounds": 1, **kwargs})


def test_out_of_range_ints_name_the_limit_not_the_binding():
    cases = [
        lambda: simkit.make_vec("CartPole-v1", num_envs=2**63, device="cpu"),
        lambda: fresh().rollout(steps=2**64),
        lambda: fresh().rollout(steps=1, chunk=2**31),
        lambda: simkit.qlearning.train(num_envs=4, rounds=0).evaluate(games=2**32),  # 32-bit game index
        lambda: simkit.qlearning.train(num_envs=4, rounds=0).evaluate(seed=-1),
    ]
    for case in cases:
        with pytest.raises(ValueError) as e:
            case()
        assert "must be at" in str(e.value) and "incompatible" not in str(e.value)


def test_calls_after_close_say_the_env_is_closed():
    env = fresh()
    env.close()
    for call in (lambda: env.step(np.zeros(4, dtype=np.int64)), lambda: env.reset(seed=0), env.get_state,
                 lambda: env.set_state(np.zeros((4, 4))), env.get_elapsed, lambda: env.rollout(1), env.dlpack_outputs):
        with pytest.raises(RuntimeError, match=r"called on a closed CartPole-v1 env"):
            call()
    env.close()  # closing twice is fine, as in Gymnasium
