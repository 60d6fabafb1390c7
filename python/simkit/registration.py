"""Registration with Gymnasium, so ``gymnasium.make_vec("simkit/<Id>", num_envs=...)`` works."""

from __future__ import annotations

import functools

import gymnasium

from simkit import _core


def _make_vec_entry(env_id: str, num_envs: int = 1, **kwargs):
    from simkit.vector import make_vec

    return make_vec(env_id, num_envs=num_envs, **kwargs)


def _single_env_unsupported(env_id: str, **_):
    raise gymnasium.error.Error(
        f"simkit/{env_id} is a vector environment: use gymnasium.make_vec('simkit/{env_id}', num_envs=...)"
    )


def register_gymnasium_envs() -> None:
    for env_id in _core.env_ids():
        gym_id = f"simkit/{env_id}"
        if gym_id in gymnasium.registry:
            continue
        info = _core.describe_env(env_id, "float32")
        gymnasium.register(
            id=gym_id,
            entry_point=functools.partial(_single_env_unsupported, env_id),
            vector_entry_point=functools.partial(_make_vec_entry, env_id),
            max_episode_steps=info["max_episode_steps"] or None,
        )
