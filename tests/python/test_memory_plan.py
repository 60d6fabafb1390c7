"""The memory planner against what runs really take: make_vec's step-API plan covers the measured peak,
and limits other than free RAM (RLIMIT_AS here; cgroups in the C++ suite) make it refuse in time."""

from __future__ import annotations

import subprocess
import sys

import pytest

import simkit

PEAK = """
import sys, simkit
env_id, precision, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def rss(key):
    return next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith(key))
warm = simkit.make_vec(env_id, num_envs=64, device="cpu", precision=precision)  # code and threads first
warm.reset(seed=0); warm.step(warm.action_space.sample()); del warm
open("/proc/self/clear_refs", "w").write("5")  # the peak starts again from here
base = rss("VmRSS:")
env = simkit.make_vec(env_id, num_envs=n, device="cpu", precision=precision)
out = env.reset(seed=0)
for _ in range(2):
    out = env.step(env.action_space.sample())
print(rss("VmHWM:") - base)
"""


def run_limited(code: str, kilobytes: int, *args: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter whose address space is limited (ulimit -v), so that a planner
    that approved too much fails inside the limit instead of taking the machine's memory."""
    script = f"ulimit -v {kilobytes}; exec \"$0\" -c \"$1\" \"${{@:2}}\""
    return subprocess.run(["bash", "-c", script, sys.executable, code, *args], capture_output=True, text=True)


@pytest.mark.parametrize("env_id,precision", [("CartPole-v1", "float32"), ("CartPole-v1", "float64"),
                                              ("Acrobot-v1", "float32"), ("TicTacToe-v0", "float32")])
def test_step_api_plan_covers_the_measured_peak(env_id, precision):
    n = 10**6
    done = run_limited(PEAK, 8_000_000, env_id, precision, str(n))
    assert done.returncode == 0, done.stderr
    measured = int(done.stdout)
    planned = simkit.memory_plan(env_id, num_envs=n, mode="step_api", device="cpu", precision=precision)
    print(f"\n{env_id} {precision}: planned {planned['needed_bytes'] / n:.0f} B/env, measured {measured / n:.0f}")
    assert measured <= planned["needed_bytes"] <= 1.3 * measured


def test_make_vec_refuses_what_the_address_space_limit_cannot_hold():
    # 4e7 CartPoles: about 1 GB for the engine alone (the old plan), 6.4 GB stepped from Python
    done = run_limited("import simkit; simkit.make_vec('CartPole-v1', num_envs=40_000_000, device='cpu')", 4_000_000)
    assert "ValueError: num_envs=40000000: needs 6." in done.stderr, done.stderr
    assert "are usable" in done.stderr


def test_qlearning_checks_its_memory_first():
    done = run_limited("import simkit; simkit.qlearning.train(num_envs=2**31, rounds=1)", 8_000_000)
    assert "ValueError: num_envs=2147483648: needs 57.98 GB" in done.stderr, done.stderr


def test_memory_plan_refuses_huge_env_counts_without_overflow():
    for n in (2**32, 2**62, 2**63 - 1):
        plan = simkit.memory_plan("CartPole-v1", num_envs=n, device="cpu")
        assert not plan["fits"] and plan["num_batches"] == 0 and plan["batch_envs"] == 0
        assert plan["needed_bytes"] >= min(26 * n, 2**64 - 1)
        assert "below 2^32" in plan["message"]
