"""Shared helpers for the Gymnasium parity tests: one vectorized simkit step over many states, the
matching Gymnasium reference transitions, ulp distances, float32 tolerances and the parity table."""

from __future__ import annotations

import math

import gymnasium
import numpy as np

import simkit

# Rows of the parity table, filled by the parity tests and printed at the end of each module (pytest -s).
PARITY_ROWS: list[dict] = []

RTOL32 = 1e-6  # the float32 variants' tolerance (issue 5/6)


def simkit_step(env_id, precision, states, actions, elapsed=None, **env_kwargs):
    """Put ``len(states)`` simkit envs into ``states`` and step them once, all in ONE vectorized call.

    Returns ``(start, next_state, obs, reward, terminated, truncated)``; ``start`` is the state as the
    engine holds it (float32 variants round what set_state gives them)."""
    states = np.asarray(states, dtype=np.float64)
    n = len(states)
    env = simkit.make_vec(env_id, num_envs=n, precision=precision, device="cpu", **env_kwargs)
    env.reset(seed=0)
    env.set_state(states, elapsed=elapsed)
    start = env.get_state()
    obs, reward, terminated, truncated, _ = env.step(actions)
    next_state = env.get_state()
    env.close()
    return start, next_state, obs, reward, terminated, truncated


def ulp_distance(a, b) -> np.ndarray:
    """Number of representable float64 values between a and b (0 = bit-identical up to the sign of
    zero; inf where the signs differ and neither is zero). Exact integer arithmetic."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    mask = np.int64(0x7FFFFFFFFFFFFFFF)
    ka = a.view(np.int64) & mask  # magnitude bits: monotonic in |a|
    kb = b.view(np.int64) & mask
    same_sign = (np.signbit(a) == np.signbit(b)) | (ka == 0) | (kb == 0)
    d = np.where(np.signbit(a) == np.signbit(b), np.abs(ka - kb), ka + kb)  # no overflow for finite values
    return np.where(same_sign, d.astype(np.float64), np.inf)


def bits_equal(a, b) -> np.ndarray:
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b, dtype=a.dtype)
    width = {8: np.int64, 4: np.int32}[a.dtype.itemsize]
    return a.view(width) == b.view(width)


def f32_scale(start, ref, couple=()):
    """Per-component scale of the float32 tolerance: max(|reference next value|, |value before the
    step|, |reference increment|). A step computes next = before + increment, so float32 rounding
    errors are relative to the larger of those operands, not to a result that may cancel to ~0.

    ``couple``: (position column, velocity column, dt) for semi-implicit updates, where the position
    increment is dt * (new velocity): the position's scale gains dt * (the velocity's scale), because
    the velocity's own 1e-6-relative error enters the position multiplied by dt."""
    scale = np.maximum(np.maximum(np.abs(ref), np.abs(start)), np.abs(ref - start))
    for pos, vel, dt in couple:
        scale[:, pos] = scale[:, pos] + dt * scale[:, vel]
    return scale


def record(env_id, precision, variant, tried, max_abs, max_rel, max_ulp, flags_identical, excluded=0, note="",
           max_scaled=None):
    PARITY_ROWS.append(
        dict(env=env_id, precision=precision, variant=variant, tried=int(tried), max_abs=float(max_abs),
             max_rel=float(max_rel), max_ulp=max_ulp, max_scaled=max_scaled, flags=flags_identical, excluded=int(excluded), note=note)
    )


def format_table(rows=None) -> str:
    rows = PARITY_ROWS if rows is None else rows
    head = (f"{'env':<25} {'prec':<8} {'variant':<22} {'states':>7} {'max abs err':>12} {'max rel err':>12} "
            f"{'max ulp':>7} {'err/scale':>9} {'flags identical':<16} {'excl.':>5}  note")
    lines = [head, "-" * len(head)]
    for r in rows:
        ulp = "-" if r["max_ulp"] is None else f"{int(r['max_ulp'])}"
        sc = "-" if r["max_scaled"] is None else f"{r['max_scaled']:.2e}"
        lines.append(
            f"{r['env']:<25} {r['precision']:<8} {r['variant']:<22} {r['tried']:>7} {r['max_abs']:>12.3e} "
            f"{r['max_rel']:>12.3e} {ulp:>7} {sc:>9} {('yes' if r['flags'] else 'NO'):<16} {r['excluded']:>5}  {r['note']}"
        )
    return "\n".join(lines)


def rel_err(got, ref):
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(got - ref) / np.abs(ref)
    return np.where(got == ref, 0.0, r)


def nextafter_n(x, toward, n=1):
    for _ in range(n):
        x = math.nextafter(x, toward)
    return x


def gym_unwrapped(env_id, **kwargs):
    env = gymnasium.make(env_id, **kwargs).unwrapped
    env.reset(seed=0)
    return env
