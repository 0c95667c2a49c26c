"""What meta-training may see: the training points of each dataset, and labels of a validation part.

Every outer optimiser reads the same `MetaData`. Inner networks learn from the unlabelled inner
part; a rule is scored on the validation part, whose labels only the label objectives read. The
test points never enter (`training_points` drops them, labels included), so no choice of outer
optimiser or objective can fit the test set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from metahebb.plasticity import standardise
from metahebb.runtime import generator


@dataclass(frozen=True)
class MetaData:
    """Standardised training inputs (N, n) and their labels (N,), per meta-training dataset."""

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]

    def subset(self, datasets: list[str]) -> MetaData:
        return MetaData({d: self.x[d] for d in datasets}, {d: self.y[d] for d in datasets})


def training_points(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A dataset file's training points, standardised with their own statistics, and their labels."""
    train = ~arrays["is_test"]
    return standardise(arrays["x"], arrays["is_test"])[train], arrays["y"][train]


def load_meta_data(datasets: list[str]) -> MetaData:
    """The training points and labels of each dataset file `data/datasets/<name>.npz`, as every
    stage that meta-trains reads them (test points and their labels never enter)."""
    from metahebb.artifacts import load_arrays

    x, y = {}, {}
    for ds in datasets:
        x[ds], y[ds] = training_points(load_arrays(f"data/datasets/{ds}.npz", required=("x", "y", "is_test")))
    return MetaData(x, y)


def validation_split(n: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (inner, validation) of n training points; the validation part is round(fraction n) points."""
    order = torch.randperm(n, generator=generator(seed))
    n_val = round(fraction * n)
    return order[n_val:], order[:n_val]


@dataclass(frozen=True)
class SplitData:
    """Tensors of the inner and validation parts of every dataset, in `MetaData`'s order."""

    inner: list[torch.Tensor]
    val_x: list[torch.Tensor]
    val_y: list[torch.Tensor]


def split_data(data: MetaData, fraction: float, seed: int) -> SplitData:
    inner, val_x, val_y = [], [], []
    for d, x in data.x.items():
        i, v = validation_split(len(x), fraction, seed)
        x, y = torch.from_numpy(x), torch.from_numpy(data.y[d]).long()
        inner.append(x[i])
        val_x.append(x[v])
        val_y.append(y[v])
    return SplitData(inner, val_x, val_y)


class Tasks(Protocol):
    """What the `es` optimiser can meta-train on: SplitData per call, fixed or freshly drawn."""

    def draw(self, gen: torch.Generator) -> SplitData: ...


@dataclass(frozen=True)
class FixedTasks:
    """The meta-training datasets' split, the same at every call (draws nothing from `gen`)."""

    parts: SplitData

    def draw(self, gen: torch.Generator) -> SplitData:
        return self.parts
