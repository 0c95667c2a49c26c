from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from metahebb.metrics import Split
from metahebb.metrics.svm import balanced_draw, label_draws, svm_accuracy_vs_labels
from metahebb.params import EvaluateParams, load_group


@pytest.fixture
def params(repo):
    return load_group(EvaluateParams, "evaluate", repo / "params.yaml")


def test_draws_are_balanced_and_reproducible(params):
    y = np.array([0] * 70 + [1] * 30)
    for n in (2, 8, 32):
        draws = label_draws(y, n, params.svm_draws, params.seed)
        assert len(draws) == params.svm_draws
        for idx in draws:
            assert len(np.unique(idx)) == n
            assert (y[idx] == 0).sum() == n // 2
        again = label_draws(y, n, params.svm_draws, params.seed)
        for a, b in zip(draws, again, strict=True):
            np.testing.assert_array_equal(a, b)
    assert len({tuple(d) for d in label_draws(y, 8, params.svm_draws, params.seed)}) > 1


def test_odd_count_and_too_many():
    y = np.array([0] * 5 + [1] * 5)
    idx = balanced_draw(y, 3, np.random.default_rng(0))
    assert sorted(np.bincount(y[idx], minlength=2)) == [1, 2]
    with pytest.raises(ValueError, match="class 1"):
        balanced_draw(np.array([0] * 9 + [1]), 4, np.random.default_rng(0))


def test_all_is_one_draw_of_every_point(params):
    y = np.array([0, 1] * 10)
    (idx,) = label_draws(y, "all", params.svm_draws, params.seed)
    np.testing.assert_array_equal(idx, np.arange(20))


def test_accuracy_on_separable_data(params):
    rng = np.random.default_rng(0)
    y_train, y_test = rng.integers(0, 2, 200), rng.integers(0, 2, 100)
    train = rng.normal(size=(200, 3)) + 4 * y_train[:, None]
    test = rng.normal(size=(100, 3)) + 4 * y_test[:, None]
    split = Split(y_train, y_test, np.zeros((200, 2)), np.zeros((100, 2)))
    small = dataclasses.replace(params, svm_labels=[2, 32, "all"], svm_draws=3)
    acc = svm_accuracy_vs_labels(train, test, split, small)
    assert set(acc) == {"n2", "n32", "nall"}
    assert acc["nall"] > 0.97 and acc["n32"] > 0.95 and 0.5 <= acc["n2"] <= 1.0
