"""XOR: four clusters at the corners of a square, opposite corners sharing a class (no single
linear boundary separates them)."""

from __future__ import annotations

import numpy as np


def generate(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    corner = rng.integers(0, 4, n)
    signs = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)
    spread = rng.uniform(0.2, 0.5)
    z = signs[corner] + (spread + noise) * rng.standard_normal((n, 2))
    return z, (corner >= 2).astype(int)
