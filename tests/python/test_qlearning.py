"""simkit.qlearning from Python: training, evaluation, the saved table and its reuse. (The C++ suite
checks the learning itself: the greedy policy wins >= 90% and loses < 1% of 100,000 games.)"""

import numpy as np
import pytest

from simkit import qlearning


def test_train_evaluate_save_and_continue(tmp_path):
    result = qlearning.train(num_envs=1024, rounds=60, seed=3, threads=1, eval_every=30, eval_games=2000)
    assert [row["round"] for row in result.history] == [30, 60]
    assert result.history[-1]["env_steps"] == 60 * 1024
    assert result.history[-1]["epsilon"] == pytest.approx(0.995 ** 60, rel=1e-4)
    rates = result.evaluate(games=5000)
    assert rates["win_rate"] + rates["draw_rate"] + rates["loss_rate"] == pytest.approx(1.0)
    assert result.table.shape == (19683, 9) and result.table.dtype == np.float32
    path = tmp_path / "q.npy"
    result.save(str(path))
    table = np.load(path)
    assert np.array_equal(table, result.table)
    again = qlearning.train(num_envs=1024, rounds=0, table=table)
    assert np.array_equal(again.table, table)
    assert again.evaluate(games=5000) == rates  # same table, same evaluation seed


def test_training_is_reproducible_across_threads():
    one = qlearning.train(num_envs=512, rounds=20, seed=9, threads=1)
    two = qlearning.train(num_envs=512, rounds=20, seed=9, threads=2)
    assert np.array_equal(one.table, two.table)


@pytest.mark.parametrize("kwargs", [{"rounds": -1}, {"eval_every": -1}, {"num_envs": 0}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        qlearning.train(**kwargs)


def test_bad_table_shape_raises():
    with pytest.raises(ValueError, match="table"):
        qlearning.train(num_envs=16, rounds=0, table=np.zeros((3, 3), dtype=np.float32))
