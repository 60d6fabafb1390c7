"""Statistics of F in Myriad's ccasr-gfp-control under constant light and in darkness, the reference
that tests/python/test_gene_circuit_moments.py holds simkit's GeneCircuit-v0 to.

    .peers/myriad/venv/bin/python benchmarks/peers/gene_circuit_reference.py \\
        --num-envs 20000 --output tests/python/data/gene_circuit_myriad.json

Runs in the Myriad venv (benchmarks/peers/setup_venvs.py --peers myriad). Each protocol starts every
env at (H, F) = (h0, f0) at t = 0, holds the light at `action` (1 on, 0 off) and records the sample
mean, variance and fourth central moment of F after each checkpoint (in 5-minute env steps). The
protocols are written into the output so the test reads them from there and cannot drift.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import time

# light: from the empty reset state, F crosses K_F = 30 about 60 steps in; dark: F decays from 60
# through the self-activation band, where F's production depends most on K_F.
PROTOCOLS = {
    "light": {"action": 1, "h0": 0, "f0": 0, "checkpoints": [20, 40]},
    "dark": {"action": 0, "h0": 0, "f0": 60, "checkpoints": [12, 24, 60]},
}


def sample_moments(x) -> dict:
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    mean = float(x.mean())
    return {"mean": mean, "var": float(x.var(ddof=1)), "mu4": float(((x - mean) ** 4).mean())}


def run_protocol(protocol: dict, num_envs: int, seed: int) -> list[dict]:
    import jax
    import jax.numpy as jnp
    from myriad.envs import make_env

    env = make_env("ccasr-gfp-control")
    reset = jax.vmap(env.reset, in_axes=(0, None, None))
    step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None, None)), static_argnums=(4,))
    key, k_reset = jax.random.split(jax.random.PRNGKey(seed))
    _, state = reset(jax.random.split(k_reset, num_envs), env.params, env.config)
    physics = state.physics._replace(H=jnp.full(num_envs, float(protocol["h0"]), jnp.float32),
                                     F=jnp.full(num_envs, float(protocol["f0"]), jnp.float32))
    state = state._replace(physics=physics)
    actions = jnp.full(num_envs, protocol["action"], jnp.int32)
    out, taken = [], 0
    for checkpoint in protocol["checkpoints"]:
        for _ in range(checkpoint - taken):
            key, k_step = jax.random.split(key)
            _, state, _, done, _ = step(jax.random.split(k_step, num_envs), state, actions, env.params, env.config)
        taken = checkpoint
        assert not bool(done.any()), "an episode ended inside the protocol"
        out.append({"step": checkpoint, **sample_moments(state.physics.F)})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--num-envs", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", required=True)
    args = ap.parse_args(argv)
    if args.num_envs < 2:
        ap.error("--num-envs must be at least 2")
    start = time.time()
    results = {name: run_protocol(p, args.num_envs, args.seed) for name, p in PROTOCOLS.items()}
    doc = {
        "what": "Myriad ccasr-gfp-control: moments of F (molecules) after each checkpoint (5-minute steps)",
        "command": "python benchmarks/peers/gene_circuit_reference.py " + " ".join(sys.argv[1:]),
        "myriad_jax": importlib.metadata.version("myriad-jax"),
        "jax": importlib.metadata.version("jax"),
        "num_envs": args.num_envs,
        "seed": args.seed,
        "seconds": round(time.time() - start, 1),
        "protocols": PROTOCOLS,
        "results": results,
    }
    with open(args.output, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
