"""Step-API speed and latency: ``env.step(actions)`` from Python, simkit vs Gymnasium's numpy
CartPoleVectorEnv, measured in the same run on the same machine.

    python benchmarks/step_api.py                       # 1, 1k, 1M envs
    python benchmarks/step_api.py --num-envs 1000000 --seconds 5
    python benchmarks/step_api.py --num-envs 1e4,6.6e4,1e6 --threads 1,2 --no-gymnasium

Each (library, num_envs) point times single step calls with pre-drawn actions (drawing them is not
part of a step) and writes a row: per-step latency p50/p95/p99 in microseconds, env-steps/s, and the
speed-up of simkit over Gymnasium at that size. `--threads` gives simkit's thread limits to measure
(0: all cores); the engine steps fewer than 32768 envs per thread on fewer threads, and the `threads`
column records the limit, the `simd` column the SIMD target that ran.
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
           "library", "library_version", "device", "threads", "simd", "env", "num_envs", "steps", "seconds", "steps_per_s",
           "us_per_step_p50", "us_per_step_p95", "us_per_step_p99", "speedup_vs_gymnasium"]


def env_counts(text: str) -> list[int]:
    """A comma-separated list of non-negative integers, each written as 1000, 1e3 or 1_000."""
    values = []
    for item in text.split(","):
        value = float(item.replace("_", ""))
        if not value.is_integer() or value < 0:
            raise argparse.ArgumentTypeError(f"{item!r} is not a non-negative integer")
        values.append(int(value))
    return values


def make_env(library: str, num_envs: int, device: str, threads: int):
    if library in ("simkit", "simkit-nocopy"):
        import simkit

        return simkit.make_vec("CartPole-v1", num_envs=num_envs, device=device, threads=threads,
                               copy=library == "simkit"), simkit.__version__
    import gymnasium

    env = gymnasium.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="vector_entry_point")
    return env, gymnasium.__version__


def measure(library: str, num_envs: int, seconds: float, device: str, threads: int = 0) -> dict:
    env, version = make_env(library, num_envs, device, threads)
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
    ran_on = {"device": getattr(env, "device", "cpu"), "simd": getattr(env, "simd_target", "")}
    env.close()
    t = np.array(times)
    return {
        "library": library,
        "library_version": version,
        **ran_on,
        "threads": threads if library != "gymnasium" else 1,
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
    parser.add_argument("--num-envs", type=env_counts, default=[1, 1000, 1_000_000],
                        help="comma-separated env counts (default 1,1e3,1e6)")
    parser.add_argument("--threads", type=env_counts, default=[0],
                        help="comma-separated simkit thread limits (default 0: all cores)")
    parser.add_argument("--no-gymnasium", action="store_true", help="measure simkit only (no speed-up column)")
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per point (default 2)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--output", help="CSV to append to (default results/step_api_<device>_<time>.csv)")
    args = parser.parse_args(argv)
    if min(args.num_envs) < 1:
        parser.error("--num-envs values must be at least 1")
    if args.seconds <= 0:
        parser.error("--seconds must be positive")

    import simkit

    device = "cuda" if args.device == "cuda" or (args.device == "auto" and any(
        d["kind"] == "cuda" for d in simkit.devices())) else "cpu"
    writer = RowWriter(args.output or default_path("step_api", device), COLUMNS)
    meta = metadata()
    print(f"{'library':<14} {'threads':>7} {'num_envs':>9} {'steps/s':>11} {'p50 us':>10} {'p99 us':>10} {'speed-up':>9}")
    for n in args.num_envs:
        points = [] if args.no_gymnasium else [("gymnasium", 1)]
        points += [(library, t) for t in args.threads for library in ("simkit", "simkit-nocopy")]
        gym_rate = None
        for library, threads in points:
            row = measure(library, n, args.seconds, device, threads)
            if library == "gymnasium":
                gym_rate = row["steps_per_s"]
            row["speedup_vs_gymnasium"] = row["steps_per_s"] / gym_rate if gym_rate else ""
            writer.write({**meta, **row})
            speedup = f"{row['speedup_vs_gymnasium']:>8.1f}x" if gym_rate else ""
            print(f"{library:<14} {threads:>7} {n:>9} {row['steps_per_s']:>11.3e} {row['us_per_step_p50']:>10.1f} "
                  f"{row['us_per_step_p99']:>10.1f} {speedup}", flush=True)
    print(f"results: {writer.path}")
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
