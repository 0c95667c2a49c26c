"""Failures the library reports and `stage.run` turns into one line: divergence of a training run."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported only by the stages that train something
    import torch


class DivergenceError(RuntimeError):
    """NaN or infinity in weights or losses; the message names the step, dataset and seed."""


def nonfinite_members(*tensors: torch.Tensor) -> list[int]:
    """Indices along the leading (population) dimension where any tensor holds NaN or infinity."""
    import torch

    bad = torch.zeros(tensors[0].shape[0], dtype=torch.bool, device=tensors[0].device)
    for t in tensors:
        bad |= ~torch.isfinite(t).reshape(t.shape[0], -1).all(dim=1)
    return torch.nonzero(bad).flatten().tolist() if bad.any() else []
