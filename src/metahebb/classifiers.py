"""Reference classifiers for the semi-supervised comparison, each fitted on one labelled draw.

`svm` and `logreg` see the same frozen features as the readout rule; `mlp_raw` is a one-hidden-
layer network trained by backprop on the raw input, the supervised baseline with no
unsupervised pretraining at all.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC


def fit_and_score(
    method: str,
    train: np.ndarray,
    y_train: np.ndarray,
    test: np.ndarray,
    y_test: np.ndarray,
    labelled: np.ndarray,
    seed: int,
    hidden: int = 64,
    svm: tuple[str, float] = ("rbf", 1.0),
) -> float:
    """Test accuracy of `method` fitted on the `labelled` rows of `train` (standardised with all rows);
    `svm` is the (kernel, C) of the evaluate stage's SVM."""
    scaler = StandardScaler().fit(train)
    x, x_test, y = scaler.transform(train)[labelled], scaler.transform(test), y_train[labelled]
    if method == "svm":
        model = SVC(kernel=svm[0], C=svm[1], gamma="scale")  # the evaluate stage's SVM
    elif method == "logreg":
        model = LogisticRegression(C=1.0, max_iter=1000)
    elif method == "mlp_raw":
        model = MLPClassifier(hidden_layer_sizes=(hidden,), solver="lbfgs", max_iter=500, random_state=seed)
    else:
        raise ValueError(f"unknown classifier {method!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # lbfgs on a handful of points stops early
        model.fit(x, y)
    return float((model.predict(x_test) == y_test).mean())
