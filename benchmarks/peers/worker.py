"""One measurement of one library, in the interpreter that has it; prints one JSON line on stdout.

    <venv>/bin/python benchmarks/peers/worker.py --library gymnax --mode "jit(vmap)+scan" \\
        --env CartPole-v1 --num-envs 1000 --seconds 2 [--chunk 32] [--seed 0]

The line holds status ("ok", "skipped", "missing", "failed"), library, library_version, api
("throughput": the library steps many times per call, no Python per step; "step API": one batch step
per call from Python, actions drawn with numpy each step), mode, env, num_envs, device, batch_steps,
env_steps, seconds (the timed window), steps_per_s, setup_seconds (construction, compilation,
warm-up) and note. Every policy is uniform random over CartPole's two actions (GeneCircuit's too).

This file runs under every peer's interpreter (Python 3.10+) and imports a library only inside the
function that measures it, so compare.py can read MEASUREMENTS without any peer installed.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable

# Building this many separate Python envs takes minutes and gigabytes, so these modes stop there.
PYTHON_ENV_CAP = 100_000


class Unavailable(Exception):
    """The library cannot run this point (not installed, env not offered, too large); status says which."""

    def __init__(self, status: str, note: str):
        super().__init__(note)
        self.status = status


@dataclass(frozen=True)
class Measurement:
    library: str
    mode: str
    api: str  # "throughput" or "step API"
    venv: str | None  # the peer venv under .peers/ (None: the main .venv)
    envs: dict  # env id (simkit's) -> the library's own env name
    dist: str  # distribution whose version is reported
    run: Callable  # (env_name, num_envs, seconds, chunk, seed) -> dict


def timed_loop(step: Callable[[], None], seconds: float, warmup: int = 2) -> tuple[int, float, float]:
    """Calls step() `warmup` times, then for at least `seconds` (and at least once).
    Returns (timed calls, timed seconds, warm-up seconds)."""
    t0 = time.perf_counter()
    for _ in range(warmup):
        step()
    t1 = time.perf_counter()
    calls = 0
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - t1
        if elapsed >= seconds:
            return calls, elapsed, t1 - t0


def import_or_missing(module: str):
    try:
        return __import__(module, fromlist=["_"])
    except Exception as e:  # ImportError, or a broken install raising something else
        raise Unavailable("missing", f"cannot import {module}: {type(e).__name__}: {e}".split("\n")[0]) from None


def cap_python_envs(num_envs: int) -> None:
    if num_envs > PYTHON_ENV_CAP:
        raise Unavailable("skipped", f"not run above {PYTHON_ENV_CAP:,} envs: one Python object per env "
                                     f"(minutes to build, ~GBs of memory)")


def result(batch_steps: int, num_envs: int, seconds: float, setup: float, device: str, note: str) -> dict:
    return {"batch_steps": batch_steps, "env_steps": batch_steps * num_envs, "seconds": seconds,
            "steps_per_s": batch_steps * num_envs / seconds, "setup_seconds": setup, "device": device, "note": note}


# ---- simkit and Gymnasium (main .venv) --------------------------------------------------------------

def simkit_throughput(env, n, seconds, chunk, seed):
    simkit = import_or_missing("simkit")
    t0 = time.perf_counter()
    r = simkit.throughput(env, num_envs=n, chunk=chunk, seconds=seconds, device="cpu", seed=seed, repeat=1)
    out = result(int(r["env_steps"]) // n, n, float(r["seconds"]), time.perf_counter() - t0 - float(r["seconds"]),
                 r["device"], f"simkit.throughput, chunk {chunk}, built-in random policy, {r['threads']} threads")
    out["steps_per_s"] = float(r["steps_per_s"])  # the engine's own count (whole chunks)
    return out


def simkit_step(env, n, seconds, chunk, seed):
    simkit = import_or_missing("simkit")
    np = import_or_missing("numpy")
    t0 = time.perf_counter()
    venv = simkit.make_vec(env, n, device="cpu", seed=seed)
    venv.reset(seed=seed)
    rng = np.random.default_rng(seed)
    calls, elapsed, warm = timed_loop(lambda: venv.step(rng.integers(0, 2, n, dtype=np.int32)), seconds)
    return result(calls, n, elapsed, time.perf_counter() - t0 - elapsed, str(venv.device), "make_vec(...).step")


def gym_serial(env, n, seconds, chunk, seed):
    cap_python_envs(n)
    gym = import_or_missing("gymnasium")
    t0 = time.perf_counter()
    envs = [gym.make(env) for _ in range(n)]
    for i, e in enumerate(envs):
        e.reset(seed=seed + i)
        e.action_space.seed(seed + i)

    def step():
        for e in envs:
            _, _, terminated, truncated, _ = e.step(e.action_space.sample())
            if terminated or truncated:
                e.reset()

    calls, elapsed, _ = timed_loop(step, seconds, warmup=1)
    return result(calls, n, elapsed, time.perf_counter() - t0 - elapsed, "cpu", "Python loop over gym.make envs")


def gym_sync(env, n, seconds, chunk, seed):
    cap_python_envs(n)
    gym = import_or_missing("gymnasium")
    np = import_or_missing("numpy")
    t0 = time.perf_counter()
    venv = gym.vector.SyncVectorEnv([lambda: gym.make(env) for _ in range(n)])
    venv.reset(seed=seed)
    rng = np.random.default_rng(seed)
    calls, elapsed, _ = timed_loop(lambda: venv.step(rng.integers(0, 2, n)), seconds, warmup=1)
    return result(calls, n, elapsed, time.perf_counter() - t0 - elapsed, "cpu", "gymnasium.vector.SyncVectorEnv")


def gym_numpy(env, n, seconds, chunk, seed):
    import_or_missing("gymnasium")
    np = import_or_missing("numpy")
    from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

    t0 = time.perf_counter()
    venv = CartPoleVectorEnv(num_envs=n)
    venv.reset(seed=seed)
    rng = np.random.default_rng(seed)
    calls, elapsed, _ = timed_loop(lambda: venv.step(rng.integers(0, 2, n)), seconds)
    return result(calls, n, elapsed, time.perf_counter() - t0 - elapsed, "cpu", "numpy CartPoleVectorEnv")


# ---- JAX peers: gymnax and Myriad --------------------------------------------------------------------

def jax_device(jax) -> str:
    d = jax.devices()[0]
    return f"{d.platform} ({os.cpu_count()} cores)"


def gymnax_parts(env):
    gymnax = import_or_missing("gymnax")
    jax = import_or_missing("jax")
    genv, params = gymnax.make(env)
    return jax, genv, params


def gymnax_scan(env, n, seconds, chunk, seed):
    jax, genv, params = gymnax_parts(env)
    t0 = time.perf_counter()
    _, state = jax.vmap(genv.reset, in_axes=(0, None))(jax.random.split(jax.random.PRNGKey(seed), n), params)
    step = jax.vmap(genv.step, in_axes=(0, 0, 0, None))  # gymnax's step resets ended episodes itself

    def one(carry, _):
        key, state = carry
        key, k_act, k_step = jax.random.split(key, 3)
        actions = jax.random.randint(k_act, (n,), 0, 2)
        _, state, reward, *_ = step(jax.random.split(k_step, n), state, actions, params)  # then flags, info
        return (key, state), reward.sum()

    run = jax.jit(lambda carry: jax.lax.scan(one, carry, None, length=chunk))
    carry = [(jax.random.PRNGKey(seed + 1), state)]

    def call():
        carry[0], rewards = run(carry[0])
        rewards.block_until_ready()

    calls, elapsed, _ = timed_loop(call, seconds, warmup=1)  # the first call compiles and runs
    return result(calls * chunk, n, elapsed, time.perf_counter() - t0 - elapsed, jax_device(jax),
                  f"jit(lax.scan of {chunk} vmapped steps), actions drawn inside; jax {jax.__version__}")


def gymnax_step(env, n, seconds, chunk, seed):
    jax, genv, params = gymnax_parts(env)
    np = import_or_missing("numpy")
    t0 = time.perf_counter()
    _, state = jax.vmap(genv.reset, in_axes=(0, None))(jax.random.split(jax.random.PRNGKey(seed), n), params)

    @jax.jit
    def step(key, state, actions):
        key, k_step = jax.random.split(key)
        obs, state, reward, *_ = jax.vmap(genv.step, in_axes=(0, 0, 0, None))(  # then flags, info
            jax.random.split(k_step, n), state, actions, params)
        return key, state, obs, reward

    rng = np.random.default_rng(seed)
    carry = [jax.random.PRNGKey(seed + 1), state]

    def call():
        carry[0], carry[1], obs, _ = step(carry[0], carry[1], rng.integers(0, 2, n, dtype=np.int32))
        obs.block_until_ready()

    calls, elapsed, _ = timed_loop(call, seconds)
    return result(calls, n, elapsed, time.perf_counter() - t0 - elapsed, jax_device(jax),
                  f"jitted vmapped step called from Python, numpy actions; jax {jax.__version__}")


def myriad_parts(env):
    import_or_missing("myriad")
    jax = import_or_missing("jax")
    from myriad.envs import make_env

    menv = make_env(env)
    reset = jax.vmap(menv.reset, in_axes=(0, None, None))
    step = jax.vmap(menv.step, in_axes=(0, 0, 0, None, None))

    def autoreset_step(key, state, actions):
        """Myriad's envs do not reset themselves: its training loop steps, resets, and selects by done."""
        n = actions.shape[0]
        k_step, k_reset = jax.random.split(key)
        obs, next_state, reward, done, _ = step(jax.random.split(k_step, n), state, actions, menv.params, menv.config)
        _, fresh = reset(jax.random.split(k_reset, n), menv.params, menv.config)
        ended = done.astype(bool)

        def pick(new, old):
            return jax.numpy.where(ended.reshape(ended.shape + (1,) * (new.ndim - 1)), new, old)

        return jax.tree_util.tree_map(pick, fresh, next_state), obs, reward

    return jax, menv, reset, autoreset_step


def myriad_scan(env, n, seconds, chunk, seed):
    jax, menv, reset, autoreset_step = myriad_parts(env)
    t0 = time.perf_counter()
    _, state = reset(jax.random.split(jax.random.PRNGKey(seed), n), menv.params, menv.config)

    def one(carry, _):
        key, state = carry
        key, k_act, k_step = jax.random.split(key, 3)
        state, _, reward = autoreset_step(k_step, state, jax.random.randint(k_act, (n,), 0, 2))
        return (key, state), reward.sum()

    run = jax.jit(lambda carry: jax.lax.scan(one, carry, None, length=chunk))
    carry = [(jax.random.PRNGKey(seed + 1), state)]

    def call():
        carry[0], rewards = run(carry[0])
        rewards.block_until_ready()

    calls, elapsed, _ = timed_loop(call, seconds, warmup=1)  # the first call compiles and runs
    return result(calls * chunk, n, elapsed, time.perf_counter() - t0 - elapsed, jax_device(jax),
                  f"jit(lax.scan of {chunk} vmapped steps + masked reset, as Myriad's trainer); jax {jax.__version__}")


def myriad_step(env, n, seconds, chunk, seed):
    jax, menv, reset, autoreset_step = myriad_parts(env)
    np = import_or_missing("numpy")
    t0 = time.perf_counter()
    _, state = reset(jax.random.split(jax.random.PRNGKey(seed), n), menv.params, menv.config)

    @jax.jit
    def step(key, state, actions):
        key, k_step = jax.random.split(key)
        state, obs, reward = autoreset_step(k_step, state, actions)
        return key, state, reward

    rng = np.random.default_rng(seed)
    carry = [jax.random.PRNGKey(seed + 1), state]

    def call():
        carry[0], carry[1], reward = step(carry[0], carry[1], rng.integers(0, 2, n, dtype=np.int32))
        reward.block_until_ready()

    calls, elapsed, _ = timed_loop(call, seconds)
    return result(calls, n, elapsed, time.perf_counter() - t0 - elapsed, jax_device(jax),
                  f"jitted vmapped step + masked reset called from Python; jax {jax.__version__}")


# ---- EnvPool and PufferLib ---------------------------------------------------------------------------

def envpool_step(env, n, seconds, chunk, seed):
    envpool = import_or_missing("envpool")
    np = import_or_missing("numpy")
    t0 = time.perf_counter()
    venv = envpool.make(env, env_type="gymnasium", num_envs=n, seed=seed)
    venv.reset()
    rng = np.random.default_rng(seed)
    calls, elapsed, _ = timed_loop(lambda: venv.step(rng.integers(0, 2, n, dtype=np.int32)), seconds)
    return result(calls, n, elapsed, time.perf_counter() - t0 - elapsed, "cpu",
                  "envpool.make(..., env_type='gymnasium'), synchronous, default thread pool")


def pufferlib_env(n, seed):
    import_or_missing("pufferlib")
    from pufferlib.ocean.cartpole.cartpole import Cartpole

    venv = Cartpole(num_envs=n, seed=seed)
    venv.reset(seed=seed)
    return venv


PUFFER_NOTE = "PufferLib Ocean's C CartPole (its episode limit is 200 steps, Gymnasium's 500)"


def pufferlib_vec_step(env, n, seconds, chunk, seed):
    np = import_or_missing("numpy")
    t0 = time.perf_counter()
    venv = pufferlib_env(n, seed)
    from pufferlib.ocean.cartpole import binding

    # Pre-drawn actions, as PufferLib's own test_performance does; 16 batches bound the memory at 1e6 envs.
    cache = np.random.default_rng(seed).integers(0, 2, (16, n)).astype(np.float32)
    tick = [0]

    def call():
        np.copyto(venv.actions, cache[tick[0] % 16])
        binding.vec_step(venv.c_envs)
        tick[0] += 1

    calls, elapsed, _ = timed_loop(call, seconds)
    return result(calls, n, elapsed, time.perf_counter() - t0 - elapsed, "cpu (1 thread)",
                  PUFFER_NOTE + "; binding.vec_step on pre-drawn actions")


def pufferlib_step(env, n, seconds, chunk, seed):
    np = import_or_missing("numpy")
    t0 = time.perf_counter()
    venv = pufferlib_env(n, seed)
    rng = np.random.default_rng(seed)
    calls, elapsed, _ = timed_loop(lambda: venv.step(rng.integers(0, 2, n)), seconds)
    return result(calls, n, elapsed, time.perf_counter() - t0 - elapsed, "cpu (1 thread)", PUFFER_NOTE + "; env.step")


CARTPOLE = {"CartPole-v1": "CartPole-v1"}
MEASUREMENTS = [
    Measurement("simkit", "rollout", "throughput", None, {"CartPole-v1": "CartPole-v1",
                                                           "GeneCircuit-v0": "GeneCircuit-v0"}, "simkit",
                simkit_throughput),
    Measurement("simkit", "env.step", "step API", None, {"CartPole-v1": "CartPole-v1",
                                                         "GeneCircuit-v0": "GeneCircuit-v0"}, "simkit", simkit_step),
    Measurement("gymnasium", "serial", "step API", None, CARTPOLE, "gymnasium", gym_serial),
    Measurement("gymnasium", "SyncVectorEnv", "step API", None, CARTPOLE, "gymnasium", gym_sync),
    Measurement("gymnasium", "numpy vector env", "step API", None, CARTPOLE, "gymnasium", gym_numpy),
    Measurement("gymnax", "jit(vmap)+scan", "throughput", "gymnax", CARTPOLE, "gymnax", gymnax_scan),
    Measurement("gymnax", "jitted step", "step API", "gymnax", CARTPOLE, "gymnax", gymnax_step),
    Measurement("envpool", "sync", "step API", "envpool", CARTPOLE, "envpool", envpool_step),
    Measurement("pufferlib", "vec_step", "throughput", "pufferlib", {"CartPole-v1": "Cartpole"}, "pufferlib",
                pufferlib_vec_step),
    Measurement("pufferlib", "env.step", "step API", "pufferlib", {"CartPole-v1": "Cartpole"}, "pufferlib",
                pufferlib_step),
    Measurement("myriad", "jit(vmap)+scan", "throughput", "myriad", {"CartPole-v1": "cartpole-control",
                                                                     "GeneCircuit-v0": "ccasr-gfp-control"},
                "myriad-jax", myriad_scan),
    Measurement("myriad", "jitted step", "step API", "myriad", {"CartPole-v1": "cartpole-control",
                                                                "GeneCircuit-v0": "ccasr-gfp-control"},
                "myriad-jax", myriad_step),
]


def find(library: str, mode: str) -> Measurement:
    for m in MEASUREMENTS:
        if (m.library, m.mode) == (library, mode):
            return m
    known = ", ".join(f"{m.library}/{m.mode}" for m in MEASUREMENTS)
    raise ValueError(f"--library/--mode: no measurement {library}/{mode} (known: {known})")


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return ""


def measure(library: str, mode: str, env: str, num_envs: int, seconds: float, chunk: int, seed: int) -> dict:
    m = find(library, mode)
    row = {"library": library, "mode": mode, "api": m.api, "env": env, "num_envs": num_envs,
           "library_version": version(m.dist)}
    try:
        if env not in m.envs:
            raise Unavailable("skipped", f"{library} has no {env}")
        row.update(m.run(m.envs[env], num_envs, seconds, chunk, seed), status="ok")
    except Unavailable as e:
        row.update(status=e.status, note=str(e))
    except Exception as e:  # a peer that installs but fails at this point: report it
        row.update(status="failed", note=f"{type(e).__name__}: {e}".split("\n")[0][:300])
    # simkit runs from its build tree and PufferLib from its sdist: no installed distribution to ask
    row["library_version"] = row["library_version"] or str(getattr(sys.modules.get(m.library), "__version__", ""))
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--library", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--env", default="CartPole-v1")
    ap.add_argument("--num-envs", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=2.0, help="timed window (after construction and warm-up)")
    ap.add_argument("--chunk", type=int, default=32, help="steps per call in throughput mode")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.num_envs < 1 or args.chunk < 1 or not args.seconds > 0:
        ap.error("--num-envs and --chunk must be >= 1 and --seconds > 0")
    try:
        find(args.library, args.mode)
    except ValueError as e:
        ap.error(str(e))
    row = measure(args.library, args.mode, args.env, args.num_envs, args.seconds, args.chunk, args.seed)
    sys.stdout.flush()
    print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
