"""Module-level functions: the registry, devices, the memory planner and throughput runs."""

from __future__ import annotations

import difflib

from simkit import _core
from simkit._checks import check_choice, check_float, check_int


_MAX_U64 = 2**64 - 1
_DEVICES = ("auto", "cpu", "cuda")
_PRECISIONS = ("float32", "float64")


def list_envs() -> list[str]:
    """Ids of every registered environment, e.g. ``["CartPole-v1", "Pendulum-v1", ...]``."""
    return list(_core.env_ids())


def check_env_id(env_id: str) -> None:
    """Raise ValueError naming the closest registered ids when ``env_id`` is unknown."""
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a str, got {type(env_id).__name__}")
    known = list_envs()
    if env_id in known:
        return
    close = difflib.get_close_matches(env_id, known, n=3, cutoff=0.4)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown env_id {env_id!r}.{hint} Registered: {', '.join(known)}")


def simd_targets() -> list[str]:
    """The CPU kernels' SIMD targets this machine runs, narrowest first (e.g. ``["scalar", "avx2", "avx512"]``).

    The widest is used unless the ``SIMKIT_SIMD`` environment variable names another one.
    """
    return list(_core.simd_targets())


def devices() -> list[dict]:
    """The CPU and every usable CUDA device, with memory and versions."""
    return list(_core.devices())


def throughput(
    env_id: str = "CartPole-v1",
    num_envs: int = 1_000_000,
    chunk: int = 32,
    steps: int = 0,
    seconds: float = 2.0,
    device: str = "auto",
    precision: str = "float32",
    threads: int = 0,
    seed: int = 0,
    warmup: int = 64,
    repeat: int = 3,
) -> dict:
    """Steps per second of the built-in random policy (the same measurement as the ``throughput`` CLI).

    Returns the CSV row as a dict (``steps_per_s``, ``mean_episode_length``, machine and build metadata).
    ``steps=0`` runs each repeat for ``seconds``. ``seed`` is fixed by default, as in the CLI, so repeated
    measurements run the same trajectories and their sanity figures agree.
    """
    check_env_id(env_id)
    return dict(
        _core.throughput(env_id, check_int("num_envs", num_envs, 1, _core.MAX_ENVS),
                         check_int("chunk", chunk, 1, _core.MAX_CHUNK), check_int("steps", steps, 0, _MAX_U64),
                         check_float("seconds", seconds, 0, low_open=True), check_choice("device", device, _DEVICES),
                         check_choice("precision", precision, _PRECISIONS),
                         check_int("threads", threads, 0, _core.MAX_THREADS), check_int("seed", seed, 0, _MAX_U64),
                         check_int("warmup", warmup, 0, _MAX_U64), check_int("repeat", repeat, 1, _core.MAX_REPEAT))
    )


def memory_plan(
    env_id: str = "CartPole-v1",
    num_envs: int = 1_000_000,
    chunk: int = 32,
    mode: str = "statistics",
    device: str = "auto",
    precision: str = "float32",
    free_bytes: int | None = None,
) -> dict:
    """What the planner decides for a run: bytes needed, bytes usable, batches (or why it refuses).

    ``mode``: ``"statistics"`` or ``"trajectory"`` (throughput rollouts), or ``"step_api"`` (a
    ``make_vec`` env stepped from Python, with its copies and spaces: what ``make_vec`` checks).
    ``free_bytes`` overrides the free memory of the device, to ask "what if" questions.
    """
    check_env_id(env_id)
    return dict(_core.memory_plan(
        env_id, check_int("num_envs", num_envs, 1, 2**63 - 1), check_int("chunk", chunk, 1, _core.MAX_CHUNK),
        check_choice("mode", mode, ("statistics", "trajectory", "step_api")), check_choice("device", device, _DEVICES),
        check_choice("precision", precision, _PRECISIONS),
        None if free_bytes is None else check_int("free_bytes", free_bytes, 0, _MAX_U64)))
