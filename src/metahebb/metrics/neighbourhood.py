"""Trustworthiness and continuity of a latent against the true 2D latents (Venna & Kaski 2001).

Why beside the EMD: the EMD is taken after PCA and a normalisation, so with `zscore` it cannot
see any invertible linear distortion, and a nearly linear autoencoder scores ~0 whatever it does.
These two ask whether neighbourhoods survive: trustworthiness penalises latent neighbours that
are far apart in the truth (a fold or a tear brings strangers together), continuity penalises true
neighbours pushed apart in the latent. Both are rank-based (no scaling or alignment to choose) and
lie in [0, 1], 1 = every `neighbours`-neighbourhood kept. scikit-learn's `trustworthiness`;
continuity is the same measure with the roles of the two spaces swapped.
"""

from __future__ import annotations

import numpy as np
from sklearn.manifold import trustworthiness

from metahebb.metrics.split import Split
from metahebb.params import EvaluateParams


def neighbourhood_scores(latent: np.ndarray, truth: np.ndarray, params: EvaluateParams) -> dict[str, float]:
    """On the EMD's subsample of test points; k = `evaluate.neighbours` (capped below N/2, as
    scikit-learn requires)."""
    if len(latent) > params.emd_points:
        keep = np.random.default_rng(params.seed).choice(len(latent), params.emd_points, replace=False)
        latent, truth = latent[keep], truth[keep]
    latent, truth = latent.astype(np.float64), truth.astype(np.float64)
    k = min(params.neighbours, (len(latent) - 1) // 2)
    return {
        "trustworthiness": float(trustworthiness(truth, latent, n_neighbors=k)),
        "continuity": float(trustworthiness(latent, truth, n_neighbors=k)),
    }


def metric(train: np.ndarray, test: np.ndarray, split: Split, params: EvaluateParams) -> dict[str, float]:
    return neighbourhood_scores(test, split.z_test, params)
