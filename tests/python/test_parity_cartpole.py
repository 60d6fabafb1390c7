"""CartPole-v1 parity with Gymnasium 1.4's CartPoleEnv (gymnasium.make("CartPole-v1").unwrapped).

Every state is put into its own simkit env with set_state and all of them are stepped in ONE
vectorized step; Gymnasium steps the same states one by one (env.unwrapped.state = float64 array).

float64 variant: next state (get_state), obs (float32), reward and terminated are bit-identical.
float32 variant: the engine rounds the state to float32 on set_state, so the reference is Gymnasium
stepped from that rounded state (get_state before the step). Tolerance per state component:
    |simkit - gymnasium| <= 1e-6 * max(|gymnasium next value|, |value before the step|, |increment|)
(the step computes next = before + increment; rounding errors scale with the larger operand, and a
result that cancels to ~0 would otherwise get a tolerance of ~0). With the semi-implicit integrator
the position increment is tau * (new velocity), so x's and theta's scale gains tau * (their velocity's
scale): the new velocity's own 1e-6-relative error enters the position multiplied by tau (this only
matters for the |velocity| ~ 1e3 states). The same bound is used for obs and
reward. Flags must be identical, except for states whose reference next x or theta lies within that
tolerance of the termination threshold (float32 cannot tell which side it is on): those are excluded
from the flag comparison and counted in the table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from parity_utils import (RTOL32, bits_equal, f32_scale, format_table, gym_unwrapped, record, rel_err,
                          simkit_step, ulp_distance)

# Every parity test runs once per SIMD target the machine has.
pytestmark = pytest.mark.usefixtures("each_simd_target")

X_THR = 2.4
THETA_THR = 12 * 2 * math.pi / 360

VARIANTS = {
    # name: (simkit env kwargs, gymnasium make kwargs, gymnasium kinematics_integrator)
    "default": ({}, {}, "euler"),
    "semi-implicit": ({"euler": 0}, {}, "semi-implicit"),
    "sutton_barto_reward": ({"sutton_barto_reward": 1}, {"sutton_barto_reward": True}, "euler"),
}


def make_states(seed=0):
    """~6000 states: typical, wide, huge velocities and the termination boundaries, with actions."""
    rng = np.random.default_rng(seed)
    parts = [
        np.column_stack([rng.uniform(-2.6, 2.6, 4000), rng.uniform(-3, 3, 4000), rng.uniform(-0.25, 0.25, 4000),
                         rng.uniform(-3.5, 3.5, 4000)]),
        np.column_stack([rng.uniform(-5, 5, 800), rng.uniform(-100, 100, 800), rng.uniform(-math.pi, math.pi, 800),
                         rng.uniform(-100, 100, 800)]),
        # large velocities (theta_dot**2 * sin(theta) dominates the force)
        np.column_stack([rng.uniform(-2.4, 2.4, 400), rng.choice([-1, 1], 400) * 10 ** rng.uniform(2, 4, 400),
                         rng.uniform(-0.2, 0.2, 400), rng.choice([-1, 1], 400) * 10 ** rng.uniform(2, 4, 400)]),
    ]
    # Boundaries: with zero velocity, explicit Euler leaves x (theta) exactly where it was, so these
    # test the strict inequalities at, just inside and just beyond the thresholds.
    edge = []
    for thr in (X_THR, THETA_THR):
        for sign in (-1.0, 1.0):
            t = sign * thr
            for v in (t, math.nextafter(t, sign * math.inf), math.nextafter(t, 0.0),
                      math.nextafter(math.nextafter(t, sign * math.inf), sign * math.inf)):
                for a in range(2):
                    s = [0.01, 0.0, 0.01, 0.0] if thr == X_THR else [0.1, 0.3, 0.0, 0.0]
                    if thr == X_THR:
                        s[0] = v
                    else:
                        s[2] = v
                    edge.append(s)
    # both at the boundary, and boundary positions with velocities pushing in and out
    for xs in (-X_THR, X_THR):
        for ts in (-THETA_THR, THETA_THR):
            edge += [[xs, 0.0, ts, 0.0]] * 2
            edge += [[xs, 1.5, ts, -1.5], [xs, -1.5, ts, 1.5]]
    parts.append(np.array(edge))
    states = np.concatenate(parts)
    actions = rng.integers(0, 2, len(states)).astype(np.int64)
    n_edge = len(edge)
    actions[-n_edge:] = np.arange(n_edge) % 2  # every boundary state with both actions
    return states, actions


STATES, ACTIONS = make_states()


def gym_reference(states, actions, make_kwargs, integrator):
    env = gym_unwrapped("CartPole-v1", **make_kwargs)
    env.kinematics_integrator = integrator
    n = len(states)
    nxt = np.empty((n, 4))
    obs = np.empty((n, 4), dtype=np.float32)
    rew = np.empty(n)
    term = np.empty(n, dtype=bool)
    for i in range(n):
        env.state = np.array(states[i], dtype=np.float64)
        env.steps_beyond_terminated = None
        o, r, t, tr, _ = env.step(int(actions[i]))
        assert tr is False
        nxt[i] = env.state
        obs[i] = o
        rew[i] = r
        term[i] = t
    return nxt, obs, rew, term


@pytest.fixture(scope="module", autouse=True)
def print_table():
    yield
    rows = [r for r in __import__("parity_utils").PARITY_ROWS if r["env"] == "CartPole-v1"]
    print("\n\nCartPole-v1 parity with Gymnasium 1.4\n" + format_table(rows))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_cartpole_float64_bit_identical(variant):
    sk_kwargs, gym_kwargs, integrator = VARIANTS[variant]
    start, nxt, obs, rew, term, trunc = simkit_step("CartPole-v1", "float64", STATES, ACTIONS, **sk_kwargs)
    assert bits_equal(start, STATES).all(), "float64 set_state/get_state must round-trip exactly"
    ref_next, ref_obs, ref_rew, ref_term = gym_reference(STATES, ACTIONS, gym_kwargs, integrator)

    ulp = ulp_distance(nxt, ref_next)
    record("CartPole-v1", "float64", variant, len(STATES), np.max(np.abs(nxt - ref_next)),
           np.max(rel_err(nxt, ref_next)), ulp.max(), bool(np.array_equal(term, ref_term)))
    bad = np.flatnonzero(~bits_equal(nxt, ref_next).all(axis=1))
    assert bad.size == 0, f"{bad.size} states differ, first: state {STATES[bad[0]]!r} action {ACTIONS[bad[0]]}: " \
                          f"simkit {nxt[bad[0]]!r} gymnasium {ref_next[bad[0]]!r}"
    assert obs.dtype == np.float32 and bits_equal(obs, ref_obs).all()
    assert rew.dtype == np.float64 and bits_equal(rew, ref_rew).all()
    assert np.array_equal(term, ref_term)
    assert not trunc.any()
    # The boundary states really exercise both sides of each threshold.
    assert ref_term.any() and not ref_term.all()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_cartpole_float32_within_1e6(variant):
    sk_kwargs, gym_kwargs, integrator = VARIANTS[variant]
    start, nxt, obs, rew, term, trunc = simkit_step("CartPole-v1", "float32", STATES, ACTIONS, **sk_kwargs)
    assert bits_equal(start, STATES.astype(np.float32).astype(np.float64)).all()
    ref_next, ref_obs, ref_rew, ref_term = gym_reference(start, ACTIONS, gym_kwargs, integrator)

    couple = ((0, 1, 0.02), (2, 3, 0.02)) if variant == "semi-implicit" else ()
    scale = f32_scale(start, ref_next, couple)
    err = np.abs(nxt - ref_next)
    ratio = err / np.where(scale > 0, scale, 1)
    worst = np.unravel_index(np.argmax(ratio), ratio.shape)
    assert (err <= RTOL32 * scale).all(), f"max err/scale {ratio[worst]:.3e} at state {start[worst[0]]!r} " \
        f"component {worst[1]}: simkit {nxt[worst[0]]!r} gymnasium {ref_next[worst[0]]!r}"
    obs_err = np.abs(obs.astype(np.float64) - ref_obs)
    # obs is the float32 rounding of the state: allow the state tolerance plus one float32 rounding
    assert (obs_err <= RTOL32 * scale + np.spacing(np.abs(ref_obs)).astype(np.float64)).all()

    # flags: exclude states whose reference x / theta is within the tolerance of a threshold
    near = np.zeros(len(STATES), dtype=bool)
    for col, thr in ((0, X_THR), (2, THETA_THR)):
        near |= np.abs(np.abs(ref_next[:, col]) - thr) <= RTOL32 * np.maximum(scale[:, col], thr)
    same_flags = term[~near] == ref_term[~near]
    assert same_flags.all()
    ref_rew_f = ref_rew[~near]
    assert np.allclose(rew[~near], ref_rew_f, rtol=RTOL32, atol=0)
    assert not trunc.any()
    record("CartPole-v1", "float32", variant, len(STATES), err.max(), np.max(rel_err(nxt, ref_next)), None,
           bool(same_flags.all()), excluded=near.sum(), max_scaled=ratio.max(),
           note="err/scale <= 1e-6, scale = max(|ref|,|before|,|ref-before|)")
