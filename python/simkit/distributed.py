"""simkit under mpirun, on mpi4py: each rank steps its slice of the envs, seeded by global env index,
and statistics meet at rank 0 exactly as one process would have computed them.

    from simkit import distributed
    env = distributed.make_vec("CartPole-v1", num_envs=1_000_000, seed=0)  # this rank's slice
    stats = distributed.reduce_stats(env.rollout(steps=500))            # dict at rank 0, None elsewhere

Every collective here waits at most ``timeout`` seconds (a non-blocking barrier polled first), so a
rank that died or runs something else stops the job with a message instead of hanging it.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

from simkit import _core
from simkit._checks import check_float, check_int
from simkit.vector import SimkitVectorEnv

DEFAULT_TIMEOUT = 300.0
TIMEOUT_EXIT_CODE = 3
SHARD_ALIGN = _core.SHARD_ALIGN  # slices start on multiples of this (whole CPU tiles)


def _world(comm):
    if comm is not None:
        return comm
    from mpi4py import MPI

    return MPI.COMM_WORLD


def shard(num_envs: int, comm=None) -> tuple[int, int]:
    """``(env_offset, count)`` of this rank's slice of ``num_envs`` envs (count may be 0 when there are
    fewer blocks of SHARD_ALIGN envs than ranks). ValueError when there are more ranks than envs."""
    comm = _world(comm)
    num_envs = check_int("num_envs", num_envs, 1, _core.MAX_ENVS)
    if num_envs < comm.Get_size():
        raise ValueError(f"num_envs={num_envs} is smaller than the {comm.Get_size()} ranks: every rank needs an env")
    return tuple(_core.shard_envs(num_envs, comm.Get_rank(), comm.Get_size()))


def make_vec(env_id: str, num_envs: int, comm=None, **kwargs: Any) -> SimkitVectorEnv:
    """This rank's slice of ``num_envs`` envs of ``env_id`` in total (``simkit.make_vec``'s other
    arguments apply). Raises ValueError on a rank whose slice is empty: use fewer ranks or more envs."""
    offset, count = shard(num_envs, comm)
    if count == 0:
        raise ValueError(f"num_envs={num_envs} leaves this rank without a block of {SHARD_ALIGN} envs; "
                         f"use at least {SHARD_ALIGN} envs per rank")
    return SimkitVectorEnv(env_id, count, env_offset=offset, total_envs=num_envs, **kwargs)


def barrier(comm=None, timeout: float = DEFAULT_TIMEOUT, what: str = "a barrier") -> None:
    """MPI barrier that gives up after ``timeout`` seconds: prints which rank waited where, then aborts
    every rank with exit code 3."""
    comm = _world(comm)
    timeout = check_float("timeout", timeout, 0, low_open=True)
    request = comm.Ibarrier()
    deadline = time.monotonic() + timeout
    while not request.Test():
        if time.monotonic() > deadline:
            print(f"simkit.distributed: error: rank {comm.Get_rank()}: timed out after {timeout:g} s waiting for "
                  f"the other ranks at {what} (a rank died, hangs, or runs something else)", file=sys.stderr, flush=True)
            comm.Abort(TIMEOUT_EXIT_CODE)
        time.sleep(0.0005)


def reduce_stats(stats: dict, comm=None, root: int = 0, timeout: float = DEFAULT_TIMEOUT) -> dict | None:
    """Every rank's ``rollout()`` statistics merged at ``root`` in rank order (None on other ranks).

    Counts add; the return sums merge exactly (math.fsum over every rank's exact partials, rounded
    once), so ``mean_episode_return`` is bit for bit the value of one process over all the envs.
    """
    comm = _world(comm)
    barrier(comm, timeout, "reduce_stats")  # everyone is there: the gather below cannot hang
    parts = comm.gather({k: stats[k] for k in ("steps", "episodes", "length_sum", "return_partials",
                                                "return_special")}, root=root)
    if comm.Get_rank() != root:
        return None
    episodes = sum(p["episodes"] for p in parts)
    length_sum = sum(p["length_sum"] for p in parts)
    special = math.fsum(p["return_special"] for p in parts)
    partials = [x for p in parts for x in p["return_partials"]]
    return_sum = special if special != 0 or math.isnan(special) else math.fsum(partials)
    return {
        "steps": sum(p["steps"] for p in parts),
        "episodes": episodes,
        "length_sum": length_sum,
        "return_sum": return_sum,
        "mean_episode_length": length_sum / episodes if episodes else 0.0,
        "mean_episode_return": return_sum / episodes if episodes else 0.0,
        "ranks": comm.Get_size(),
    }
