"""Step-API speed and latency: ``env.step(actions)`` from Python, simkit vs Gymnasium's numpy
CartPoleVectorEnv, measured in the same run on the same machine.

    python benchmarks/step_api.py                       # 1, 1k, 1M envs
    python benchmarks/step_api.py --num-envs 1000000 --seconds 5

Each (library, num_envs) point times single step calls with pre-drawn actions (drawing them is not
part of a step) and writes a row: per-step latency p50/p95/p99 in microseconds, env-steps/s, and the
speed-up of simkit over Gymnasium at that size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_io import RowWriter, default_path, metadata  # noqa: E402

COLUMNS = ["timestamp", "git_commit", "simkit_version", "host", "cpu_model", "cores", "gpu", "driver", "cuda_runtime",
           "library", "library_version", "device", "env", "num_envs", "steps", "seconds", "steps_per_s",
           "us_per_step_p50", "us_per_step_p95", "us_per_step_p99", "speedup_vs_gymnasium"]


def make_env(library: str, num_envs: int, device: str):
    if library == "simkit":
        import simkit

        return simkit.make_vec("CartPole-v1", num_envs=num_envs, device=device), simkit.__version__
    if library == "simkit-nocopy":
        import simkit

        return simkit.make_vec("CartPole-v1", num_envs=num_envs, device=device, copy=False), simkit.__version__
    import gymnasium

    env = gymnasium.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="vector_entry_point")
    return env, gymnasium.__version__


def measure(library: str, num_envs: int, seconds: float, device: str) -> dict:
    env, version = make_env(library, num_envs, device)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    pool = [rng.integers(0, 2, num_envs) for _ in range(16)]
    for a in pool[:3]:  # warm-up: first-touch of buffers, lazy imports
        env.step(a)
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 10:
        a = pool[len(times) % len(pool)]
        t0 = time.perf_counter()
        env.step(a)
        times.append(time.perf_counter() - t0)
    env.close()
    t = np.array(times)
    return {
        "library": library,
        "library_version": version,
        "device": getattr(env, "device", "cpu"),
        "env": "CartPole-v1",
        "num_envs": num_envs,
        "steps": len(t),
        "seconds": float(t.sum()),
        "steps_per_s": num_envs * len(t) / float(t.sum()),
        "us_per_step_p50": float(np.percentile(t, 50) * 1e6),
        "us_per_step_p95": float(np.percentile(t, 95) * 1e6),
        "us_per_step_p99": float(np.percentile(t, 99) * 1e6),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1, 1000, 1_000_000])
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per point (default 2)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--output", help="CSV to append to (default results/step_api_<device>_<time>.csv)")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.num_envs):
        parser.error("--num-envs values must be at least 1")
    if args.seconds <= 0:
        parser.error("--seconds must be positive")

    import simkit

    device = "cuda" if args.device == "cuda" or (args.device == "auto" and any(
        d["kind"] == "cuda" for d in simkit.devices())) else "cpu"
    writer = RowWriter(args.output or default_path("step_api", device), COLUMNS)
    meta = metadata()
    print(f"{'library':<14} {'num_envs':>9} {'steps/s':>11} {'p50 us':>10} {'p99 us':>10} {'speed-up':>9}")
    for n in args.num_envs:
        gym_rate = None
        for library in ("gymnasium", "simkit", "simkit-nocopy"):
            row = measure(library, n, args.seconds, device)
            if library == "gymnasium":
                gym_rate = row["steps_per_s"]
            row["speedup_vs_gymnasium"] = row["steps_per_s"] / gym_rate
            writer.write({**meta, **row})
            print(f"{library:<14} {n:>9} {row['steps_per_s']:>11.3e} {row['us_per_step_p50']:>10.1f} "
                  f"{row['us_per_step_p99']:>10.1f} {row['speedup_vs_gymnasium']:>8.1f}x", flush=True)
    print(f"results: {writer.path}")
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
