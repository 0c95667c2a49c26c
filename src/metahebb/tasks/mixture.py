"""Multi-modal Gaussian mixtures: 3-6 modes with random centres and covariances, each mode given
to a class at random (both classes have at least one), so a class can be several separate blobs."""

from __future__ import annotations

import numpy as np


def generate(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    modes = int(rng.integers(3, 7))
    centres = rng.uniform(-3.0, 3.0, (modes, 2))
    classes = np.concatenate([[0, 1], rng.integers(0, 2, modes - 2)])
    mode = rng.integers(0, modes, n)
    angle = rng.uniform(0.0, np.pi, modes)
    rotation = np.stack([np.cos(angle), -np.sin(angle), np.sin(angle), np.cos(angle)], axis=1).reshape(
        -1, 2, 2
    )
    scales = rng.uniform(0.2, 0.8, (modes, 2))
    offsets = np.einsum("nij,nj->ni", rotation[mode], rng.standard_normal((n, 2)) * scales[mode])
    z = centres[mode] + offsets + noise * rng.standard_normal((n, 2))
    return z, classes[mode]
