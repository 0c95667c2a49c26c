"""The one file format every model writes its representations in, so `evaluate` reads any model.

A latents file holds `seeds` (S,) and, for each named view v (a layer or a concatenation of
layers), `v.train` (S, N_train, H_v) and `v.test` (S, N_test, H_v), in the dataset's split order.
The first view is the model's primary latent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from metahebb.artifacts import ArtifactError, check_arrays, load_arrays, regenerate, save_arrays

Views = dict[str, tuple[np.ndarray, np.ndarray]]


def save_latents(path: str | Path, views: Views, seeds: list[int] | np.ndarray) -> Path:
    """Write `views` ({name: (train, test)}) for `seeds`, each array shaped (S, N, H)."""
    seeds = np.asarray(seeds, dtype=np.int64)
    arrays: dict[str, np.ndarray] = {"seeds": seeds, "views": np.array(list(views), dtype=str)}
    for name, (train, test) in views.items():
        for split, a in (("train", train), ("test", test)):
            a = np.asarray(a, dtype=np.float32)
            if a.ndim != 3 or a.shape[0] != len(seeds):
                raise ValueError(f"view {name}.{split}: expected shape (S={len(seeds)}, N, H), got {a.shape}")
            arrays[f"{name}.{split}"] = a
    return save_arrays(path, **arrays)


def load_latents(path: str | Path) -> tuple[Views, np.ndarray]:
    """Views and seeds of a latents file, checked to be complete and finite."""
    arrays = load_arrays(path, required=("seeds", "views"))
    keys = tuple(f"{v}.{s}" for v in arrays["views"].tolist() for s in ("train", "test"))
    check_arrays(path, arrays, keys)
    views = {v: (arrays[f"{v}.train"], arrays[f"{v}.test"]) for v in arrays["views"].tolist()}
    if not views:
        raise ArtifactError(f"{path}: holds no views; {regenerate(path)}")
    return views, arrays["seeds"]
