"""The one file format every model writes its representations in, so `evaluate` reads any model.

A latents file holds `seeds` (S,) and, for each named view v (a layer or a concatenation of
layers), `v.train` (S, N_train, H_v) and `v.test` (S, N_test, H_v), in the dataset's split order.
The first view is the model's primary latent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from metahebb.artifact_schemas import latents_schema
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


def load_latents(
    path: str | Path, split: tuple[int, int] | None = None, views: tuple[str, ...] = ()
) -> tuple[Views, np.ndarray]:
    """Views and seeds of a latents file, checked to be complete, finite and of one shape; with
    `split` (n_train, n_test), of the dataset's split sizes; holding the named `views`."""
    arrays = load_arrays(path, required=("seeds", "views"), schema=latents_schema([]))
    names = arrays["views"].tolist()
    keys = (*(f"{v}.{s}" for v in names for s in ("train", "test")), *(f"{v}.train" for v in views))
    check_arrays(path, arrays, keys, latents_schema(names, split))
    if not names:
        raise ArtifactError(f"{path}: holds no views; {regenerate(path)}")
    return {v: (arrays[f"{v}.train"], arrays[f"{v}.test"]) for v in names}, arrays["seeds"]
