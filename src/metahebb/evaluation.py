"""Score every view of a model's latents with every registered metric, over the model's seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import t as t_dist

from metahebb.latents import Views
from metahebb.metrics import METRICS, Split
from metahebb.metrics.svm import label_count
from metahebb.params import EvaluateParams


def summarise(values: np.ndarray | list[float]) -> dict[str, float]:
    """Mean, standard deviation and the half-width of a 95% t-interval of the mean, over seeds.

    One value (a reference with a single seed) has no spread: std and ci95 are 0.
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return {"mean": float(values.mean()), "std": 0.0, "ci95": 0.0}
    std = float(values.std(ddof=1))
    return {
        "mean": float(values.mean()),
        "std": std,
        "ci95": float(t_dist.ppf(0.975, len(values) - 1) * std / np.sqrt(len(values))),
    }


def above(a: dict, b: dict) -> bool:
    """a's 95% interval lies wholly above b's: the one test of "A beats B" in every report."""
    return a["mean"] - a["ci95"] > b["mean"] + b["ci95"]


def evaluate_views(views: Views, seeds: np.ndarray, split: Split, params: EvaluateParams) -> dict:
    """{view: {metric: {key: {mean, std, ci95}}}}: the spread is over the model's seeds."""
    result = {}
    for view, (train, test) in views.items():
        scores: dict[str, dict[str, list[float]]] = {}
        for s in range(len(seeds)):
            for name, metric in METRICS.items():
                for key, value in metric(train[s], test[s], split, params).items():
                    scores.setdefault(name, {}).setdefault(key, []).append(value)
        result[view] = {name: {key: summarise(v) for key, v in keys.items()} for name, keys in scores.items()}
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
