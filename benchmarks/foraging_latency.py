"""Foraging-v0 step latency through the step API: ``env.step(actions)`` from Python for worlds of
``--agents`` agents, per-step p50/p95/p99 in microseconds, and how much of a step building the
observations and other outputs takes.

    python benchmarks/foraging_latency.py                          # 1, 1k, 100k worlds of 30 agents
    python benchmarks/foraging_latency.py --num-envs 1 --agents 10 30 100

Each point times single step calls with pre-drawn actions (``copy=False``: the engine's buffers are
returned as they are, so the time is the engine's and the binding's). The output share compares the
same worlds' statistics-only rollout step (the random policy, no outputs) with the median step-API
call: 1 - rollout step / step call, the part of a step spent on observations (4 x 13 x 13 floats per
agent), the other outputs and the call itself.
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
           "library", "library_version", "device", "simd", "threads", "env", "num_envs", "num_agents", "steps",
           "seconds", "steps_per_s", "agent_steps_per_s", "us_per_step_p50", "us_per_step_p95", "us_per_step_p99",
           "us_per_rollout_step", "output_share"]


def measure(num_envs: int, agents: int, seconds: float, threads: int) -> dict:
    import simkit

    env = simkit.make_vec("Foraging-v0", num_envs=num_envs, num_agents=agents, device="cpu", copy=False,
                          threads=threads, seed=0)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    pool = [rng.integers(0, 6, env.num_envs, dtype=np.int32) for _ in range(8)]
    for a in pool[:3]:  # warm-up: first touch of the buffers
        env.step(a)
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 20:
        a = pool[len(times) % len(pool)]
        t0 = time.perf_counter()
        env.step(a)
        times.append(time.perf_counter() - t0)
    # The same worlds, statistics only: enough steps for a stable time per step.
    steps = max(8, int(2e6 / (num_envs * agents)))
    t0 = time.perf_counter()
    env.rollout(steps, chunk=min(steps, 32))
    rollout_step = (time.perf_counter() - t0) / steps
    simd = env.simd_target
    env.close()
    t = np.array(times)
    p50 = float(np.percentile(t, 50))
    return {
        "library": "simkit",
        "library_version": simkit.__version__,
        "device": "cpu",
        "simd": simd,
        "threads": threads,
        "env": "Foraging-v0",
        "num_envs": num_envs,
        "num_agents": agents,
        "steps": len(t),
        "seconds": float(t.sum()),
        "steps_per_s": num_envs * len(t) / float(t.sum()),
        "agent_steps_per_s": num_envs * agents * len(t) / float(t.sum()),
        "us_per_step_p50": p50 * 1e6,
        "us_per_step_p95": float(np.percentile(t, 95) * 1e6),
        "us_per_step_p99": float(np.percentile(t, 99) * 1e6),
        "us_per_rollout_step": rollout_step * 1e6,
        "output_share": max(0.0, 1 - rollout_step / p50),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1, 1000, 100_000], help="worlds per point")
    parser.add_argument("--agents", type=int, nargs="+", default=[30], help="agents per world")
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per point (default 2)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: every core)")
    parser.add_argument("--output", help="CSV to append to (default results/step_api_cpu_<time>.csv)")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.num_envs) or any(a < 1 for a in args.agents):
        parser.error("--num-envs and --agents values must be at least 1")
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    writer = RowWriter(args.output or default_path("step_api", "cpu"), COLUMNS)
    meta = metadata()
    print(f"{'worlds':>8} {'agents':>6} {'p50 us':>10} {'p95 us':>10} {'p99 us':>10} {'agent-steps/s':>14} {'outputs':>8}")
    for n in args.num_envs:
        for agents in args.agents:
            row = measure(n, agents, args.seconds, args.threads)
            writer.write({**meta, **row})
            print(f"{n:>8} {agents:>6} {row['us_per_step_p50']:>10.1f} {row['us_per_step_p95']:>10.1f} "
                  f"{row['us_per_step_p99']:>10.1f} {row['agent_steps_per_s']:>14.3e} {row['output_share']:>7.0%}",
                  flush=True)
    print(f"results: {writer.path}")
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
