"""Tabular Q-learning on tic-tac-toe: simkit's trainer vs dist_classicrl, same machine, same env count.

    python benchmarks/qlearn_compare.py --peer-python /path/to/py313/bin/python --num-envs 10 4096

dist_classicrl (PyPI) needs Python >= 3.13 and mpi4py with an MPI library (Debian: openmpi-bin), so it
runs in its own interpreter (``--peer-python``), through its own benchmark module
(``dist_classicrl.benchmarks.throughput_benchmark --runtime single_thread``), and its JSON result is read
back. Without ``--peer-python`` (or when the peer fails) its row says why and simkit is still measured.
Rows go to results/qlearn_compare_cpu_<time>.csv as they finish.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_io import RowWriter, default_path, metadata  # noqa: E402

COLUMNS = ["timestamp", "git_commit", "simkit_version", "host", "cpu_model", "cores", "library", "library_version",
           "num_envs", "threads", "env_steps", "seconds", "steps_per_s", "speedup_vs_dist_classicrl", "status",
           "note"]


def simkit_rate(num_envs: int, steps: int, threads: int) -> dict:
    from simkit import qlearning

    rounds = max(1, steps // num_envs)
    qlearning.train(num_envs=num_envs, rounds=1, threads=threads)  # warm-up: allocation, thread pool
    t0 = time.perf_counter()
    qlearning.train(num_envs=num_envs, rounds=rounds, threads=threads, seed=1)
    seconds = time.perf_counter() - t0
    return {"library": "simkit", "env_steps": rounds * num_envs, "seconds": seconds,
            "steps_per_s": rounds * num_envs / seconds, "status": "ok",
            "note": f"{rounds} rounds incl. the ordered table updates"}


def peer_rate(python: str | None, num_envs: int, steps: int) -> dict:
    row = {"library": "dist_classicrl", "threads": 1}
    if not python:
        return {**row, "status": "missing", "note": "no --peer-python given (needs Python >= 3.13 and MPI)"}
    batch_steps = max(1, steps // num_envs)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    with tempfile.TemporaryDirectory() as out:
        cmd = [python, "-m", "dist_classicrl.benchmarks.throughput_benchmark", "--runtime", "single_thread",
               "--agents", str(num_envs), "--steps", str(batch_steps), "--output-dir", out]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=out)
        results = list(Path(out).glob("*.json"))
        if proc.returncode != 0 or not results:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return {**row, "status": "failed", "note": tail[0][:200]}
        data = json.loads(results[0].read_text())
    version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('dist-classicrl'))"],
                             capture_output=True, text=True).stdout.strip()
    return {**row, "library_version": version, "env_steps": data["effective_steps"], "seconds": data["elapsed_time"],
            "steps_per_s": data["throughput"], "status": "ok",
            "note": f"{' '.join(cmd[1:4])} (single_thread runtime, SyncVectorEnv of {num_envs})"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=int, nargs="+", default=[10, 4096])
    parser.add_argument("--steps", type=int, default=200_000, help="env steps per library and point")
    parser.add_argument("--threads", type=int, default=0, help="simkit threads (0 = all cores)")
    parser.add_argument("--peer-python", help="interpreter with dist-classicrl installed")
    parser.add_argument("--output", help="CSV to append to")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.num_envs) or args.steps < 1:
        parser.error("--num-envs and --steps must be at least 1")
    import simkit

    writer = RowWriter(args.output or default_path("qlearn_compare", "cpu"), COLUMNS)
    meta = metadata()
    for n in args.num_envs:
        peer = peer_rate(args.peer_python, n, args.steps)
        ours = {**simkit_rate(n, args.steps * 10, args.threads), "library_version": simkit.__version__,
                "threads": args.threads or os.cpu_count()}
        for row in (peer, ours):
            if row.get("steps_per_s") and peer.get("steps_per_s"):
                row["speedup_vs_dist_classicrl"] = row["steps_per_s"] / peer["steps_per_s"]
            writer.write({**meta, **row, "num_envs": n})
            rate = f"{row['steps_per_s']:.3e}" if row.get("steps_per_s") else row["status"]
            print(f"{row['library']:<15} {n:>6} envs {rate:>12} steps/s  {row.get('note', '')}", flush=True)
    print(f"results: {writer.path}")
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
