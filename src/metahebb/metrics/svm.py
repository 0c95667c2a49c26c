"""SVM accuracy against the number of labelled training points.

For each label count N, `svm_draws` balanced random draws of N labelled training points (the
same draws for every model, so comparisons are paired) train an SVM on the latents; accuracy
is scored on all test points. Features are standardised with statistics of all training
latents, which needs no labels.
"""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from metahebb.metrics.split import Split
from metahebb.params import EvaluateParams


def label_count(n: int | str, n_train: int) -> int:
    return n_train if n == "all" else int(n)


def balanced_draw(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of `n` labelled points, as equal a share of each class as `n` allows."""
    classes = np.unique(y)
    shares = np.full(len(classes), n // len(classes))
    shares[rng.permutation(len(classes))[: n % len(classes)]] += 1
    picks = []
    for cls, share in zip(classes, shares, strict=True):
        members = np.flatnonzero(y == cls)
        if share > len(members):
            raise ValueError(
                f"{n} labels need {share} points of class {cls}; the training split has {len(members)}"
            )
        picks.append(rng.choice(members, share, replace=False))
    return np.sort(np.concatenate(picks))


def label_draws(y_train: np.ndarray, n: int | str, draws: int, seed: int) -> list[np.ndarray]:
    """The draws for label count `n`, the same for every model; `all` is one draw of every point."""
    if n == "all" or int(n) >= len(y_train):
        return [np.arange(len(y_train))]
    rng = np.random.default_rng([seed, int(n)])
    return [balanced_draw(y_train, int(n), rng) for _ in range(draws)]


def svm_accuracy_vs_labels(
    train: np.ndarray, test: np.ndarray, split: Split, params: EvaluateParams
) -> dict[str, float]:
    """Mean test accuracy over draws, keyed by label count (`n2`, ..., `nall`)."""
    scaler = StandardScaler().fit(train)
    train, test = scaler.transform(train), scaler.transform(test)
    result = {}
    for n in params.svm_labels:
        accuracies = []
        for idx in label_draws(split.y_train, n, params.svm_draws, params.seed):
            svm = SVC(kernel=params.svm_kernel, C=params.svm_c, gamma="scale").fit(
                train[idx], split.y_train[idx]
            )
            accuracies.append(float((svm.predict(test) == split.y_test).mean()))
        result[f"n{n}"] = float(np.mean(accuracies))
    return result


def metric(train: np.ndarray, test: np.ndarray, split: Split, params: EvaluateParams) -> dict[str, float]:
    return svm_accuracy_vs_labels(train, test, split, params)
