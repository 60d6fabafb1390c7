"""Tabular Q-learning on TicTacToe-v0, trained by the engine over many envs in lockstep.

    from simkit import qlearning
    result = qlearning.train(num_envs=4096, rounds=600, seed=7)
    result.evaluate(games=100_000)      # {'win_rate': ..., 'draw_rate': ..., 'loss_rate': ...}
    result.save("q.npy")                # numpy .npy, shape (19683, 9), float32

The state index is the base-3 number of the board (cell 0 most significant). Each round every env
takes one epsilon-greedy step; the round's updates Q += alpha (r + gamma (1 - done) max Q(s') - Q)
are applied in env order, so the table does not depend on the thread count. alpha and epsilon
decay by their factors once per round down to their floors (dist_classicrl's schedule).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from simkit import _core
from simkit._checks import check_float, check_int


@dataclass
class QResult:
    trainer: _core.QTrainer = field(repr=False)
    seconds: float
    history: list[dict]

    @property
    def table(self) -> np.ndarray:
        """The Q table, shape (19683, 9), float32."""
        return self.trainer.table()

    def evaluate(self, games: int = 100_000, seed: int = 1) -> dict:
        """The greedy policy against the uniformly random opponent (one game per env index, so at most
        2**32 - 1 games)."""
        games = check_int("games", games, 1, _core.MAX_ENVS)
        return dict(self.trainer.evaluate(games, check_int("seed", seed, 0, 2**64 - 1)))

    def save(self, path: str) -> None:
        np.save(path, self.table)


def train(
    num_envs: int = 4096,
    rounds: int = 600,
    seed: int = 0,
    threads: int = 0,
    gamma: float = 0.99,
    alpha: float = 0.1,
    alpha_decay: float = 0.995,
    alpha_min: float = 1e-5,
    epsilon: float = 1.0,
    epsilon_decay: float = 0.995,
    epsilon_min: float = 0.01,
    eval_every: int = 0,
    eval_games: int = 10_000,
    table: np.ndarray | None = None,
) -> QResult:
    """Train for ``rounds`` rounds of ``num_envs`` steps; with ``eval_every`` > 0 the greedy policy is
    evaluated every that many rounds and the history (round, env_steps, steps/s, epsilon, alpha, rates)
    is returned with the result. ``table`` continues from a saved table (e.g. ``np.load``). ``seed`` is
    fixed by default, as in the ``qlearn`` CLI, so a benchmark trains the same table every run."""
    num_envs = check_int("num_envs", num_envs, 1, _core.MAX_ENVS)
    rounds = check_int("rounds", rounds, 0, 2**64 - 1)
    eval_every = check_int("eval_every", eval_every, 0, 2**64 - 1)
    eval_games = check_int("eval_games", eval_games, 1, _core.MAX_ENVS)
    # Rates and factors are fractions (dist_classicrl's schedule), each in [0, 1].
    trainer = _core.QTrainer(
        num_envs, check_int("seed", seed, 0, 2**64 - 1), check_int("threads", threads, 0, _core.MAX_THREADS),
        check_float("gamma", gamma, 0, 1), check_float("alpha", alpha, 0, 1),
        check_float("alpha_decay", alpha_decay, 0, 1), check_float("alpha_min", alpha_min, 0, 1),
        check_float("epsilon", epsilon, 0, 1), check_float("epsilon_decay", epsilon_decay, 0, 1),
        check_float("epsilon_min", epsilon_min, 0, 1))
    if table is not None:
        trainer.set_table(np.asarray(table, dtype=np.float32))
    history = []
    start = time.perf_counter()
    done = 0
    while done < rounds:
        block = rounds - done if eval_every == 0 else min(eval_every, rounds - done)
        t0 = time.perf_counter()
        trainer.train(block)
        elapsed = time.perf_counter() - t0
        done += block
        if eval_every:
            row = {"round": done, "env_steps": trainer.env_steps, "steps_per_s": block * num_envs / elapsed,
                   "epsilon": trainer.epsilon, "alpha": trainer.alpha}
            row.update(trainer.evaluate(eval_games, 1))
            history.append(row)
    return QResult(trainer, time.perf_counter() - start, history)
