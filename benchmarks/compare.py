"""Peer comparison in one run on one machine: the same env and env count through simkit and the
libraries people use today.

  python benchmarks/compare.py [--env CartPole-v1] [--num-envs 1000 100000] [--seconds 2]
                               [--libraries simkit,gymnasium,...] [--output FILE | --resume]

Columns of the output (results/compare_<device>_<timestamp>.csv): citation metadata, library,
library_version, mode, env, num_envs, device, steps, seconds, steps_per_s, status, note. A peer that is
not installed (or whose API this script has no adapter for) gets a row with status `missing` or
`skipped` and no number: it is reported, never faked. Rows are written and flushed as they finish, so
Ctrl-C keeps what was measured; `--resume` continues the newest compare CSV (or --output) and skips
the points it already holds. Peers are optional extras: `pip install .[compare]`.

Peers (library / mode):
  simkit / throughput            simkit.throughput(...): the built-in random policy, no Python per step
  simkit / step API              simkit.make_vec(...).step(random actions) from Python
  gymnasium / serial             num_envs separate gym.make() envs stepped in a Python loop
  gymnasium / SyncVectorEnv      gymnasium.vector.SyncVectorEnv
  gymnasium / numpy vector env   gymnasium's numpy CartPoleVectorEnv (CartPole only)
  gymnax / jax cpu               vmap(step) under jit and lax.scan, JAX on the CPU
  envpool / sync                 envpool.make(..., env_type="gymnasium")
  myriad-jax, pufferlib          reported (installed or not); no adapter written yet
  dist-classicrl / TicTacToe     skipped: simkit has no TicTacToe env yet
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib
import importlib.metadata
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_io import cpu_model, git_commit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

COLUMNS = ["timestamp", "git_commit", "simkit_version", "host", "cpu_model", "cores", "library", "library_version",
           "mode", "env", "num_envs", "device", "steps", "seconds", "steps_per_s", "status", "note"]

PEERS = ["simkit", "gymnasium", "gymnax", "envpool", "myriad-jax", "pufferlib", "dist-classicrl"]


class Missing(Exception):
    """The peer is not installed or cannot run this point; the message says why."""


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _import(module: str, dist: str | None = None):
    try:
        return importlib.import_module(module)
    except Exception as e:  # ImportError, or a broken install raising something else
        raise Missing(f"{dist or module} not installed ({type(e).__name__}: {e})".split("\n")[0]) from None


def _timed_loop(step, num_envs: int, seconds: float, warmup: int = 3) -> tuple[int, float]:
    """Calls step() (one batch step) for about `seconds`; returns (batch steps, elapsed)."""
    for _ in range(warmup):
        step()
    steps, t0 = 0, time.perf_counter()
    while True:
        step()
        steps += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return steps, elapsed


# ---- adapters: each returns (steps, seconds, device, note) or raises Missing ---------------------

def run_simkit_throughput(env, n, seconds, device):
    simkit = _import("simkit")
    # Keywords: the positional order of simkit.throughput has steps before seconds.
    r = simkit.throughput(env, num_envs=n, chunk=32, seconds=seconds, device=device)
    elapsed = float(r["seconds"])
    steps = int(r["steps"]) if "steps" in r else int(float(r["steps_per_s"]) * elapsed / n)
    note = f"chunk 32, median of repeats; simkit commit {r.get('git_commit', '?')}"
    return steps, elapsed, str(r.get("device", device)), note


def run_simkit_step(env, n, seconds, device):
    simkit = _import("simkit")
    venv = simkit.make_vec(env, n, device=device, seed=0)
    venv.reset(seed=0)
    space = venv.action_space
    rng = np.random.default_rng(0)
    if hasattr(space, "nvec"):
        actions = lambda: rng.integers(0, space.nvec, dtype=space.dtype)  # noqa: E731
    else:
        actions = lambda: space.sample()  # noqa: E731
    steps, elapsed = _timed_loop(lambda: venv.step(actions()), n, seconds)
    venv.close()
    return steps, elapsed, device, "random actions from numpy"


def run_gym_serial(env, n, seconds, device):
    gym = _import("gymnasium")
    envs = [gym.make(env) for _ in range(n)]
    for i, e in enumerate(envs):
        e.reset(seed=i)
        e.action_space.seed(i)

    def step():
        for e in envs:
            _, _, term, trunc, _ = e.step(e.action_space.sample())
            if term or trunc:
                e.reset()

    steps, elapsed = _timed_loop(step, n, seconds, warmup=1)
    return steps, elapsed, "cpu", "1 process, Python loop over envs"


def run_gym_sync(env, n, seconds, device):
    gym = _import("gymnasium")
    venv = gym.vector.SyncVectorEnv([lambda: gym.make(env) for _ in range(n)])
    venv.reset(seed=0)
    venv.action_space.seed(0)
    steps, elapsed = _timed_loop(lambda: venv.step(venv.action_space.sample()), n, seconds, warmup=1)
    venv.close()
    return steps, elapsed, "cpu", ""


def run_gym_numpy(env, n, seconds, device):
    _import("gymnasium")
    if not env.startswith("CartPole"):
        raise Missing(f"gymnasium has no numpy vector env for {env}")
    from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

    venv = CartPoleVectorEnv(num_envs=n)
    venv.reset(seed=0)
    venv.action_space.seed(0)
    steps, elapsed = _timed_loop(lambda: venv.step(venv.action_space.sample()), n, seconds)
    return steps, elapsed, "cpu", ""


def run_gymnax(env, n, seconds, device):
    gymnax = _import("gymnax")
    jax = _import("jax")
    name = env.split("-v")[0] + "-v" + env.split("-v")[1] if "-v" in env else env
    try:
        genv, params = gymnax.make(name)
    except Exception as e:
        raise Missing(f"gymnax has no {env} ({e})") from None
    chunk = 32
    keys = jax.random.split(jax.random.PRNGKey(0), n)
    _, state = jax.vmap(genv.reset, in_axes=(0, None))(keys, params)

    def one(carry, _):
        key, state = carry
        key, k_act, k_step = jax.random.split(key, 3)
        acts = jax.vmap(genv.action_space(params).sample)(jax.random.split(k_act, n))
        _, state, reward, done, _ = jax.vmap(genv.step, in_axes=(0, 0, 0, None))(
            jax.random.split(k_step, n), state, acts, params)
        return (key, state), reward.sum()

    @jax.jit
    def run(carry):
        return jax.lax.scan(one, carry, None, length=chunk)

    carry = [(jax.random.PRNGKey(1), state)]

    def step():
        carry[0], r = run(carry[0])
        r.block_until_ready()

    batches, elapsed = _timed_loop(step, n, seconds, warmup=2)
    return batches * chunk, elapsed, str(jax.devices()[0]), f"jit(lax.scan) chunk {chunk}, vmap over envs"


def run_envpool(env, n, seconds, device):
    envpool = _import("envpool")
    try:
        venv = envpool.make(env, env_type="gymnasium", num_envs=n, seed=0)
    except Exception as e:
        raise Missing(f"envpool cannot make {env} ({e})") from None
    venv.reset()
    rng = np.random.default_rng(0)
    space = venv.action_space
    if hasattr(space, "n"):
        actions = lambda: rng.integers(0, space.n, size=n)  # noqa: E731
    else:
        actions = lambda: rng.uniform(space.low, space.high, size=(n,) + space.shape).astype(space.dtype)  # noqa: E731
    steps, elapsed = _timed_loop(lambda: venv.step(actions()), n, seconds)
    return steps, elapsed, "cpu", f"{os.cpu_count()} worker threads (envpool default)"


def _no_adapter(module, dist):
    def run(env, n, seconds, device):
        _import(module, dist)
        raise Missing(f"{dist} {_version(dist)} is installed but compare.py has no adapter for its API yet")
    return run


def run_dist_classicrl(env, n, seconds, device):
    _import("dist_classicrl", "dist-classicrl")
    raise Missing("the TicTacToe comparison needs a simkit TicTacToe env, which does not exist yet")


# (library, mode, distribution for the version, adapter)
ADAPTERS = [
    ("simkit", "throughput", "simkit", run_simkit_throughput),
    ("simkit", "step API", "simkit", run_simkit_step),
    ("gymnasium", "serial", "gymnasium", run_gym_serial),
    ("gymnasium", "SyncVectorEnv", "gymnasium", run_gym_sync),
    ("gymnasium", "numpy vector env", "gymnasium", run_gym_numpy),
    ("gymnax", "jax cpu", "gymnax", run_gymnax),
    ("envpool", "sync", "envpool", run_envpool),
    ("myriad-jax", "jax cpu", "myriad-jax", _no_adapter("myriad", "myriad-jax")),
    ("pufferlib", "ocean", "pufferlib", _no_adapter("pufferlib", "pufferlib")),
    ("dist-classicrl", "TicTacToe", "dist-classicrl", run_dist_classicrl),
]

# Slow peers are capped: serial Gymnasium at 1M envs would take minutes per batch step.
MAX_ENVS = {("gymnasium", "serial"): 10_000, ("gymnasium", "SyncVectorEnv"): 10_000}


def _resume_path(output: str | None) -> Path | None:
    if output:
        return Path(output)
    found = sorted((ROOT / "results").glob("compare_*.csv"))
    return found[-1] if found else None


def _done_points(path: Path) -> set:
    if not path.exists():
        return set()
    with open(path, newline="") as f:
        return {(r["library"], r["mode"], r["env"], r["num_envs"]) for r in csv.DictReader(f)
                if r.get("status") in ("ok", "skipped")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", nargs="+", default=["CartPole-v1"])
    ap.add_argument("--num-envs", nargs="+", type=int, default=[1000, 100000])
    ap.add_argument("--seconds", type=float, default=2.0, help="timed seconds per point")
    ap.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"], help="simkit's device")
    ap.add_argument("--libraries", default=",".join(PEERS), help="comma-separated subset of: " + ", ".join(PEERS))
    ap.add_argument("--output", help="CSV to append to (default results/compare_<device>_<time>.csv)")
    ap.add_argument("--resume", action="store_true", help="continue --output or the newest results/compare_*.csv")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    libs = [x.strip() for x in args.libraries.split(",") if x.strip()]
    unknown = [x for x in libs if x not in PEERS]
    if unknown or any(n < 1 for n in args.num_envs) or not args.seconds > 0:
        what = f"unknown libraries {unknown} (known: {', '.join(PEERS)})" if unknown else \
            "num-envs must be >= 1 and seconds > 0"
        print(f"compare.py: error: {what}", file=sys.stderr)
        return 2

    if args.resume:
        out = _resume_path(args.output)
        if out is None:
            print("compare.py: error: --resume found no results/compare_*.csv", file=sys.stderr)
            return 2
    else:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        out = Path(args.output) if args.output else ROOT / "results" / f"compare_{args.device}_{stamp}.csv"
    done = _done_points(out) if args.resume else set()

    points = [(lib, mode, dist, fn, env, n) for env in args.env for n in args.num_envs
              for lib, mode, dist, fn in ADAPTERS if lib in libs]
    todo = [p for p in points if (p[0], p[1], p[4], str(p[5])) not in done]
    if args.resume:
        print(f"resume: {len(points) - len(todo)} of {len(points)} points already in {out}")

    try:
        simkit_version = importlib.import_module("simkit").__version__
    except Exception:  # not installed: its rows say so
        simkit_version = _version("simkit")
    meta = {"git_commit": git_commit(), "simkit_version": simkit_version, "host": platform.node(),
            "cpu_model": cpu_model(), "cores": os.cpu_count()}
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = not out.exists() or out.stat().st_size == 0
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    bar = tqdm(todo, unit="point", dynamic_ncols=True) if tqdm else todo
    results = []
    with open(out, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        if fresh:
            w.writeheader()
            f.flush()
        for lib, mode, dist, fn, env, n in bar:
            if tqdm:
                bar.set_postfix_str(f"{lib} / {mode}, {env}, {n:,} envs")
            row = dict(meta, timestamp=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       library=lib, library_version=_version(dist), mode=mode, env=env, num_envs=n, device="",
                       steps="", seconds="", steps_per_s="", status="", note="")
            try:
                if n > MAX_ENVS.get((lib, mode), n):
                    raise Missing(f"skipped above {MAX_ENVS[(lib, mode)]:,} envs (a batch step takes too long)")
                steps, elapsed, device, note = fn(env, n, args.seconds, args.device)
                row.update(device=device, steps=steps, seconds=f"{elapsed:.4f}",
                           steps_per_s=f"{steps * n / elapsed:.6e}", status="ok", note=note)
            except Missing as e:
                row.update(status="skipped" if "skipped" in str(e) or "no adapter" in str(e) or "needs a simkit" in str(e)
                           else "missing", note=str(e))
            except KeyboardInterrupt:
                raise
            except Exception as e:  # a peer that installs but fails: report it, keep going
                row.update(status="failed", note=f"{type(e).__name__}: {e}".split("\n")[0][:300])
            w.writerow(row)
            f.flush()
            results.append(row)
            msg = f"{lib} / {mode}, {env}, {n:,} envs: " + (
                f"{float(row['steps_per_s']):.3e} steps/s" if row["status"] == "ok" else f"{row['status']}: {row['note']}")
            (tqdm.write if tqdm else print)(msg)

    print_ratio_table(out)
    print(f"results: {out}")
    return 0


def _ratio(x: float) -> str:
    return f"{x:,.0f}x" if x >= 100 else f"{x:.3g}x"


def print_ratio_table(path: Path) -> None:
    """simkit throughput (and step API) / each peer, per env and num_envs, from every ok row in path."""
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("status") == "ok"]
    by_point = {}
    for r in rows:
        by_point.setdefault((r["env"], int(r["num_envs"])), {})[(r["library"], r["mode"])] = float(r["steps_per_s"])
    print(f"\n{'env':<14} {'num_envs':>10} {'library / mode':<32} {'steps/s':>11} {'simkit thr / it':>16} {'simkit step / it':>17}")
    for (env, n), rates in sorted(by_point.items()):
        thr = rates.get(("simkit", "throughput"))
        stp = rates.get(("simkit", "step API"))
        for (lib, mode), v in sorted(rates.items(), key=lambda kv: -kv[1]):
            a = _ratio(thr / v) if thr else "-"
            b = _ratio(stp / v) if stp else "-"
            print(f"{env:<14} {n:>10,} {lib + ' / ' + mode:<32} {v:>11.3e} {a:>16} {b:>17}")


if __name__ == "__main__":
    sys.exit(main())
