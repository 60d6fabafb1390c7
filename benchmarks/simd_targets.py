"""Steps/s of every env x precision x SIMD target this CPU supports, through the throughput CLI.

    python benchmarks/simd_targets.py                      # 1M envs, chunk 32, all cores
    python benchmarks/simd_targets.py --env CartPole-v1 --threads 1

Each point is one `throughput` run with SIMKIT_SIMD forcing the target; the points are interleaved
(per env and precision, every target in turn) so a change in machine load spreads over all targets.
Rows go to one CSV (the CLI's columns, `simd` naming the target) as each point finishes; a table of
steps/s per env x precision x target prints at the end.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_io import default_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", nargs="+", help="env ids (default: every registered env)")
    parser.add_argument("--precision", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    parser.add_argument("--num-envs", default="1000000")
    parser.add_argument("--chunk", default="32")
    parser.add_argument("--threads", default="0", help="CPU threads, 0 = all cores")
    parser.add_argument("--seconds", default="2", help="seconds per repeat")
    parser.add_argument("--throughput", default=str(ROOT / "build/host/throughput"), help="the CLI to run")
    parser.add_argument("--output")
    args = parser.parse_args(argv)
    import simkit

    envs = args.env or simkit.list_envs()
    targets = simkit.simd_targets()
    output = Path(args.output or default_path("simd_targets", "cpu"))
    for env in envs:
        for precision in args.precision:
            for target in targets:
                print(f"{env} {precision} {target}", flush=True)
                cmd = [args.throughput, "--device", "cpu", "--env", env, "--precision", precision,
                       "--num-envs", args.num_envs, "--chunk", args.chunk, "--threads", args.threads,
                       "--seconds", args.seconds, "--output", str(output)]
                result = subprocess.run(cmd, env={**os.environ, "SIMKIT_SIMD": target}, capture_output=True, text=True)
                if result.returncode != 0:
                    print(result.stderr, file=sys.stderr)
                    return result.returncode
    with output.open() as f:
        rows = list(csv.DictReader(f))
    print(f"\nsteps/s at {args.num_envs} envs, chunk {args.chunk}, on {rows[-1]['cpu_model']}")
    print(f"{'env':<26}{'precision':<10}" + "".join(f"{t:>12}" for t in targets))
    for env in envs:
        for precision in args.precision:
            rates = {r["simd"]: float(r["steps_per_s"]) for r in rows if r["env"] == env and r["precision"] == precision}
            print(f"{env:<26}{precision:<10}" + "".join(f"{rates.get(t, float('nan')):>12.3e}" for t in targets))
    print(f"results: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
