"""Earth Mover's Distance between a learned latent cloud and the true 2D latents.

A latent is defined only up to rotation, reflection and scale, so the raw EMD is meaningless.
Both clouds go through the same map (PCA to `latent_dim` components, then a normalisation),
the latent is rotated onto the truth by orthogonal Procrustes (the points correspond: they
are the same test points), and the exact EMD (POT's network simplex, uniform weights) is taken
under the chosen ground cost. Identical clouds score 0; rotating, reflecting or scaling the
latent changes nothing.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
from scipy.linalg import orthogonal_procrustes

from metahebb.metrics.split import Split
from metahebb.params import EvaluateParams


def pca(cloud: np.ndarray, dim: int) -> np.ndarray:
    """Coordinates on the top `dim` principal axes; zero-padded if the cloud has fewer dimensions."""
    centred = cloud - cloud.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ vt[:dim].T
    if coords.shape[1] < dim:
        coords = np.pad(coords, ((0, 0), (0, dim - coords.shape[1])))
    return coords


def normalise(cloud: np.ndarray, how: str) -> np.ndarray:
    """`zscore` per coordinate, `scale` by the RMS radius, or `none`; a dead axis stays at zero."""
    if how == "none":
        return cloud
    centred = cloud - cloud.mean(axis=0)
    if how == "zscore":
        std = centred.std(axis=0)
        return centred / np.where(std > 1e-12, std, 1.0)
    radius = np.sqrt((centred**2).sum(axis=1).mean())
    return centred / (radius if radius > 1e-12 else 1.0)


def align(latent: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The orthogonal map (rotation or reflection) that brings `latent` closest to `truth`."""
    rotation, _ = orthogonal_procrustes(latent, truth)
    return latent @ rotation


def emd(a: np.ndarray, b: np.ndarray, cost: str = "sqeuclidean", max_iter: int = 10_000_000) -> float:
    """Exact EMD between two equal-weight point clouds; an error if the solver stops early."""
    # POT's import loads torch as a backend (~1.5 s per stage) unless told not to; we pass numpy.
    os.environ.setdefault("POT_BACKEND_DISABLE_PYTORCH", "1")
    import ot

    ground = ot.dist(a, b, metric=cost)
    value, log = ot.emd2([], [], ground, numItermax=max_iter, log=True)
    if log["result_code"] != 1:
        raise RuntimeError(f"EMD solver did not converge ({log['warning']}); raise evaluate.emd_max_iter")
    return float(value)


def latent_emd(latent: np.ndarray, truth: np.ndarray, params: EvaluateParams) -> float:
    """The project's EMD: same points subsampled, both clouds mapped alike, latent aligned, exact EMD."""
    if len(latent) > params.emd_points:
        keep = np.random.default_rng(params.seed).choice(len(latent), params.emd_points, replace=False)
        latent, truth = latent[keep], truth[keep]
    return emd(*mapped_clouds(latent, truth, params), params.emd_cost, params.emd_max_iter)


def mapped_clouds(
    latent: np.ndarray, truth: np.ndarray, params: EvaluateParams
) -> tuple[np.ndarray, np.ndarray]:
    """Both clouds as the EMD sees them: PCA, normalised alike, the latent aligned onto the truth."""
    a = normalise(pca(latent.astype(np.float64), params.latent_dim), params.emd_normalise)
    b = normalise(pca(truth.astype(np.float64), params.latent_dim), params.emd_normalise)
    if params.emd_align == "procrustes":
        a = align(a, b)
    return a, b


def metric(train: np.ndarray, test: np.ndarray, split: Split, params: EvaluateParams) -> dict[str, float]:
    return {"emd": latent_emd(test, split.z_test, params)}


def scale_metric(
    train: np.ndarray, test: np.ndarray, split: Split, params: EvaluateParams
) -> dict[str, float]:
    """A second reading beside `evaluate.emd_normalise`: one overall scale per cloud (`scale`), which
    keeps the anisotropy a z-score removes, then the same alignment and cost."""
    return {"emd_scale": latent_emd(test, split.z_test, dataclasses.replace(params, emd_normalise="scale"))}
