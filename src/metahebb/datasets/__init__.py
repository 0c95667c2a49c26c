"""Two-class 2D datasets, projected to `ambient_dim` by one fixed seeded random matrix.

A dataset is one file (`circles.py`, ...) defining `generate(n_per_class, params, seed)`
that returns the true 2D latents and labels; registering it here is the only other step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from metahebb.datasets import blobs, circles, moons
from metahebb.params import DataParams

Generator = Callable[[tuple[int, int], DataParams, int], tuple[np.ndarray, np.ndarray]]

GENERATORS: dict[str, Generator] = {
    "circles": circles.generate,
    "moons": moons.generate,
    "blobs": blobs.generate,
}


@dataclass(frozen=True)
class Dataset:
    """Inputs `x` (N, ambient_dim), true latents `z` (N, 2), labels `y` (N,), and the split."""

    x: np.ndarray
    z: np.ndarray
    y: np.ndarray
    is_test: np.ndarray
    projection: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        return {"x": self.x, "z": self.z, "y": self.y, "is_test": self.is_test, "projection": self.projection}


def projection_matrix(ambient_dim: int, seed: int) -> np.ndarray:
    """The fixed (2, ambient_dim) Gaussian map shared by every dataset; rank 2 almost surely."""
    return np.random.default_rng(seed).standard_normal((2, ambient_dim))


def class_sizes(n_samples: int, class_balance: float) -> tuple[int, int]:
    n0 = int(round(n_samples * class_balance))
    return n0, n_samples - n0


def test_mask(n_samples: int, test_fraction: float, seed: int) -> np.ndarray:
    """A seeded random split; the same seed gives the same test points."""
    n_test = int(round(n_samples * test_fraction))
    order = np.random.default_rng(seed).permutation(n_samples)
    mask = np.zeros(n_samples, dtype=bool)
    mask[order[:n_test]] = True
    return mask


def make_dataset(name: str, params: DataParams) -> Dataset:
    z, y = GENERATORS[name](class_sizes(params.n_samples, params.class_balance), params, params.seed)
    projection = projection_matrix(params.ambient_dim, params.projection_seed)
    split_seed = params.seed + 1  # distinct stream from the generator's
    return Dataset(
        x=(z @ projection).astype(np.float32),
        z=z.astype(np.float32),
        y=y.astype(np.int64),
        is_test=test_mask(params.n_samples, params.test_fraction, split_seed),
        projection=projection.astype(np.float32),
    )
