"""The shared entry point of `stages/*.py`: logging, and one-line errors instead of tracebacks."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from metahebb import validate
from metahebb.artifacts import ArtifactError
from metahebb.params import ParamError

if TYPE_CHECKING:  # torch is imported only by the stages that use it
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


def run(main: Callable[[list[str]], None]) -> None:
    """Validate the whole params file, then call `main(argv)`; report expected failures as one line
    on stderr and exit 2, before anything is written when the params are bad."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        validate.check("params.yaml")  # every group and the cross-group checks, in milliseconds
        main(sys.argv[1:])
    except (ParamError, ArtifactError, DivergenceError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
