"""simkit: millions of reinforcement-learning environments stepped at once, on every CPU core or a GPU.

    import simkit
    env = simkit.make_vec("CartPole-v1", num_envs=1_000_000)   # a gymnasium.vector.VectorEnv
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

The envs are also registered with Gymnasium: ``gymnasium.make_vec("simkit/CartPole-v1", num_envs=8)``.
"""

from simkit import _core, qlearning
from simkit.api import devices, list_envs, memory_plan, simd_targets, throughput
from simkit.vector import SimkitVectorEnv, make_vec
from simkit.registration import register_gymnasium_envs

__version__ = _core.version()
__all__ = [
    "SimkitVectorEnv",
    "devices",
    "list_envs",
    "make_vec",
    "memory_plan",
    "qlearning",
    "simd_targets",
    "throughput",
]

register_gymnasium_envs()
