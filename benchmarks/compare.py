"""Peer comparison in one run on one machine: the same env and env count through simkit and the
libraries people use today, each measurement in its own process and the peer's own venv.

  python benchmarks/peers/setup_venvs.py          # once: one venv per peer under .peers/
  python benchmarks/compare.py                     # every peer, 1..1e6 envs, CartPole and GeneCircuit
  python benchmarks/compare.py --num-envs 1,1000 --seconds 0.5 --repeat 1     # a smoke run

Two kinds of measurement, reported in separate tables (column `api`):
  throughput   the library steps many times per call, no Python per step: simkit.throughput (--chunk),
               gymnax and Myriad jit(lax.scan of vmapped steps), PufferLib's C vec_step loop
  step API     one batch step per call from Python with numpy random actions: simkit env.step,
               Gymnasium (serial gym.make envs, SyncVectorEnv, numpy CartPoleVectorEnv), gymnax and
               Myriad jitted steps, EnvPool, PufferLib env.step
Every policy is uniform random. GeneCircuit-v0 runs against Myriad's ccasr-gfp-control (same
reactions, rates and 5-minute steps); the other peers have no such env. dist-classicrl (tabular
Q-learning on tic-tac-toe) is compared in benchmarks/qlearn_compare.py.

Points are interleaved: for each env count, every measurement once, then again (--repeat times), so
a slow phase of the machine hits every library alike. Each point is one `benchmarks/peers/worker.py`
process under a time limit (--timeout); a peer that hangs or crashes gets a row saying so and the
sweep goes on. Rows (results/compare_cpu_<UTC time>.csv) carry the machine, CPU ISA and commit, are
flushed as they finish, and --resume continues the newest compare CSV (or --output), measuring only
the points it does not hold. A ratio table (simkit / each peer, per env count) ends the run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))
from results_io import ROOT, RowWriter, default_path, metadata  # noqa: E402
import setup_venvs  # noqa: E402
import worker  # noqa: E402

WORKER = HERE / "peers" / "worker.py"

COLUMNS = ["timestamp", "git_commit", "simkit_version", "host", "cpu_model", "cpu_isa", "cores", "library",
           "library_version", "api", "mode", "env", "num_envs", "repeat", "device", "batch_steps", "env_steps",
           "seconds", "steps_per_s", "setup_seconds", "status", "note"]

DEFAULT_NUM_ENVS = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]
# Steps per call in throughput mode: a GeneCircuit step fires ~10 reactions, so a shorter chunk keeps
# Myriad's warm-up call at 1e6 envs within --timeout (simkit's README uses chunk 8 for it too).
DEFAULT_CHUNK = {"CartPole-v1": 32, "GeneCircuit-v0": 8}
# For the duration estimate, from a smoke run on the 2-core development VM: start-up per process
# (interpreter, imports, JIT compilation) and construction plus warm-up per env, keyed by
# (library, mode) or (library, env).
STARTUP_S = {"simkit": 1.0, "gymnasium": 1.5, "gymnax": 10.0, "envpool": 2.0, "pufferlib": 1.5, "myriad": 12.0}
WARMUP_S_PER_ENV = {("gymnasium", "serial"): 1e-3, ("gymnasium", "SyncVectorEnv"): 1e-3, ("envpool", "sync"): 3e-5,
                    ("gymnax", "CartPole-v1"): 1e-5, ("myriad", "CartPole-v1"): 1e-5,
                    ("myriad", "GeneCircuit-v0"): 6e-5}


def known_libraries() -> list[str]:
    return list(dict.fromkeys(m.library for m in worker.MEASUREMENTS))


def parse_counts(text: str) -> list[int]:
    """'1,10,1e3' -> [1, 10, 1000]; each must be a whole number >= 1."""
    counts = []
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--num-envs: {item!r} is not a number") from None
        if value < 1 or value != int(value):
            raise argparse.ArgumentTypeError(f"--num-envs: {item!r} must be a whole number >= 1")
        counts.append(int(value))
    return counts


def plan(envs: list[str], counts: list[int], libraries: list[str], repeats: int) -> list[dict]:
    """The points in run order: per env and env count, round-robin over the measurements, repeated."""
    measurements = [m for m in worker.MEASUREMENTS if m.library in libraries]
    return [{"measurement": m, "env": env, "num_envs": n, "repeat": r}
            for env in envs for n in counts for r in range(repeats) for m in measurements if env in m.envs]


def point_key(library, mode, env, num_envs, repeat) -> tuple:
    return (str(library), str(mode), str(env), str(num_envs), str(repeat))


def done_points(path: Path) -> set:
    """Points of an earlier run that need no second measurement (ok, or skipped by design)."""
    if not path.exists():
        return set()
    with open(path, newline="") as f:
        return {point_key(r["library"], r["mode"], r["env"], r["num_envs"], r.get("repeat", "0"))
                for r in csv.DictReader(f) if r.get("status") in ("ok", "skipped")}


def interpreter(measurement, cache_dir: Path) -> tuple[str | None, str]:
    """(python, "") for the measurement's venv, or (None, why it cannot run)."""
    if measurement.venv is None:
        return sys.executable, ""
    status = setup_venvs.read_status(cache_dir, measurement.venv)
    if status.get("status") != "ok":
        return None, f"{measurement.venv} venv {status.get('status')}: {status.get('error', '')}"
    return status["python"], ""


def run_point(point: dict, python: str, seconds: float, chunk: int, timeout: float, cwd: Path) -> dict:
    """Runs one worker process; returns its JSON row, or a failed/timeout row that says what happened."""
    m = point["measurement"]
    cmd = [python, str(WORKER), "--library", m.library, "--mode", m.mode, "--env", point["env"],
           "--num-envs", str(point["num_envs"]), "--seconds", str(seconds), "--chunk", str(chunk)]
    # The peer venvs hold CPU jaxlib builds; naming the platform also skips JAX's accelerator probing.
    env = dict(os.environ, PYTHONUNBUFFERED="1", JAX_PLATFORMS="cpu")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "note": f"no result within --timeout {timeout:g} s; the worker was killed"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    tail = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
    return {"status": "failed", "note": f"worker exit code {proc.returncode}: {tail}"[:300]}


def estimate_seconds(points: list[dict], seconds: float) -> float:
    total = 0.0
    for p in points:
        lib, mode, n = p["measurement"].library, p["measurement"].mode, p["num_envs"]
        if lib == "gymnasium" and mode in ("serial", "SyncVectorEnv") and n > worker.PYTHON_ENV_CAP:
            total += STARTUP_S[lib]  # says "skipped" at once
            continue
        per_env = WARMUP_S_PER_ENV.get((lib, mode), WARMUP_S_PER_ENV.get((lib, p["env"]), 0.0))
        total += seconds + STARTUP_S.get(lib, 2.0) + per_env * n
    return total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", nargs="+", default=["CartPole-v1", "GeneCircuit-v0"],
                    choices=sorted({e for m in worker.MEASUREMENTS for e in m.envs}))
    ap.add_argument("--num-envs", type=parse_counts, default=DEFAULT_NUM_ENVS,
                    help="comma-separated env counts (default 1,10,100,1e3,1e4,1e5,1e6)")
    ap.add_argument("--seconds", type=float, default=2.0, help="timed window per point, after warm-up")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds per env count")
    ap.add_argument("--chunk", type=int, help="steps per call in throughput mode (default: 32, GeneCircuit 8)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds one worker process may take")
    known = known_libraries()
    ap.add_argument("--libraries", default=",".join(known), help="comma-separated subset of: " + ", ".join(known))
    ap.add_argument("--cache-dir", default=str(setup_venvs.DEFAULT_CACHE), help="the peer venvs (setup_venvs.py)")
    ap.add_argument("--output", help="CSV to append to (default results/compare_cpu_<time>.csv)")
    ap.add_argument("--resume", action="store_true", help="continue --output or the newest results/compare_*.csv")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and its estimated duration only")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    libraries = [x.strip() for x in args.libraries.split(",") if x.strip()]
    unknown = [x for x in libraries if x not in known]
    problems = [f"--libraries: unknown {unknown} (known: {', '.join(known)})"] if unknown else []
    problems += [f"--{name} must be > 0" for name in ("seconds", "repeat", "timeout") if not getattr(args, name) > 0]
    problems += ["--chunk must be > 0"] if args.chunk is not None and args.chunk < 1 else []
    if problems:
        print(f"compare.py: error: {'; '.join(problems)}", file=sys.stderr)
        return 2

    if args.resume:
        found = sorted((ROOT / "results").glob("compare_*.csv"))
        out = Path(args.output) if args.output else (found[-1] if found else None)
        if out is None:
            print("compare.py: error: --resume found no results/compare_*.csv", file=sys.stderr)
            return 2
    else:
        out = Path(args.output) if args.output else default_path("compare", "cpu")
    done = done_points(out) if args.resume else set()
    points = plan(args.env, args.num_envs, libraries, args.repeat)
    todo = [p for p in points if point_key(p["measurement"].library, p["measurement"].mode, p["env"],
                                           p["num_envs"], p["repeat"]) not in done]
    estimate = estimate_seconds(todo, args.seconds)
    print(f"{len(todo)} points to measure ({len(points) - len(todo)} already in {out.name}); estimated "
          f"{estimate / 60:.0f} min, at most {len(todo) * args.timeout / 3600:.1f} h if every point hit --timeout")
    if args.dry_run:
        return 0

    cache_dir = Path(args.cache_dir)
    try:
        writer = RowWriter(out, COLUMNS)
    except ValueError as e:
        print(f"compare.py: error: --output: {e}", file=sys.stderr)
        return 2
    meta = metadata()
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    bar = tqdm(todo, unit="point", dynamic_ncols=True) if tqdm else todo
    say = tqdm.write if tqdm else print
    try:
        for p in bar:
            m = p["measurement"]
            label = f"{m.library} / {m.mode}, {p['env']}, {p['num_envs']:,} envs, round {p['repeat'] + 1}"
            if tqdm:
                bar.set_postfix_str(label)
            python, why_not = interpreter(m, cache_dir)
            cwd = (cache_dir / m.venv) if m.venv else ROOT  # PufferLib links resources/ into its cwd
            chunk = args.chunk or DEFAULT_CHUNK.get(p["env"], 32)
            row = run_point(p, python, args.seconds, chunk, args.timeout, cwd) if python else \
                {"status": "missing", "note": why_not}
            row = {**meta, **row, "library": m.library, "mode": m.mode, "api": m.api, "env": p["env"],
                   "num_envs": p["num_envs"], "repeat": p["repeat"],
                   "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            writer.write(row)
            say(f"{label}: " + (f"{float(row['steps_per_s']):.3e} steps/s" if row["status"] == "ok"
                                else f"{row['status']}: {row.get('note', '')}"))
    finally:
        writer.close()
    print_ratio_table(out)
    print(f"results: {out}")
    return 0


def _ratio(x: float) -> str:
    return f"{x:,.0f}x" if x >= 100 else f"{x:.3g}x"


def median_rates(path: Path) -> dict:
    """{(env, api, library, mode): {num_envs: median steps/s over repeats}} from the ok rows of path."""
    samples = defaultdict(lambda: defaultdict(list))
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r.get("status") == "ok" and r.get("steps_per_s"):
                key = (r["env"], r.get("api", ""), r["library"], r["mode"])
                samples[key][int(r["num_envs"])].append(float(r["steps_per_s"]))
    return {k: {n: statistics.median(v) for n, v in by_n.items()} for k, by_n in samples.items()}


def print_ratio_table(path: Path) -> None:
    """Per env and api: each library's median steps/s per env count, and simkit's rate / it."""
    rates = median_rates(path)
    for env, api in sorted({(k[0], k[1]) for k in rates}):
        rows = {(lib, mode): v for (e, a, lib, mode), v in rates.items() if (e, a) == (env, api)}
        ours = next((v for (lib, _), v in rows.items() if lib == "simkit"), {})
        counts = sorted({n for v in rows.values() for n in v})
        print(f"\n{env}, {api}: env steps/s (median of rounds) and simkit / it")
        print(f"{'library / mode':<30}" + "".join(f"{n:>23,}" for n in counts))
        for (lib, mode), v in sorted(rows.items(), key=lambda kv: (kv[0][0] != "simkit", kv[0])):
            cells = []
            for n in counts:
                if n not in v:
                    cells.append(f"{'-':>23}")
                elif lib == "simkit" or n not in ours:
                    cells.append(f"{v[n]:>23.3e}")
                else:
                    cells.append(f"{v[n]:>11.3e} {'(' + _ratio(ours[n] / v[n]) + ')':>11}")
            print(f"{lib + ' / ' + mode:<30}" + "".join(cells))


if __name__ == "__main__":
    sys.exit(main())
