"""Two interleaved spirals with a random number of turns (1-2) and radial noise."""

from __future__ import annotations

import numpy as np


def generate(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    turns = rng.uniform(1.0, 2.0)
    t = np.sqrt(rng.uniform(0.05, 1.0, n)) * turns * 2 * np.pi  # uniform density along the arm
    angle = t + np.pi * y
    z = t[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1) / (turns * 2 * np.pi)
    return z + (0.03 + noise) * rng.standard_normal((n, 2)), y
