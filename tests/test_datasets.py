from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from metahebb.datasets import GENERATORS, make_dataset
from metahebb.params import DataParams, load_group


@pytest.fixture
def params(repo):
    return dataclasses.replace(load_group(DataParams, "data", repo / "params.yaml"), n_samples=200)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_shapes_labels_and_split(name, params):
    data = make_dataset(name, params)
    n = params.n_samples
    assert data.x.shape == (n, params.ambient_dim) and data.z.shape == (n, 2)
    assert set(np.unique(data.y)) == {0, 1}
    assert (data.y == 0).sum() == round(n * params.class_balance)
    assert data.is_test.sum() == round(n * params.test_fraction)
    np.testing.assert_allclose(data.x, data.z @ data.projection, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_same_seed_same_data_other_seed_other_data(name, params):
    a, b = make_dataset(name, params), make_dataset(name, params)
    for key, value in a.arrays().items():
        np.testing.assert_array_equal(value, b.arrays()[key])
    c = make_dataset(name, dataclasses.replace(params, seed=params.seed + 1))
    assert not np.array_equal(a.z, c.z) and not np.array_equal(a.is_test, c.is_test)


def test_projection_has_rank_two_and_is_shared(params):
    circles, moons = make_dataset("circles", params), make_dataset("moons", params)
    assert np.linalg.matrix_rank(circles.projection) == 2
    np.testing.assert_array_equal(circles.projection, moons.projection)
    assert np.linalg.matrix_rank(circles.x) == 2


def test_class_balance_is_respected(params):
    data = make_dataset("blobs", dataclasses.replace(params, class_balance=0.25))
    assert (data.y == 0).sum() == 50
