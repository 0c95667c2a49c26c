"""scikit-learn's bundled 8x8 digits: a target no rule was meta-trained on (1797 images, 10 classes).

It ships with scikit-learn, so nothing is downloaded. Unlike the 2D datasets it has no true
latent, so no EMD can be taken on it. Pixels are z-scored with the training points' statistics
(a pixel that never varies stays 0). `raw` keeps the 64 pixels; `projected` maps them through a
seeded Gaussian (64, ambient_dim) matrix and z-scores again, so digits enter a network with as
many inputs as the 2D datasets do.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits

from metahebb.datasets import test_mask
from metahebb.params import DataParams

INPUTS = ("raw", "projected")


def zscore(x: np.ndarray, is_test: np.ndarray) -> np.ndarray:
    mean, std = x[~is_test].mean(axis=0), x[~is_test].std(axis=0)
    return (x - mean) / np.where(std > 0, std, 1.0)


def digits_projection(ambient_dim: int, seed: int) -> np.ndarray:
    """The fixed (64, ambient_dim) Gaussian map, scaled so each output starts with the input's variance."""
    return np.random.default_rng([seed, 64]).standard_normal((64, ambient_dim)) / np.sqrt(64)


def load(params: DataParams, inputs: str) -> dict[str, np.ndarray]:
    """`x` (1797, 64 or ambient_dim), labels `y` 0..9, the seeded split `is_test` (and `projection`)."""
    if inputs not in INPUTS:
        raise ValueError(f"digits inputs {inputs!r}: accepted values are {', '.join(INPUTS)}")
    digits = load_digits()
    y = digits.target.astype(np.int64)
    is_test = test_mask(len(y), params.test_fraction, params.seed)
    x = zscore(digits.data, is_test)
    arrays = {"y": y, "is_test": is_test}
    if inputs == "projected":
        projection = digits_projection(params.ambient_dim, params.projection_seed)
        x = zscore(x @ projection, is_test)
        arrays["projection"] = projection.astype(np.float32)
    return {"x": x.astype(np.float32), **arrays}
