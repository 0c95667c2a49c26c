"""Two interleaved half circles."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_moons

from metahebb.params import DataParams


def generate(n_per_class: tuple[int, int], params: DataParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return make_moons(n_samples=n_per_class, noise=params.noise, shuffle=True, random_state=seed)
