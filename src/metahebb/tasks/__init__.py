"""A distribution of generated two-class tasks to meta-train on, disjoint from the test tasks.

A rule meta-trained on circles, moons and blobs can learn those three generators (issue 15: the
few-label rules lost their wins on a held-out dataset). Here every CMA-ES generation draws
`tasks.per_generation` fresh tasks: a family (one file here: `generate(rng, n, noise) -> (z, y)`,
plus one line in `FAMILIES`), a random rotation of its 2D latents, and a random projection to
`data.ambient_dim` that is linear or, for a fraction `tasks.nonlinear` of tasks, a random
one-hidden-layer tanh map. Circles, moons, blobs and digits are never among them: they stay pure
test tasks, judged like every other rule of the study.

Every task is standardised with its own statistics (as `meta_data.training_points` does) and
split into an inner, unlabelled part and a validation part (`meta_train.validation_fraction`),
the only part whose labels the label objectives read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from metahebb.meta_data import SplitData
from metahebb.tasks import mixture, sine, spirals, xor

Family = Callable[[np.random.Generator, int, float], tuple[np.ndarray, np.ndarray]]

FAMILIES: dict[str, Family] = {
    "mixture": mixture.generate,
    "xor": xor.generate,
    "spirals": spirals.generate,
    "sine": sine.generate,
}


def project(z: np.ndarray, dim: int, nonlinear: bool, rng: np.random.Generator) -> np.ndarray:
    """The 2D latents (standardised) mapped to `dim` inputs: a Gaussian matrix, or tanh of one
    followed by another (smooth, generically injective, and not a linear image of the latents)."""
    if not nonlinear:
        return z @ rng.standard_normal((2, dim))
    hidden = np.tanh(1.5 * z @ rng.standard_normal((2, dim)) + rng.uniform(-1.0, 1.0, dim))
    return hidden @ (rng.standard_normal((dim, dim)) / np.sqrt(dim))


def sample_task(
    family: str, n: int, dim: int, noise: float, nonlinear: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One task: standardised inputs (n, dim) float32 and labels (n,) in {0, 1}, in random order."""
    z, y = FAMILIES[family](rng, n, noise * rng.uniform(0.0, 1.0))
    angle = rng.uniform(0.0, 2 * np.pi)
    z = z @ np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    x = project(z, dim, nonlinear, rng)
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order].astype(np.int64)


@dataclass(frozen=True)
class TaskDistribution:
    """Draws fresh tasks for each call; what the `es` optimiser reads in place of `MetaData`."""

    families: tuple[str, ...]
    per_draw: int  # tasks per draw (per CMA-ES generation)
    n_samples: int
    dim: int
    noise: float  # the largest noise; each task draws its own up to it
    nonlinear: float  # probability that a task's projection is non-linear
    validation_fraction: float

    def sample(self, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
        """`per_draw` tasks (x, y), families drawn uniformly with replacement."""
        tasks = []
        for _ in range(self.per_draw):
            family = self.families[int(rng.integers(len(self.families)))]
            tasks.append(
                sample_task(family, self.n_samples, self.dim, self.noise, rng.random() < self.nonlinear, rng)
            )
        return tasks

    def draw(self, gen: torch.Generator) -> SplitData:
        """Fresh tasks seeded from `gen` (so a run is reproducible from its ES seed), split into
        inner and validation parts; every task has the same sizes."""
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=gen)))
        n_val = round(self.validation_fraction * self.n_samples)
        inner, val_x, val_y = [], [], []
        for x, y in self.sample(rng):
            x, y = torch.from_numpy(x), torch.from_numpy(y)
            inner.append(x[n_val:])
            val_x.append(x[:n_val])
            val_y.append(y[:n_val])
        return SplitData(inner, val_x, val_y)


__all__ = ["FAMILIES", "TaskDistribution", "project", "sample_task"]
