"""Two concentric circles: the case where a latent must keep the radial structure."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_circles

from metahebb.params import DataParams


def generate(n_per_class: tuple[int, int], params: DataParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # scikit-learn orders the tuple as (outer, inner) = (class 0, class 1)
    return make_circles(
        n_samples=n_per_class,
        noise=params.noise,
        factor=params.circles_factor,
        shuffle=True,
        random_state=seed,
    )
