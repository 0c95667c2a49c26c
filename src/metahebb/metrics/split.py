"""What a metric may know about the data beside the latents: labels and true 2D latents."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    y_train: np.ndarray
    y_test: np.ndarray
    z_train: np.ndarray
    z_test: np.ndarray

    @classmethod
    def from_arrays(cls, data: dict[str, np.ndarray]) -> Split:
        test = data["is_test"]
        return cls(data["y"][~test], data["y"][test], data["z"][~test], data["z"][test])
