"""Pendulum-v1, MountainCar-v0, MountainCarContinuous-v0 and Acrobot-v1 parity with Gymnasium 1.4.

Same method as test_parity_cartpole.py: thousands of states (random plus the edges) set with
set_state into one simkit vector env and stepped in ONE vectorized step; Gymnasium's unwrapped env
steps the same states one by one.

float64: bit-identical where Gymnasium uses Python's math (MountainCar, MountainCarContinuous);
at most 1 ulp per state component where it calls np.sin / np.cos (Pendulum, Acrobot). Obs, reward and
terminated are compared too (obs within one float32 ulp where it is a sin/cos of a 1-ulp-different angle).
float32: |simkit - gymnasium| <= 1e-6 * scale per component, scale = max(|ref next|, |before|,
|ref next - before|) (+ dt * the velocity's scale for positions updated with the new velocity, see
parity_utils.f32_scale); angles are compared modulo 2 pi (Acrobot wraps); flags identical except
states within that tolerance of a termination threshold (excluded and counted).
The reference for float32 is Gymnasium stepped from the float32-rounded state the engine holds.
"""

from __future__ import annotations

import math

import gymnasium
import numpy as np
import pytest

import simkit
from parity_utils import (PARITY_ROWS, RTOL32, bits_equal, f32_scale, format_table, gym_unwrapped, record, rel_err,
                          simkit_step, ulp_distance)

# Every parity test runs once per SIMD target the machine has.
pytestmark = pytest.mark.usefixtures("each_simd_target")

PI = math.pi
F32 = np.float32


def _f32_representable(v):
    return float(np.float32(v)) == float(v)


# ---- per-env definitions ---------------------------------------------------------------------------


class Pendulum:
    env_id = "Pendulum-v1"
    floor = (0.0, 0.0)
    exact = False  # np.sin: up to 1 ulp allowed
    couple = ((0, 1, 0.05),)
    angles = ()
    obs_trig = {0: 0, 1: 0}  # obs column -> state column it is a cos/sin of
    obs_id = {2: 1}

    @staticmethod
    def states(rng):
        n = 5000
        s = np.column_stack([rng.uniform(-12, 12, n), rng.uniform(-8, 8, n)])
        edge = []
        for th in (PI, -PI, math.nextafter(PI, 4), math.nextafter(-PI, -4), 3 * PI, -3 * PI, 0.0, 2 * PI):
            for thdot in (8.0, -8.0, 7.99, -7.99, 0.0):
                edge.append([th, thdot])
        s = np.concatenate([s, np.array(edge), np.array(edge)])
        a = rng.uniform(-2, 2, len(s)).astype(F32)
        a[-2 * len(edge):-len(edge)] = 2.0  # torque at the bounds
        a[-len(edge):] = -2.0
        a[:50] = 0.0
        return s, a.reshape(-1, 1)

    @staticmethod
    def gym_step(env, s, a):
        env.state = np.array(s, dtype=np.float64)
        obs, r, term, trunc, _ = env.step(np.array(a, dtype=F32).reshape(1))
        return np.asarray(env.state, dtype=np.float64), obs, r, term

    @staticmethod
    def near_threshold(ref, scale):
        return np.zeros(len(ref), dtype=bool)


class MountainCar:
    env_id = "MountainCar-v0"
    floor = (0.0, 0.0035)  # |velocity increment| <= force 0.001 + gravity 0.0025
    exact = True
    couple = ((0, 1, 1.0),)
    angles = ()
    obs_trig = {}
    obs_id = {0: 0, 1: 1}

    @staticmethod
    def states(rng):
        n = 5000
        s = np.column_stack([rng.uniform(-1.2, 0.6, n), rng.uniform(-0.07, 0.07, n)])
        near_goal = np.column_stack([rng.uniform(0.45, 0.52, 500), rng.uniform(-0.005, 0.005, 500)])
        edge = []
        for p in (-1.2, math.nextafter(-1.2, 0), 0.5, math.nextafter(0.5, 0), 0.6, -0.5):
            for v in (0.07, -0.07, 0.0, 0.01, -0.01):
                edge.append([p, v])
        edge = np.array(edge)
        s = np.concatenate([s, near_goal, edge, edge, edge])
        a = rng.integers(0, 3, len(s)).astype(np.int64)
        a[-3 * len(edge):] = np.repeat([0, 1, 2], len(edge))
        return s, a

    @staticmethod
    def gym_step(env, s, a):
        env.state = np.array(s, dtype=np.float64)
        obs, r, term, trunc, _ = env.step(int(a))
        return np.asarray(env.state, dtype=np.float64), obs, r, term

    @staticmethod
    def near_threshold(ref, scale):
        return (np.abs(ref[:, 0] - 0.5) <= RTOL32 * np.maximum(scale[:, 0], 0.5)) | \
               (np.abs(ref[:, 1]) <= RTOL32 * scale[:, 1])


class MountainCarContinuous:
    env_id = "MountainCarContinuous-v0"
    floor = (0.0, 0.004)  # |velocity increment| <= power 0.0015 + gravity 0.0025
    exact = True
    couple = ((0, 1, 1.0),)
    angles = ()
    obs_trig = {}
    obs_id = {0: 0, 1: 1}

    @staticmethod
    def states(rng):
        n = 3000
        s64 = np.column_stack([rng.uniform(-1.2, 0.6, n), rng.uniform(-0.07, 0.07, n)])
        # after its first step Gymnasium stores float32: half the states are float32 values
        s32 = s64.astype(F32).astype(np.float64)
        near_goal = np.column_stack([rng.uniform(0.40, 0.47, 500), rng.uniform(-0.005, 0.005, 500)])
        edge = []
        for p in (-1.2, float(F32(-1.2)), 0.45, float(F32(0.45)), 0.6, float(F32(0.6)), -0.5):
            for v in (0.07, float(F32(0.07)), -0.07, float(F32(-0.07)), 0.0):
                edge.append([p, v])
        edge = np.array(edge)
        s = np.concatenate([s64, s32, near_goal, edge, edge, edge])
        a = rng.uniform(-1, 1, len(s)).astype(F32)
        a[-3 * len(edge):] = np.repeat(np.array([-1.0, 0.0, 1.0], dtype=F32), len(edge))  # force at the bounds
        return s, a.reshape(-1, 1)

    @staticmethod
    def gym_step(env, s, a):
        both32 = _f32_representable(s[0]) and _f32_representable(s[1])
        env.state = np.array(s, dtype=F32 if both32 else np.float64)
        obs, r, term, trunc, _ = env.step(np.array(a, dtype=F32).reshape(1))
        return np.asarray(env.state, dtype=np.float64), obs, r, term

    @staticmethod
    def near_threshold(ref, scale):
        return (np.abs(ref[:, 0] - 0.45) <= RTOL32 * np.maximum(scale[:, 0], 0.45)) | \
               (np.abs(ref[:, 1]) <= RTOL32 * scale[:, 1])


class Acrobot:
    env_id = "Acrobot-v1"
    # float32 cannot represent pi/2: cos(theta - pi/2) at rest is ~4e-8, not ~6e-17, so near-zero
    # components get an absolute floor of 1e-6 * (1 rad, 1 rad, 1 rad/s, 1 rad/s)
    floor = (1.0, 1.0, 1.0, 1.0)
    exact = False  # np.sin / np.cos: up to 1 ulp allowed
    couple = ((0, 2, 0.2), (1, 3, 0.2))
    angles = (0, 1)
    obs_trig = {0: 0, 1: 0, 2: 1, 3: 1}
    obs_id = {4: 2, 5: 3}

    @staticmethod
    def states(rng):
        n = 3000
        s = np.column_stack([rng.uniform(-PI, PI, n), rng.uniform(-PI, PI, n), rng.uniform(-4 * PI, 4 * PI, n),
                             rng.uniform(-9 * PI, 9 * PI, n)])
        small = rng.uniform(-0.1, 0.1, (500, 4)).astype(F32).astype(np.float64)  # like Gymnasium's resets
        edge = []
        for t1 in (PI, -PI, 0.0, PI / 2):
            for t2 in (PI, -PI, 0.0):
                for d1, d2 in ((4 * PI, 9 * PI), (-4 * PI, -9 * PI), (0.0, 0.0), (40.0, -90.0)):
                    edge.append([t1, t2, d1, d2])
        edge = np.array(edge)
        s = np.concatenate([s, small, edge, edge, edge])
        a = rng.integers(0, 3, len(s)).astype(np.int64)
        a[-3 * len(edge):] = np.repeat([0, 1, 2], len(edge))
        return s, a

    @staticmethod
    def gym_step(env, s, a):
        env.state = np.array(s, dtype=np.float64)
        obs, r, term, trunc, _ = env.step(int(a))
        return np.asarray(env.state, dtype=np.float64), obs, r, term

    @staticmethod
    def near_threshold(ref, scale):
        height = -np.cos(ref[:, 0]) - np.cos(ref[:, 0] + ref[:, 1])
        return np.abs(height - 1.0) <= RTOL32 * 2 * (scale[:, 0] + scale[:, 1] + 1.0)


ENVS = {c.env_id: c for c in (Pendulum, MountainCar, MountainCarContinuous, Acrobot)}
# (env id, variant name, simkit kwargs, attributes set on Gymnasium's unwrapped env)
CASES = [
    ("Pendulum-v1", "default", {}, {}),
    ("MountainCar-v0", "default", {}, {}),
    ("MountainCarContinuous-v0", "default", {}, {}),
    ("Acrobot-v1", "book", {}, {}),
    ("Acrobot-v1", "nips (book=0)", {"book": 0}, {"book_or_nips": "nips"}),
]
_DATA = {}


def data(env_id):
    if env_id not in _DATA:
        _DATA[env_id] = ENVS[env_id].states(np.random.default_rng(abs(hash(env_id)) % 2**32 if False else 1234))
    return _DATA[env_id]


def gym_reference(env_id, states, actions, attrs):
    spec = ENVS[env_id]
    env = gym_unwrapped(env_id)
    for k, v in attrs.items():
        setattr(env, k, v)
    n = len(states)
    nxt = np.empty_like(states, dtype=np.float64)
    obs = np.empty((n, env.observation_space.shape[0]), dtype=F32)
    rew = np.empty(n)
    term = np.empty(n, dtype=bool)
    for i in range(n):
        nxt[i], obs[i], rew[i], term[i] = spec.gym_step(env, states[i], actions[i])
    return nxt, obs, rew, term


@pytest.fixture(scope="module", autouse=True)
def print_table():
    yield
    rows = [r for r in PARITY_ROWS if r["env"] != "CartPole-v1"]
    print("\n\nClassic-control parity with Gymnasium 1.4 (one step from each state)\n" + format_table(rows))


def angle_diff(a, b):
    d = np.abs(a - b)
    return np.minimum(d, np.abs(d - 2 * PI))


@pytest.mark.parametrize("env_id,variant,sk_kwargs,attrs", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_float64_parity(env_id, variant, sk_kwargs, attrs):
    spec = ENVS[env_id]
    states, actions = data(env_id)
    start, nxt, obs, rew, term, trunc = simkit_step(env_id, "float64", states, actions, **sk_kwargs)
    assert bits_equal(start, states).all()
    ref_next, ref_obs, ref_rew, ref_term = gym_reference(env_id, states, actions, attrs)

    ulp = ulp_distance(nxt, ref_next)
    flags_same = bool(np.array_equal(term, ref_term))
    note = "bit-identical required" if spec.exact else "<= 1 ulp allowed (np.sin/cos)"
    record(env_id, "float64", variant, len(states), np.max(np.abs(nxt - ref_next)), np.max(rel_err(nxt, ref_next)),
           ulp.max(), flags_same, note=note)
    limit = 0 if spec.exact else 1
    worst = int(np.argmax(ulp.max(axis=1)))
    assert ulp.max() <= limit, f"{ulp.max()} ulp at state {states[worst]!r} action {actions[worst]!r}: " \
                               f"simkit {nxt[worst]!r} gymnasium {ref_next[worst]!r}"
    assert obs.dtype == np.float32
    if spec.exact:
        assert bits_equal(obs, ref_obs).all()
        assert bits_equal(rew, ref_rew).all()
    else:
        obs_ulp = np.abs(obs.view(np.int32).astype(np.int64) - ref_obs.view(np.int32).astype(np.int64))
        assert obs_ulp.max() <= 1
        rew_ulp = ulp_distance(rew, ref_rew)
        assert rew_ulp.max() <= 2  # np.sin/np.cos may be 1 ulp off libm's on other machines
    assert flags_same
    assert not trunc.any()
    if env_id != "Pendulum-v1":
        assert ref_term.any() and not ref_term.all(), "the edge states should reach both flag values"


@pytest.mark.parametrize("env_id,variant,sk_kwargs,attrs", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_float32_parity(env_id, variant, sk_kwargs, attrs):
    spec = ENVS[env_id]
    states, actions = data(env_id)
    start, nxt, obs, rew, term, trunc = simkit_step(env_id, "float32", states, actions, **sk_kwargs)
    assert bits_equal(start, states.astype(F32).astype(np.float64)).all()
    ref_next, ref_obs, ref_rew, ref_term = gym_reference(env_id, start, actions, attrs)

    scale = np.maximum(f32_scale(start, ref_next, spec.couple), np.array(spec.floor))
    err = np.abs(nxt - ref_next)
    for col in spec.angles:  # wrapped angles: compare modulo 2 pi
        err[:, col] = angle_diff(nxt[:, col], ref_next[:, col])
    ratio = err / np.where(scale > 0, scale, 1)
    fast = np.zeros(len(states), dtype=bool)
    if env_id == "Acrobot-v1":
        # Large link velocities make RK4's dtheta^2 terms cancel (~800 vs results ~1): float32 there is
        # ill-conditioned. 1e-6 is asserted for |theta1_dot| <= 2 pi and |theta2_dot| <= 4 pi; faster
        # states only within 1e-3 (counted in the table note).
        fast = (np.abs(start[:, 2]) > 2 * PI) | (np.abs(start[:, 3]) > 4 * PI)
        assert (ratio[fast] <= 1e-3).all()
        fast_max = ratio[fast].max()
        ratio = np.where(fast[:, None], 0.0, ratio)
        err = np.where(fast[:, None], 0.0, err)
    w = np.unravel_index(np.argmax(ratio), ratio.shape)
    assert (err <= RTOL32 * scale).all(), f"err/scale {ratio[w]:.3e} at state {start[w[0]]!r} action " \
        f"{actions[w[0]]!r} component {w[1]}: simkit {nxt[w[0]]!r} gymnasium {ref_next[w[0]]!r}"

    obs_err = np.abs(obs.astype(np.float64) - ref_obs.astype(np.float64))[~fast]
    scale = scale[~fast]
    ref_obs = ref_obs[~fast]
    one_rounding = np.spacing(np.abs(ref_obs)).astype(np.float64)
    for o, s in spec.obs_trig.items():
        assert (obs_err[:, o] <= RTOL32 * scale[:, s] + 2 * one_rounding[:, o] + 1e-7).all(), f"obs[{o}]"
    for o, s in spec.obs_id.items():
        assert (obs_err[:, o] <= RTOL32 * scale[:, s] + one_rounding[:, o]).all(), f"obs[{o}]"

    near = spec.near_threshold(ref_next, np.maximum(f32_scale(start, ref_next, spec.couple), np.array(spec.floor)))
    near |= fast
    same = term[~near] == ref_term[~near]
    assert same.all(), f"{(~same).sum()} flags differ away from thresholds"
    rew_scale = np.abs(ref_rew)
    if env_id == "Pendulum-v1":
        # cost = normalize(theta)^2 + ...: normalizing a float32 angle loses eps * |theta| absolute, so
        # the reward's scale is max(|reward|, 2 pi |theta|)
        rew_scale = np.maximum(rew_scale, 2 * PI * np.abs(start[:, 0]))
    assert (np.abs(rew[~near] - ref_rew[~near]) <= RTOL32 * rew_scale[~near] + 1e-12).all()
    record(env_id, "float32", variant, len(states), err.max(), np.max(rel_err(nxt, ref_next)), None,
           bool(same.all()), excluded=near.sum(), max_scaled=ratio.max(),
           note="err/scale <= 1e-6" + (", angles mod 2pi" if spec.angles else "") +
           (f", abs floor {spec.floor}" if any(spec.floor) else "") +
           (f"; {fast.sum()} fast states excl. (err/scale {fast_max:.1e})" if fast.any() else ""))


def test_pendulum_reward_bit_identical():
    """Gymnasium squares with libm pow/powf (NumPy scalar **), which is not always the correctly
    rounded x*x; the float64 variant does the same (math::py_square), so rewards match bit for bit."""
    states, actions = data("Pendulum-v1")
    *_, rew, _, _ = simkit_step("Pendulum-v1", "float64", states, actions)
    _, _, ref_rew, _ = gym_reference("Pendulum-v1", states, actions, {})
    differs = ~bits_equal(rew, ref_rew)
    print(f"\nPendulum-v1 float64 reward: {differs.sum()} of {len(states)} differ from Gymnasium "
          f"(max {np.max(np.abs(rew - ref_rew)):.3e})")
    assert not differs.any()


def test_acrobot_float64_within_1_ulp():
    states, actions = data("Acrobot-v1")
    _, nxt, *_ = simkit_step("Acrobot-v1", "float64", states, actions)
    ref_next, *_ = gym_reference("Acrobot-v1", states, actions, {})
    assert ulp_distance(nxt, ref_next).max() <= 1


EPISODE_ENVS = ["CartPole-v1", "Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Acrobot-v1"]


@pytest.mark.parametrize("env_id", EPISODE_ENVS)
def test_whole_episode_float64(env_id):
    """One episode (to termination or the time limit) under a fixed action sequence, from the same
    initial state (simkit's reset state copied into Gymnasium's make() env, TimeLimit included).
    Bit-identical obs/reward/flags/state at every step."""
    env = simkit.make_vec(env_id, num_envs=1, device="cpu", precision="float64")
    env.reset(seed=7)
    ref = gymnasium.make(env_id)
    ref.reset(seed=7)
    s0 = env.get_state()[0]
    if env_id == "MountainCarContinuous-v0":
        ref.unwrapped.state = np.array(s0, dtype=F32 if all(_f32_representable(v) for v in s0) else np.float64)
    else:
        ref.unwrapped.state = np.array(s0, dtype=np.float64)
    rng = np.random.default_rng(11)
    limit = ref.spec.max_episode_steps
    for t in range(limit + 1):
        if env.single_action_space.shape == (1,):
            a = rng.uniform(-1, 1, 1).astype(F32) * np.float32(env.single_action_space.high[0])
            sk_a, g_a = a.reshape(1, 1), a
        else:
            a = int(rng.integers(0, env.single_action_space.n))
            sk_a, g_a = np.array([a]), a
        obs, r, term, trunc, _ = env.step(sk_a)
        robs, rr, rterm, rtrunc, _ = ref.step(g_a)
        st, rst = env.get_state()[0], np.asarray(ref.unwrapped.state, dtype=np.float64)
        ulp = ulp_distance(st, rst).max()
        assert ulp == 0, f"step {t}: state {st!r} vs {rst!r}"
        assert bits_equal(obs[0], robs).all(), f"step {t}"
        assert float(r[0]) == float(rr), f"step {t}"
        assert bool(term[0]) == rterm and bool(trunc[0]) == rtrunc, f"step {t}"
        if rterm or rtrunc:
            assert t + 1 <= limit
            return
    pytest.fail("episode did not end")
