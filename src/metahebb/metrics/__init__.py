"""Metrics of a learned representation, one file each, behind one signature.

A metric is `metric(train, test, split, params) -> {name: float}`, where `train` and `test`
are one network's latents (N, H) and `split` holds the labels and true 2D latents.
Adding a metric is one file plus one line in `METRICS`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from metahebb.metrics import emd, neighbourhood, svm
from metahebb.metrics.split import Split
from metahebb.params import EvaluateParams

Metric = Callable[[np.ndarray, np.ndarray, Split, EvaluateParams], dict[str, float]]

METRICS: dict[str, Metric] = {
    "emd": emd.metric,
    "emd_scale": emd.scale_metric,
    "svm_acc": svm.metric,
    "neighbourhood": neighbourhood.metric,
}

__all__ = ["METRICS", "Metric", "Split"]
