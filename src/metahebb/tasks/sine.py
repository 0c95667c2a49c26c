"""A sine boundary: points uniform in a box, the class says which side of y = a sin(b x + c)
they lie on (random amplitude, frequency and phase)."""

from __future__ import annotations

import numpy as np


def generate(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    a, b, c = rng.uniform(0.3, 1.0), rng.uniform(1.0, 3.0), rng.uniform(0.0, 2 * np.pi)
    z = rng.uniform(-1.5, 1.5, (n, 2))
    y = (z[:, 1] > a * np.sin(b * z[:, 0] + c)).astype(int)
    return z + noise * rng.standard_normal((n, 2)), y
