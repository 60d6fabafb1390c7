"""Exact distribution of GeneCircuit-v0's counts under a constant light input, from the chemical master
equation (CME), for tests that check the engine's stochastic simulation against it.

The reactions and rates are those of shared/specs/envs.md (Myriad's ccasr-gfp-control): 0 -> H at
rate U, H -> 0 at nu H, 0 -> F at 0.5 hill(H; 90, 3.6) + 0.5 hill(F; 30, 3.6), F -> 0 at nu F, with
nu = 0.01 per minute. On a grid H < h_max, F < f_max (births out of the grid are dropped, so the
grid must hold all but a negligible mass; `moments` reports the mass left at its edges) the CME is a
linear ODE dP/dt = A P, integrated here with classic RK4. Its moments are exact up to the grid and
the step size, both far below the sampling error of any simulation a test can afford.
"""

from __future__ import annotations

import numpy as np

NU = 0.01  # 1/min
EXPRESSION = 0.5  # 1/min, maximal rate of each F-producing reaction
K_H, K_F, HILL_N = 90.0, 30.0, 3.6
INTERVAL = 5.0  # min per env step


def hill(x: np.ndarray, k: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    positive = x > 0
    out[positive] = 1.0 / (1.0 + (k / x[positive]) ** HILL_N)
    return out


def evolve(p0: np.ndarray, light: int, checkpoints: list[int], k_f: float = K_F, dt: float = 0.25) -> list[np.ndarray]:
    """P(H, F) after each checkpoint (in env steps of 5 min) from P(H, F) = p0 at step 0."""
    h_max, f_max = p0.shape
    h = np.arange(h_max, dtype=np.float64)[:, None]
    f = np.arange(f_max, dtype=np.float64)[None, :]
    make_h = np.full((h_max, f_max), float(light))
    make_h[-1, :] = 0.0  # no births out of the grid
    lose_h = np.broadcast_to(NU * h, (h_max, f_max))
    make_f = EXPRESSION * (hill(h, K_H) + hill(f, k_f))
    make_f[:, -1] = 0.0
    lose_f = np.broadcast_to(NU * f, (h_max, f_max))
    leave = make_h + lose_h + make_f + lose_f

    def rate(p):
        d = -leave * p
        d[1:, :] += (make_h * p)[:-1, :]
        d[:-1, :] += (lose_h * p)[1:, :]
        d[:, 1:] += (make_f * p)[:, :-1]
        d[:, :-1] += (lose_f * p)[:, 1:]
        return d

    substeps = int(round(INTERVAL / dt))
    p, step, out = p0.astype(np.float64).copy(), 0, []
    for target in checkpoints:
        for _ in range((target - step) * substeps):
            k1 = rate(p)
            k2 = rate(p + 0.5 * dt * k1)
            k3 = rate(p + 0.5 * dt * k2)
            k4 = rate(p + dt * k3)
            p += dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        step = target
        out.append(p.copy())
    return out


def moments(p: np.ndarray) -> dict:
    """Mean, variance and fourth central moment of F, and the probability mass on the grid's edges."""
    pf = p.sum(axis=0)
    f = np.arange(len(pf), dtype=np.float64)
    mean = float(pf @ f)
    var = float(pf @ (f - mean) ** 2)
    mu4 = float(pf @ (f - mean) ** 4)
    edge = float(p[:, -1].sum() + (p[-1, :].sum() if p.shape[0] > 1 else 0.0))
    return {"mean": mean, "var": var, "mu4": mu4, "edge_mass": edge}


def point_mass(h_max: int, f_max: int, h0: int, f0: int) -> np.ndarray:
    p0 = np.zeros((h_max, f_max))
    p0[h0, f0] = 1.0
    return p0
