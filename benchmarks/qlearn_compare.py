"""Tabular Q-learning on tic-tac-toe: simkit's trainer vs dist_classicrl, same machine, same run, equal
threads and equal work.

    python benchmarks/qlearn_compare.py [--num-envs 64,4096] [--threads 1,2] [--seconds 2]

For each env count and thread count, dist_classicrl runs first, through its own benchmark module
(`dist_classicrl.benchmarks.throughput_benchmark`: `--runtime single_thread` at 1 thread,
`--runtime parallel --processes T` at T threads, its envs split over the processes), with a number of
env steps W sized by a short probe so that its timed window is at least --seconds. simkit then trains
on the same W env steps with the same env count, threads and schedules (W / num_envs rounds), repeated
from scratch until its own timed window is at least --seconds too; its rate is the repeats' env steps
over their total time. Same work per training run, both windows >= --seconds.

dist_classicrl (PyPI) needs Python >= 3.13 and mpi4py with an MPI library, so it runs in its own venv:
`python benchmarks/peers/setup_venvs.py --peers dist_classicrl` makes .peers/dist_classicrl, which is
used unless --peer-python names another interpreter. Without it, its rows say why and simkit is still
measured (at the work the probe would have used). Rows go to results/qlearn_compare_cpu_<time>.csv as
they finish.

MPI side by side (--mpi-ranks, default 2; "" skips it): at each env count and rank count R, in the
same run, `mpirun -n R` of dist_classicrl's `--runtime distributed` (rank 0 is its learner, the other
R - 1 ranks step --agents num_envs / (R - 1) envs each; its own accounting of env steps and time) and of
simkit's `qlearn` (every rank steps num_envs / R envs, one thread each, transitions exchanged every
round; env steps over the slowest rank's training time). Both train --mpi-work env steps in total.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))
from results_io import RowWriter, default_path, metadata  # noqa: E402
import setup_venvs  # noqa: E402

COLUMNS = ["timestamp", "git_commit", "simkit_version", "host", "cpu_model", "cpu_isa", "cores", "library",
           "library_version", "num_envs", "threads", "ranks", "work_env_steps", "repeats", "env_steps", "seconds",
           "steps_per_s", "speedup_vs_dist_classicrl", "status", "note"]
PROBE_ENV_STEPS = 20_000  # the probe that sizes W; a few seconds of dist_classicrl at most
MPI_AS_ROOT = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
               "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}
QLEARN = HERE.parent / "build" / "host" / "qlearn"


def parse_list(text: str, name: str) -> list[int]:
    try:
        values = [int(float(x)) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--{name}: {text!r} is not a comma-separated list of integers") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"--{name}: every value must be >= 1, got {text!r}")
    return values


class PeerUnavailable(Exception):
    """dist_classicrl cannot run this point; the message says why."""


def peer_python(explicit: str | None, cache_dir: Path) -> tuple[str | None, str]:
    if explicit:
        return explicit, ""
    status = setup_venvs.read_status(cache_dir, "dist_classicrl")
    if status.get("status") != "ok":
        return None, f"dist_classicrl venv {status['status']}: {status.get('error', '')}"
    return status["python"], ""


def run_peer(python: str, num_envs: int, threads: int, env_steps: int, timeout: float) -> dict:
    """One dist_classicrl benchmark run of about env_steps env steps over num_envs envs in total."""
    if num_envs % threads:
        raise PeerUnavailable(f"{num_envs} envs do not split evenly over {threads} processes")
    per_process = num_envs // threads
    runtime = ["--runtime", "single_thread"] if threads == 1 else ["--runtime", "parallel", "--processes", str(threads)]
    # Its --steps counts batch steps of one process's vector env, split over the processes.
    batch_steps = max(threads, round(env_steps / per_process))
    with tempfile.TemporaryDirectory() as out:
        cmd = [python, "-m", "dist_classicrl.benchmarks.throughput_benchmark", *runtime,
               "--agents", str(per_process), "--steps", str(batch_steps), "--output-dir", out]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=out, timeout=timeout,
                                  env=dict(os.environ, **MPI_AS_ROOT))
        except subprocess.TimeoutExpired:
            raise PeerUnavailable(f"no result within {timeout:g} s") from None
        results = list(Path(out).glob("*.json"))
        if proc.returncode != 0 or not results:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise PeerUnavailable(f"exit code {proc.returncode}: {tail[0][:200]}")
        data = json.loads(results[0].read_text())
    return {"env_steps": int(data["effective_steps"]), "seconds": float(data["elapsed_time"]),
            "steps_per_s": float(data["throughput"]),
            "note": f"throughput_benchmark {' '.join(runtime)}, {per_process} envs per process"}


def run_peer_mpi(python: str, num_envs: int, ranks: int, env_steps: int, timeout: float) -> dict:
    """dist_classicrl's distributed runtime under mpirun -n ranks: a learner and ranks - 1 workers."""
    workers = ranks - 1
    if workers < 1 or num_envs % workers:
        raise PeerUnavailable(f"its distributed runtime needs a learner plus workers that split {num_envs} envs evenly; "
                              f"{ranks} ranks cannot")
    agents = num_envs // workers
    with tempfile.TemporaryDirectory() as out:
        cmd = ["mpirun", "--oversubscribe", "-n", str(ranks), python, "-m",
               "dist_classicrl.benchmarks.throughput_benchmark", "--runtime", "distributed", "--agents", str(agents),
               "--steps", str(max(1, round(env_steps / agents))), "--output-dir", out]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=out, timeout=timeout,
                                  env=dict(os.environ, **MPI_AS_ROOT))
        except subprocess.TimeoutExpired:
            raise PeerUnavailable(f"mpirun -n {ranks}: no result within {timeout:g} s") from None
        results = list(Path(out).glob("*.json"))
        if proc.returncode != 0 or not results:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise PeerUnavailable(f"mpirun -n {ranks}: exit code {proc.returncode}: {tail[0][:200]}")
        data = json.loads(results[0].read_text())
    return {"env_steps": int(data["effective_steps"]), "seconds": float(data["elapsed_time"]),
            "steps_per_s": float(data["throughput"]), "work_env_steps": int(data["effective_steps"]),
            "note": f"mpirun -n {ranks} throughput_benchmark --runtime distributed --agents {agents} (rank 0 learns, "
                    f"{workers} worker(s) step); its own env-step count and time"}


def simkit_mpi_rate(num_envs: int, ranks: int, work: int, timeout: float) -> dict:
    """mpirun -n ranks qlearn on `work` env steps: one thread per rank, env steps over the slowest rank's time."""
    rounds = max(1, round(work / num_envs))
    with tempfile.TemporaryDirectory() as out:
        csv_path = Path(out) / "q.csv"
        cmd = ["mpirun", "--oversubscribe", "-n", str(ranks), str(QLEARN), "--num-envs", str(num_envs), "--rounds",
               str(rounds), "--eval-every", str(rounds), "--eval-games", "1000", "--threads", "1", "--output",
               str(csv_path)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=dict(os.environ, **MPI_AS_ROOT))
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
        import csv

        with open(csv_path, newline="") as f:
            last = list(csv.DictReader(f))[-1]
    env_steps, seconds = int(last["env_steps"]), float(last["seconds"])
    return {"work_env_steps": env_steps, "repeats": 1, "env_steps": env_steps, "seconds": seconds,
            "steps_per_s": env_steps / seconds,
            "note": f"mpirun -n {ranks} qlearn --threads 1, {rounds} rounds, transitions allgathered each round"}


def peer_version(python: str) -> str:
    code = "import importlib.metadata as m; print(m.version('dist-classicrl'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


def simkit_rate(num_envs: int, threads: int, work: int, window: float) -> dict:
    """simkit trains on `work` env steps from scratch, repeated until `window` seconds have passed."""
    from simkit import qlearning

    rounds = max(1, round(work / num_envs))
    qlearning.train(num_envs=num_envs, rounds=1, threads=threads)  # warm-up: allocation, thread pool
    repeats, elapsed = 0, 0.0
    while elapsed < window:
        t0 = time.perf_counter()
        qlearning.train(num_envs=num_envs, rounds=rounds, threads=threads, seed=1 + repeats)
        elapsed += time.perf_counter() - t0
        repeats += 1
    env_steps = repeats * rounds * num_envs
    return {"work_env_steps": rounds * num_envs, "repeats": repeats, "env_steps": env_steps, "seconds": elapsed,
            "steps_per_s": env_steps / elapsed,
            "note": f"qlearning.train, {rounds} rounds of {num_envs} envs, fresh table each repeat"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=lambda s: parse_list(s, "num-envs"), default=[64, 4096],
                        help="comma-separated env counts, in total over the threads")
    parser.add_argument("--threads", type=lambda s: parse_list(s, "threads"), default=[1, 2],
                        help="comma-separated thread (dist_classicrl: process) counts")
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum timed window of each library")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds one dist_classicrl run may take")
    parser.add_argument("--peer-python", help="interpreter with dist-classicrl (default: .peers/dist_classicrl)")
    parser.add_argument("--cache-dir", default=str(setup_venvs.DEFAULT_CACHE), help="the peer venvs")
    parser.add_argument("--mpi-ranks", type=lambda s: parse_list(s, "mpi-ranks") if s else [], default=[2],
                        help='comma-separated rank counts for the MPI side by side ("" to skip)')
    parser.add_argument("--mpi-work", type=int, default=16_000, help="env steps of each MPI training run")
    parser.add_argument("--output", help="CSV to append to")
    args = parser.parse_args(argv)
    if not args.seconds > 0 or not args.timeout > 0:
        parser.error("--seconds and --timeout must be > 0")
    import simkit

    python, why_not = peer_python(args.peer_python, Path(args.cache_dir))
    version = peer_version(python) if python else ""
    writer = RowWriter(args.output or default_path("qlearn_compare", "cpu"), COLUMNS)
    meta = metadata()
    for n in args.num_envs:
        for t in args.threads:
            peer = {"library": "dist_classicrl", "library_version": version, "status": "missing", "note": why_not}
            work = PROBE_ENV_STEPS
            if python:
                try:
                    run = run_peer(python, n, t, PROBE_ENV_STEPS, args.timeout)
                    while run["seconds"] < args.seconds:  # the probe's rate includes its start; grow until long enough
                        work = max(work + 1, round(run["env_steps"] * args.seconds / run["seconds"] * 1.2))
                        run = run_peer(python, n, t, work, args.timeout)
                    peer.update(run, status="ok", repeats=1)
                    work = peer["work_env_steps"] = peer["env_steps"]
                except PeerUnavailable as e:
                    peer.update(status="failed", note=str(e))
            ours = {"library": "simkit", "library_version": simkit.__version__, "status": "ok",
                    **simkit_rate(n, t, work, args.seconds)}
            for row in (peer, ours):
                if row.get("steps_per_s") and peer.get("steps_per_s"):
                    row["speedup_vs_dist_classicrl"] = row["steps_per_s"] / peer["steps_per_s"]
                writer.write({**meta, **row, "num_envs": n, "threads": t, "ranks": 1})
                rate = f"{row['steps_per_s']:.3e} steps/s" if row.get("steps_per_s") else row["status"]
                print(f"{row['library']:<15} {n:>6} envs {t} thread(s) {rate:>18}  {row.get('note', '')}", flush=True)
    for n in args.num_envs:
        for ranks in args.mpi_ranks:
            peer = {"library": "dist_classicrl", "library_version": version, "status": "missing", "note": why_not}
            if python:
                try:
                    peer.update(run_peer_mpi(python, n, ranks, args.mpi_work, args.timeout), status="ok", repeats=1)
                except PeerUnavailable as e:
                    peer.update(status="failed", note=str(e))
            ours = {"library": "simkit", "library_version": simkit.__version__, "status": "ok",
                    **simkit_mpi_rate(n, ranks, args.mpi_work, args.timeout)}
            for row in (peer, ours):
                if row.get("steps_per_s") and peer.get("steps_per_s"):
                    row["speedup_vs_dist_classicrl"] = row["steps_per_s"] / peer["steps_per_s"]
                writer.write({**meta, **row, "num_envs": n, "threads": 1, "ranks": ranks})
                rate = f"{row['steps_per_s']:.3e} steps/s" if row.get("steps_per_s") else row["status"]
                print(f"{row['library']:<15} {n:>6} envs {ranks} MPI ranks {rate:>18}  {row.get('note', '')}", flush=True)
    print(f"results: {writer.path}")
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
