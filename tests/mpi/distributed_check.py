"""Run under mpirun by tests/python/test_distributed.py: every rank steps its slice through
simkit.distributed; rank 0 checks the reduced statistics and the gathered observations against one
process over all the envs, bit for bit. Prints "distributed: ok" on success, exits 1 otherwise."""

import sys

import numpy as np
from mpi4py import MPI

import simkit
from simkit import distributed

comm = MPI.COMM_WORLD
failures = []
for env_id in ("Pendulum-v1", "CartPole-v1"):
    kwargs = dict(device="cpu", threads=1, precision="float64" if env_id == "Pendulum-v1" else "float32")
    total = 1300  # three blocks of SHARD_ALIGN: slices of unequal size
    env = distributed.make_vec(env_id, total, seed=11, **kwargs)
    obs, _ = env.reset(seed=11)
    stats = distributed.reduce_stats(env.rollout(steps=230, chunk=8))
    actions = np.zeros(env.num_envs, dtype=env.single_action_space.dtype)
    step_obs = env.step(actions if env_id == "CartPole-v1" else actions.reshape(-1, 1))[0]
    gathered = comm.gather((obs, step_obs), root=0)
    if comm.Get_rank() == 0:
        ref = simkit.make_vec(env_id, total, seed=11, **kwargs)
        ref_obs, _ = ref.reset(seed=11)
        ref_stats = ref.rollout(steps=230, chunk=8)
        ref_actions = np.zeros(total, dtype=ref.single_action_space.dtype)
        ref_step = ref.step(ref_actions if env_id == "CartPole-v1" else ref_actions.reshape(-1, 1))[0]
        for key in ("steps", "episodes", "length_sum", "mean_episode_length", "mean_episode_return"):
            if stats[key] != ref_stats[key]:
                failures.append(f"{env_id} {key}: {stats[key]!r} vs one process {ref_stats[key]!r}")
        if not np.array_equal(np.concatenate([g[0] for g in gathered]), ref_obs):
            failures.append(f"{env_id}: reset observations differ from one process")
        if not np.array_equal(np.concatenate([g[1] for g in gathered]), ref_step):
            failures.append(f"{env_id}: step observations differ from one process")
        if stats["ranks"] != comm.Get_size():
            failures.append(f"ranks {stats['ranks']}")
verdict = comm.bcast(1 if failures else 0, root=0)
if comm.Get_rank() == 0:
    print("\n".join(failures) or "distributed: ok", flush=True)
sys.exit(verdict)
