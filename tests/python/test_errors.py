"""Every bad input raises the documented error naming the argument, before any env state changes;
the env then steps correctly."""

from __future__ import annotations

import numpy as np
import pytest

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
