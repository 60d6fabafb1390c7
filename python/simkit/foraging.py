"""Foraging-v0 as a PettingZoo ``ParallelEnv``: one world of ``num_agents`` agents.

    from simkit import foraging
    env = foraging.parallel_env(num_agents=30)
    observations, infos = env.reset(seed=0)
    while env.agents:
        actions = {agent: env.action_space(agent).sample() for agent in env.agents}
        observations, rewards, terminations, truncations, infos = env.step(actions)

The world is one env of the engine (``make_vec("Foraging-v0", num_envs=1, num_agents=...)``, autoreset
disabled): agents that die (or every agent, at truncation) leave ``env.agents``; the episode is over
when none is left, and ``reset()`` starts the next one.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from pettingzoo import ParallelEnv

from simkit.vector import make_vec

ENV_ID = "Foraging-v0"


class ForagingParallelEnv(ParallelEnv):
    """One Foraging-v0 world with PettingZoo's parallel API (agents ``agent_0`` ... ``agent_{N-1}``)."""

    metadata = {"name": "simkit_foraging_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, num_agents: int = 30, seed: int | None = None, precision: str = "float32", **kwargs: Any):
        self._vec = make_vec(ENV_ID, num_envs=1, num_agents=num_agents, seed=seed, precision=precision,
                             autoreset_mode="disabled", device="cpu", threads=1, **kwargs)
        self.possible_agents = [f"agent_{i}" for i in range(self._vec.num_agents)]
        self._index = {agent: i for i, agent in enumerate(self.possible_agents)}
        self.agents: list[str] = []
        self.render_mode = None

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent: str):
        return self._vec.single_observation_space

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent: str):
        return self._vec.single_action_space

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Start an episode (options are accepted and ignored: the world has none)."""
        obs, _ = self._vec.reset(seed=seed)
        self.agents = list(self.possible_agents)
        return {agent: obs[i] for i, agent in enumerate(self.agents)}, {agent: {} for agent in self.agents}

    def step(self, actions: dict[str, Any]):
        """Step the agents alive; agents without an action stay where they are (action 0)."""
        if not self.agents:
            raise RuntimeError("step() with no agents left: call reset() to start an episode")
        unknown = set(actions) - set(self.agents)
        if unknown:
            raise ValueError(f"actions for agents that are not alive: {sorted(unknown)}")
        batch = np.zeros(len(self.possible_agents), dtype=np.int64)
        for agent, action in actions.items():
            batch[self._index[agent]] = int(action)
        obs, reward, terminated, truncated, _ = self._vec.step(batch)
        live = self.agents
        observations = {a: obs[self._index[a]] for a in live}
        rewards = {a: float(reward[self._index[a]]) for a in live}
        terminations = {a: bool(terminated[self._index[a]]) for a in live}
        truncations = {a: bool(truncated[self._index[a]]) for a in live}
        infos = {a: {} for a in live}
        self.agents = [a for a in live if not (terminations[a] or truncations[a])]
        return observations, rewards, terminations, truncations, infos

    def close(self):
        self._vec.close()


def parallel_env(num_agents: int = 30, **kwargs: Any) -> ForagingParallelEnv:
    """One Foraging-v0 world of ``num_agents`` agents as a PettingZoo ParallelEnv."""
    return ForagingParallelEnv(num_agents=num_agents, **kwargs)
