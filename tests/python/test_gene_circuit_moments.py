"""GeneCircuit-v0's stochastic simulation, held to the distribution of F it must produce: the exact
moments of the chemical master equation (gene_circuit_cme.py) and Myriad's ccasr-gfp-control measured
with Myriad (data/gene_circuit_myriad.json, made by benchmarks/peers/gene_circuit_reference.py).

The F band a single trajectory can land in is wide, so a 10% error in a propensity (K_F = 33 instead
of 30) passed every earlier test; the mean and variance over 20,000 envs are far tighter. In darkness
from F = 60, K_F = 33 moves the mean F after 60 steps from 37.3 to 30.0 (about 60 standard errors);
under light from the empty state it moves F's variance after 40 steps from 33.6 to 29.1. Runs on the
Python API only, with no Myriad or JAX needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import simkit
from gene_circuit_cme import evolve, moments, point_mass

DATA = Path(__file__).resolve().parent / "data" / "gene_circuit_myriad.json"
REFERENCE = json.loads(DATA.read_text())
PROTOCOLS = REFERENCE["protocols"]
NUM_ENVS = 20_000
SEED = 7
Z_LIMIT = 4.5  # standard errors; 15 checks, so a correct engine fails one with probability ~1e-4
# CME grids (H, F) that hold all but <1e-6 of the mass over each protocol (checked below).
GRIDS = {"light": (140, 64), "dark": (1, 200)}


@pytest.fixture(scope="module")
def simkit_moments() -> dict:
    """Sample moments of F at each checkpoint of each protocol, from simkit's env.step."""
    out = {}
    for name, p in PROTOCOLS.items():
        env = simkit.make_vec("GeneCircuit-v0", NUM_ENVS, device="cpu", seed=SEED)
        env.reset(seed=SEED)
        fields = env.state_fields
        state = env.get_state()
        state[:, fields.index("h")] = p["h0"]
        state[:, fields.index("f")] = p["f0"]
        env.set_state(state)
        actions = np.full(NUM_ENVS, p["action"], dtype=np.int32)
        taken, rows = 0, []
        for checkpoint in p["checkpoints"]:
            for _ in range(checkpoint - taken):
                _, _, terminated, truncated, _ = env.step(actions)
            taken = checkpoint
            assert not (terminated.any() or truncated.any())
            f = env.get_state()[:, fields.index("f")]
            rows.append({"mean": f.mean(), "var": f.var(ddof=1), "mu4": ((f - f.mean()) ** 4).mean()})
        env.close()
        out[name] = rows
    return out


@pytest.fixture(scope="module")
def exact_moments() -> dict:
    out = {}
    for name, p in PROTOCOLS.items():
        p0 = point_mass(*GRIDS[name], p["h0"], p["f0"])
        out[name] = [moments(dist) for dist in evolve(p0, p["action"], p["checkpoints"])]
    return out


def z_scores(sample: dict, n: int, exact: dict) -> tuple[float, float]:
    """(z of the sample mean, z of the sample variance) against exact moments."""
    z_mean = (sample["mean"] - exact["mean"]) / np.sqrt(exact["var"] / n)
    z_var = (sample["var"] - exact["var"]) / np.sqrt((exact["mu4"] - exact["var"] ** 2) / n)
    return float(z_mean), float(z_var)


def two_sample_z(a: dict, n_a: int, b: dict, n_b: int) -> tuple[float, float]:
    z_mean = (a["mean"] - b["mean"]) / np.sqrt(a["var"] / n_a + b["var"] / n_b)
    z_var = (a["var"] - b["var"]) / np.sqrt((a["mu4"] - a["var"] ** 2) / n_a + (b["mu4"] - b["var"] ** 2) / n_b)
    return float(z_mean), float(z_var)


def test_cme_grid_holds_the_mass(exact_moments):
    for name, rows in exact_moments.items():
        for p in rows:
            assert p["edge_mass"] < 1e-6, name


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_f_moments_match_the_master_equation(simkit_moments, exact_moments, protocol):
    steps = PROTOCOLS[protocol]["checkpoints"]
    for step, sample, exact in zip(steps, simkit_moments[protocol], exact_moments[protocol]):
        z_mean, z_var = z_scores(sample, NUM_ENVS, exact)
        where = f"{protocol}, step {step}: simkit mean {sample['mean']:.3f} var {sample['var']:.2f}, " \
                f"exact mean {exact['mean']:.3f} var {exact['var']:.2f}"
        assert abs(z_mean) < Z_LIMIT, f"{where}: mean off by {z_mean:.1f} standard errors"
        assert abs(z_var) < Z_LIMIT, f"{where}: variance off by {z_var:.1f} standard errors"


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_f_moments_match_myriad(simkit_moments, protocol):
    n_myriad = REFERENCE["num_envs"]
    for sample, ref in zip(simkit_moments[protocol], REFERENCE["results"][protocol]):
        z_mean, z_var = two_sample_z(sample, NUM_ENVS, ref, n_myriad)
        where = f"{protocol}, step {ref['step']}: simkit mean {sample['mean']:.3f} var {sample['var']:.2f}, " \
                f"Myriad mean {ref['mean']:.3f} var {ref['var']:.2f}"
        assert abs(z_mean) < Z_LIMIT, f"{where}: means differ by {z_mean:.1f} standard errors"
        assert abs(z_var) < Z_LIMIT, f"{where}: variances differ by {z_var:.1f} standard errors"


def test_myriad_reference_matches_the_master_equation(exact_moments):
    """The two references agree, so a failure above points at simkit, not at the reference."""
    n = REFERENCE["num_envs"]
    for protocol, rows in REFERENCE["results"].items():
        for ref, exact in zip(rows, exact_moments[protocol]):
            z_mean, z_var = z_scores(ref, n, exact)
            assert abs(z_mean) < Z_LIMIT and abs(z_var) < Z_LIMIT, (protocol, ref["step"], z_mean, z_var)
