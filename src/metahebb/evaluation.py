"""Score every view of a model's latents with every registered metric, over the model's seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metahebb.latents import Views
from metahebb.metrics import METRICS, Split
from metahebb.metrics.svm import label_count
from metahebb.params import EvaluateParams


def _summary(values: np.ndarray) -> dict:
    return {"mean": float(values.mean()), "std": float(values.std())}


def evaluate_views(views: Views, seeds: np.ndarray, split: Split, params: EvaluateParams) -> dict:
    """{view: {metric: {key: {mean, std}}}}: the spread is over the model's seeds."""
    result = {}
    for view, (train, test) in views.items():
        scores: dict[str, dict[str, list[float]]] = {}
        for s in range(len(seeds)):
            for name, metric in METRICS.items():
                for key, value in metric(train[s], test[s], split, params).items():
                    scores.setdefault(name, {}).setdefault(key, []).append(value)
        result[view] = {
            name: {key: _summary(np.array(v)) for key, v in keys.items()} for name, keys in scores.items()
        }
    # a metric with a single key (emd) reads better without the extra level
    for view in result.values():
        for name, keys in list(view.items()):
            if list(keys) == [name]:
                view[name] = keys[name]
    return result


def svm_curve(scores: dict, params: EvaluateParams, n_train: int) -> pd.DataFrame:
    """Accuracy against label count of the primary (first) view, the table `dvc plots` draws."""
    primary = next(iter(scores.values()))["svm_acc"]
    rows = [
        {
            "n_labels": label_count(n, n_train),
            "accuracy": primary[f"n{n}"]["mean"],
            "accuracy_std": primary[f"n{n}"]["std"],
        }
        for n in params.svm_labels
    ]
    return pd.DataFrame(rows).sort_values("n_labels")
