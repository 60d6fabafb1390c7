"""What ChemicalReactor-v0's safety layer costs: the same trajectories stepped with the layer on and off.

    python benchmarks/safety_overhead.py [--num-envs 65536] [--steps 20] [--repeat 5]

A constant coolant temperature of 300 K keeps every reactor inside the safe box, so with the layer on
and off the envs follow identical trajectories and the only difference is the layer's work (the
pressure model and the box check on every step). Repeats alternate on/off; the medians are compared.
One CSV row per setting, written as it finishes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_io import RowWriter, default_path, metadata  # noqa: E402

COLUMNS = ["timestamp", "git_commit", "simkit_version", "host", "cpu_model", "cores", "env", "precision", "safety",
           "num_envs", "steps", "repeat", "seconds_median", "steps_per_s", "overhead_vs_off", "violations"]
TC_300K = (300.0 - 290.0) / 30.0 * 2.0 - 1.0  # the action that maps to Tc = 300 K


def run_once(env, steps: int) -> tuple[float, int]:
    env.reset(seed=0)
    actions = np.full((env.num_envs, 1), TC_300K, dtype=np.float32)
    violations = 0
    t0 = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, _, _ = env.step(actions)
        violations += int(terminated.sum())
    return time.perf_counter() - t0, violations


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=int, default=65536)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--precision", default="float32", choices=["float32", "float64"])
    parser.add_argument("--output")
    args = parser.parse_args(argv)
    if min(args.num_envs, args.steps, args.repeat) < 1:
        parser.error("--num-envs, --steps and --repeat must be at least 1")
    import simkit

    envs = {on: simkit.make_vec("ChemicalReactor-v0", num_envs=args.num_envs, device="cpu", copy=False,
                                precision=args.precision, safety=on) for on in (1, 0)}
    times = {1: [], 0: []}
    violations = {1: 0, 0: 0}
    for _ in range(args.repeat):
        for on in (1, 0):
            seconds, v = run_once(envs[on], args.steps)
            times[on].append(seconds)
            violations[on] += v
    writer = RowWriter(args.output or default_path("safety_overhead", "cpu"), COLUMNS)
    meta = metadata()
    off = float(np.median(times[0]))
    for on in (0, 1):
        median = float(np.median(times[on]))
        row = {**meta, "env": "ChemicalReactor-v0", "precision": args.precision, "safety": on,
               "num_envs": args.num_envs, "steps": args.steps, "repeat": args.repeat, "seconds_median": median,
               "steps_per_s": args.num_envs * args.steps / median, "overhead_vs_off": median / off - 1,
               "violations": violations[on]}
        writer.write(row)
        print(f"safety={on}: {row['steps_per_s']:.3e} steps/s, overhead {row['overhead_vs_off']:+.1%}, "
              f"violations {violations[on]}", flush=True)
    print(f"results: {writer.path}")
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
