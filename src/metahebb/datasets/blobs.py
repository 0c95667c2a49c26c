"""Two isotropic Gaussian blobs `blobs_distance` apart on a diagonal."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_blobs

from metahebb.params import DataParams


def generate(n_per_class: tuple[int, int], params: DataParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    half = params.blobs_distance / (2 * np.sqrt(2))
    centers = np.array([[-half, -half], [half, half]])
    z, y = make_blobs(
        n_samples=list(n_per_class),
        centers=centers,
        cluster_std=params.blobs_std,
        shuffle=True,
        random_state=seed,
    )
    return z, y
