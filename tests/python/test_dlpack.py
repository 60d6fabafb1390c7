# SPDX-License-Identifier: Apache-2.0
"""The __dlpack__ protocol of simkit's exported buffers (array API standard 2023.12).

The argument handling is the same code for host and device buffers, so it is checked here on a host
array (``_core.DeviceArray.over_host``) with numpy as the consumer. The CUDA tests need a GPU and
torch or cupy; they skip otherwise (compiled, not run on a machine without a GPU).
"""
import ctypes

import numpy as np
import pytest

import simkit
from simkit import _core

_capsule_is_valid = ctypes.pythonapi.PyCapsule_IsValid
_capsule_is_valid.restype = ctypes.c_int
_capsule_is_valid.argtypes = [ctypes.py_object, ctypes.c_char_p]


def host(a):
    return _core.DeviceArray.over_host(a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int32, np.uint8, np.bool_])
def test_numpy_reads_a_host_export_in_place(dtype):
    a = (np.arange(12).reshape(3, 4) % 2).astype(dtype)
    b = np.from_dlpack(host(a))
    np.testing.assert_array_equal(b, a)
    assert b.dtype == a.dtype and b.shape == (3, 4)
    assert np.shares_memory(a, b)


def test_device_and_capsule_versions():
    x = host(np.zeros(3, dtype=np.float32))
    assert x.__dlpack_device__() == (1, 0)
    assert _capsule_is_valid(x.__dlpack__(), b"dltensor") == 1  # no max_version: the v0.x ABI
    assert _capsule_is_valid(x.__dlpack__(max_version=(0, 8)), b"dltensor") == 1
    assert _capsule_is_valid(x.__dlpack__(max_version=(1, 0)), b"dltensor_versioned") == 1
    assert _capsule_is_valid(x.__dlpack__(max_version=(1, 2), dl_device=(1, 0), copy=False),
                             b"dltensor_versioned") == 1


def test_refusals_name_the_argument():
    x = host(np.zeros(3, dtype=np.float32))
    with pytest.raises(BufferError, match="copy=True"):
        x.__dlpack__(copy=True)
    with pytest.raises(BufferError, match="dl_device"):
        x.__dlpack__(dl_device=(2, 0))
    with pytest.raises(ValueError, match="stream"):
        x.__dlpack__(stream=1)  # host arrays take stream=None only
    with pytest.raises(TypeError):
        x.__dlpack__(None)  # stream is keyword-only
    with pytest.raises(ValueError, match="C-contiguous"):
        host(np.zeros((4, 4), dtype=np.float32)[:, ::2])


def test_the_export_keeps_its_owner_alive():
    x = host(np.arange(5, dtype=np.int32))
    y = np.from_dlpack(x)
    del x
    np.testing.assert_array_equal(y, np.arange(5, dtype=np.int32))


def _gpu_consumer():
    status = _core.cuda_status()
    if not status["usable"]:
        pytest.skip(f"no usable CUDA device ({status['reason']})")
    for name in ("torch", "cupy"):
        try:
            return __import__(name)
        except ImportError:
            continue
    pytest.skip("neither torch nor cupy can be imported")


def test_cuda_exports_only_written_buffers_on_the_right_device():
    lib = _gpu_consumer()
    env = simkit.make_vec("CartPole-v1", 64, device="cuda", copy=False)
    obs, _ = env.reset(seed=1)
    out = env.dlpack_outputs()
    assert set(out) == {"obs"}  # reset wrote no rewards or flags
    obs, reward, terminated, truncated, _ = env.step(np.ones(64, dtype=np.int64))
    out = env.dlpack_outputs()
    assert set(out) == {"obs", "reward", "terminated", "truncated"}
    device = out["obs"].__dlpack_device__()
    assert device[0] == 2
    if lib.__name__ == "torch":
        stream = lib.cuda.Stream()
        with lib.cuda.stream(stream):
            t = lib.from_dlpack(out["obs"])  # passes its stream: it waits on simkit's event
        assert t.device.index == device[1]
        np.testing.assert_array_equal(t.cpu().numpy(), obs)
        np.testing.assert_array_equal(lib.from_dlpack(out["reward"]).cpu().numpy(), reward)
    else:
        np.testing.assert_array_equal(lib.asnumpy(lib.from_dlpack(out["obs"])), obs)
        np.testing.assert_array_equal(lib.asnumpy(lib.from_dlpack(out["terminated"])), terminated)
    with pytest.raises(ValueError, match="stream"):
        out["obs"].__dlpack__(stream=0)
