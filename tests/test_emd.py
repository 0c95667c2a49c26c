from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from metahebb.metrics.emd import emd, latent_emd
from metahebb.params import EvaluateParams, load_group


@pytest.fixture
def params(repo):
    return load_group(EvaluateParams, "evaluate", repo / "params.yaml")


@pytest.fixture
def moons():
    from sklearn.datasets import make_moons

    z, _ = make_moons(300, noise=0.05, random_state=0)
    return z


def test_identical_clouds_score_zero(moons, params):
    assert latent_emd(moons, moons, params) == pytest.approx(0.0, abs=1e-9)


def test_invariant_to_rotation_reflection_scale_and_shift(moons, params):
    theta = 0.7
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    reflect = np.diag([1.0, -1.0])
    moved = 3.5 * moons @ rotation @ reflect + np.array([4.0, -2.0])
    assert latent_emd(moved, moons, params) == pytest.approx(0.0, abs=1e-9)


def test_high_dimensional_latent_is_reduced_by_pca(moons, params):
    embedding = np.random.default_rng(0).standard_normal((2, 32))
    assert latent_emd(moons @ embedding, moons, params) == pytest.approx(0.0, abs=1e-9)


def test_known_value_for_a_shifted_cloud(moons, params):
    raw = dataclasses.replace(params, emd_normalise="none", emd_align="none")
    shift = np.array([0.3, -0.4])
    # PCA recentres both clouds, so compare the raw EMD directly: translation is the optimal plan
    assert emd(moons, moons + shift, "sqeuclidean") == pytest.approx(0.25, rel=1e-6)
    assert emd(moons, moons + shift, "euclidean") == pytest.approx(0.5, rel=1e-6)
    assert latent_emd(moons + shift, moons, raw) == pytest.approx(0.0, abs=1e-9)


def test_a_distorted_latent_scores_worse_than_a_linear_one(moons, params):
    noisy = moons + np.random.default_rng(1).normal(scale=0.3, size=moons.shape)
    squashed = np.tanh(3 * moons)
    assert latent_emd(noisy, moons, params) > 0.01
    assert latent_emd(squashed, moons, params) > 0.01


@pytest.mark.filterwarnings("ignore:numItermax reached")
def test_solver_iteration_limit_is_an_error_not_a_silent_value(moons):
    with pytest.raises(RuntimeError, match="emd_max_iter"):
        emd(moons, moons[::-1] + 1.0, max_iter=10)


def test_neighbourhoods_kept_score_one_and_a_shuffle_scores_less(params):
    from metahebb.metrics.neighbourhood import neighbourhood_scores

    rng = np.random.default_rng(0)
    truth = rng.normal(size=(120, 2))
    params = dataclasses.replace(params, emd_points=100, neighbours=5)
    kept = neighbourhood_scores(truth @ np.array([[0.0, 3.0], [-3.0, 0.0]]), truth, params)  # rotated, scaled
    assert kept["trustworthiness"] == pytest.approx(1.0) and kept["continuity"] == pytest.approx(1.0)
    squashed = neighbourhood_scores(truth @ np.array([[3.0, 1.0], [0.0, 0.2]]), truth, params)
    assert squashed["trustworthiness"] < 0.95  # unlike the z-scored EMD, it sees an anisotropic map
    lost = neighbourhood_scores(rng.permutation(truth), truth, params)
    assert lost["trustworthiness"] < 0.7 and lost["continuity"] < 0.7


def test_the_scale_reading_sees_anisotropy_the_zscore_removes(params):
    from metahebb.metrics.emd import latent_emd

    rng = np.random.default_rng(1)
    truth = rng.normal(size=(200, 2))
    squashed = truth * np.array([1.0, 0.1])
    zscore = dataclasses.replace(params, emd_normalise="zscore")
    scale = dataclasses.replace(params, emd_normalise="scale")
    assert latent_emd(squashed, truth, zscore) == pytest.approx(0.0, abs=1e-6)
    assert latent_emd(squashed, truth, scale) > 0.1
