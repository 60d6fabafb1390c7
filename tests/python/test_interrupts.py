"""Ctrl-C stops long engine calls: they run in pieces and check for signals between them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

LONG_CALLS = {
    "throughput by time": "simkit.throughput('CartPole-v1', num_envs=10**5, seconds=600, device='cpu')",
    "throughput by steps": "simkit.throughput('CartPole-v1', num_envs=10**5, steps=10**12, device='cpu')",
    "rollout": "e = simkit.make_vec('CartPole-v1', num_envs=1000, device='cpu'); e.reset(seed=0); e.rollout(10**12)",
    "q-learning": "simkit.qlearning.train(num_envs=64, rounds=10**12)",
}


@pytest.mark.parametrize("call", LONG_CALLS.values(), ids=LONG_CALLS.keys())
def test_ctrl_c_stops_a_long_call(call):
    child = subprocess.Popen([sys.executable, "-c", f"import simkit; print('started', flush=True); {call}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "started"
    time.sleep(0.5)  # inside the call
    child.send_signal(signal.SIGINT)
    try:
        _, err = child.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        pytest.fail(f"{call} ignored Ctrl-C")
    assert "KeyboardInterrupt" in err
