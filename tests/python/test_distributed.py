"""simkit.distributed: slices and seeding without MPI, and bit-identical statistics under
`mpirun -n 2` (skipped where mpirun or mpi4py is missing)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import simkit

CHECK = Path(__file__).resolve().parents[1] / "mpi" / "distributed_check.py"


def test_env_offset_draws_the_global_envs():
    whole = simkit.make_vec("CartPole-v1", 1024, device="cpu", seed=3)
    part = simkit.make_vec("CartPole-v1", 512, device="cpu", seed=3, env_offset=512, total_envs=1024)
    assert np.array_equal(whole.reset(seed=3)[0][512:], part.reset(seed=3)[0])


def test_env_offset_bounds_are_checked():
    with pytest.raises(ValueError, match="total_envs"):
        simkit.make_vec("CartPole-v1", 8, device="cpu", env_offset=4, total_envs=10)
    with pytest.raises(ValueError, match="env_offset"):
        simkit.make_vec("CartPole-v1", 8, device="cpu", env_offset=-1)


def test_rollout_statistics_carry_exact_partials():
    stats = simkit.make_vec("Pendulum-v1", 64, device="cpu", seed=1).rollout(steps=210)
    import math
    assert math.fsum(stats["return_partials"]) == stats["return_sum"]
    assert stats["mean_episode_return"] == stats["return_sum"] / stats["episodes"]


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="no mpirun")
def test_two_ranks_match_one_process():
    pytest.importorskip("mpi4py")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")
    proc = subprocess.run(["mpirun", "--oversubscribe", "-n", "2", sys.executable, str(CHECK)], capture_output=True,
                          text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "distributed: ok" in proc.stdout
