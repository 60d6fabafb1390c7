"""MPI scaling of the throughput CLI on one machine: weak and strong scaling at 1..R ranks with
ranks x threads = cores, and the cost of one statistics reduction against the rank count.

    python benchmarks/mpi_scaling.py [--ranks 1,2] [--reduction-ranks 1,2,4,8] [--plot]

Weak scaling keeps --envs-per-rank envs on each rank; strong scaling splits --total-envs over the
ranks. Every point is `mpirun -n R throughput --threads cores/R --steps ...` (R = 1 too, so each point
pays the same launch), timed by the slowest rank. Every point uses all the cores, so perfect scaling
keeps the one-rank rate: efficiency = rate(R) / rate(1), weak and strong. The reduction rows time
`mpirun -n R mpi-reduce-cost` (oversubscribed beyond the cores, so an upper bound for R > cores).
Rows go to results/mpi_scaling_cpu_<time>.csv with the machine, commit and configuration.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from results_io import ROOT, RowWriter, default_path, metadata  # noqa: E402

COLUMNS = ["timestamp", "git_commit", "simkit_version", "host", "cpu_model", "cpu_isa", "cores", "kind", "env",
           "ranks", "threads", "num_envs", "chunk", "steps", "repeat", "env_steps", "seconds", "steps_per_s",
           "efficiency", "mean_episode_return", "reduce_median_us", "reduce_p90_us", "iterations", "note"]
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}


def parse_list(text: str) -> list[int]:
    values = [int(float(x)) for x in text.split(",")]
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"every value must be >= 1, got {text!r}")
    return values


def mpirun(ranks: int, cmd: list[str], timeout: float) -> str:
    proc = subprocess.run(["mpirun", "--oversubscribe", "-n", str(ranks), *cmd], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, **MPI_ENV))
    if proc.returncode != 0:
        raise RuntimeError(f"mpirun -n {ranks} {' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return proc.stdout


def throughput_point(build: Path, env: str, ranks: int, threads: int, num_envs: int, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "row.csv"
        mpirun(ranks, [str(build / "host" / "throughput"), "--env", env, "--num-envs", str(num_envs), "--threads",
                       str(threads), "--chunk", str(args.chunk), "--steps", str(args.steps), "--repeat",
                       str(args.repeat), "--output", str(out)], args.timeout)
        with open(out, newline="") as f:
            return next(csv.DictReader(f))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", default="CartPole-v1")
    ap.add_argument("--ranks", type=parse_list, default=[1, 2], help="rank counts of the scaling points")
    ap.add_argument("--cores", type=int, default=os.cpu_count(), help="ranks x threads at every point")
    ap.add_argument("--envs-per-rank", type=int, default=1 << 19, help="weak scaling: envs on each rank")
    ap.add_argument("--total-envs", type=int, default=1 << 20, help="strong scaling: envs over all ranks")
    ap.add_argument("--chunk", type=int, default=32)
    ap.add_argument("--steps", type=int, default=1024, help="batch steps per timed repeat")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reduction-ranks", type=parse_list, default=[1, 2, 4, 8])
    ap.add_argument("--iterations", type=int, default=2000, help="reductions timed per rank count")
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--build", default=str(ROOT / "build"), help="the CMake build with SIMKIT_MPI")
    ap.add_argument("--output", help="CSV to append to")
    ap.add_argument("--plot", action="store_true", help="also draw results/plots/mpi_scaling.png")
    args = ap.parse_args(argv)
    build = Path(args.build)
    if any(args.cores % r for r in args.ranks):
        ap.error(f"--cores {args.cores} must be a multiple of every --ranks value")

    meta = metadata()
    writer = RowWriter(args.output or default_path("mpi_scaling", "cpu"), COLUMNS)
    rows = []
    for kind in ("weak", "strong"):
        base_rate = None
        for ranks in args.ranks:
            threads = args.cores // ranks
            num_envs = args.envs_per_rank * ranks if kind == "weak" else args.total_envs
            r = throughput_point(build, args.env, ranks, threads, num_envs, args)
            rate = float(r["steps_per_s"])
            base_rate = base_rate or rate
            # Same cores at every point: perfect scaling keeps the rate (strong) or the rate per env (weak)
            # of the one-rank run.
            row = {**meta, "kind": kind, "env": args.env, "ranks": ranks, "threads": threads, "num_envs": num_envs,
                   "chunk": args.chunk, "steps": args.steps, "repeat": args.repeat, "env_steps": r["env_steps"],
                   "seconds": r["seconds"], "steps_per_s": rate, "efficiency": rate / base_rate,
                   "mean_episode_return": r["mean_episode_return"],
                   "note": f"mpirun -n {ranks} throughput --threads {threads}; machine shared with other jobs"}
            writer.write(row)
            rows.append(row)
            print(f"{kind:<6} {ranks} ranks x {threads} threads {num_envs:>9} envs {rate:.3e} steps/s "
                  f"efficiency {rate / base_rate:.3f}", flush=True)
    for ranks in args.reduction_ranks:
        out = json.loads(mpirun(ranks, [str(build / "host" / "mpi-reduce-cost"), str(args.iterations)],
                                args.timeout).strip().splitlines()[-1])
        row = {**meta, "kind": "reduction", "ranks": ranks, "threads": 1, "iterations": out["iterations"],
               "reduce_median_us": out["median_us"], "reduce_p90_us": out["p90_us"],
               "note": f"distributed::reduce_stats at rank 0, {out['partials']} partials per rank"
                       + ("; oversubscribed" if ranks > args.cores else "")}
        writer.write(row)
        rows.append(row)
        print(f"reduce {ranks} ranks: median {out['median_us']:.1f} us, p90 {out['p90_us']:.1f} us", flush=True)
    print(f"results: {writer.path}")
    writer.close()
    if args.plot:
        print(f"plot: {plot(rows, ROOT / 'results' / 'plots' / 'mpi_scaling.png')}")
    return 0


def plot(rows: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for kind, marker in (("weak", "o"), ("strong", "s")):
        pts = [r for r in rows if r["kind"] == kind]
        left.plot([r["ranks"] for r in pts], [r["steps_per_s"] for r in pts], marker=marker, label=f"{kind} scaling")
    left.set_xticks(sorted({r["ranks"] for r in rows if r["kind"] != "reduction"}))
    left.set_xlabel("MPI ranks (ranks x threads = cores)")
    left.set_ylabel("env steps / s")
    left.legend()
    red = [r for r in rows if r["kind"] == "reduction"]
    right.plot([r["ranks"] for r in red], [r["reduce_median_us"] for r in red], marker="o", label="median")
    right.plot([r["ranks"] for r in red], [r["reduce_p90_us"] for r in red], marker="x", label="p90")
    right.set_xscale("log", base=2)
    right.set_xlabel("MPI ranks (oversubscribed past the cores)")
    right.set_ylabel("one statistics reduction (us)")
    right.legend()
    meta = rows[0]
    fig.suptitle(f"simkit MPI scaling, {meta['env'] or 'CartPole-v1'}: {meta['cpu_model']}, {meta['cores']} cores, "
                 f"commit {meta['git_commit']} (shared machine)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


if __name__ == "__main__":
    sys.exit(main())
