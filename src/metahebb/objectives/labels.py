"""Few-label objectives (Metz et al. 2018): an unsupervised inner loop judged by a classifier.

A ridge classifier (closed form, one-hot targets) is fitted on the code x_{T+1} of the first
`fit` points, a small balanced labelled draw, and scored on the rest. Only labels of validation
points of the training split are ever passed in. Such a rule may encode the class structure of
the datasets it was meta-trained on, so it is judged on held-out datasets too (README).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from metahebb.kcap_rnn import Trace
from metahebb.objectives.reconstruction import ridge_fit, ridge_predict


def _scores(trace: Trace, batch, params) -> tuple[torch.Tensor, torch.Tensor]:
    """Ridge classifier scores (P, B-fit, K) on the scored points, and their labels (P, B-fit)."""
    code, y, fit = trace.states[:, :, -1], batch.y, batch.fit
    classes = int(y.max()) + 1
    w = ridge_fit(code[:, :fit], F.one_hot(y[:, :fit], classes).to(code.dtype), params.ridge_lambda)
    return ridge_predict(w, code[:, fit:]), y[:, fit:]


def labels_ce(trace: Trace, batch, params) -> torch.Tensor:
    """Cross-entropy of softmax(scores / label_temperature): smooth, so the gradient optimiser can use it."""
    scores, y = _scores(trace, batch, params)
    logits = scores / params.label_temperature
    return F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(dim=1)


def labels_acc(trace: Trace, batch, params) -> torch.Tensor:
    """Error rate of the ridge classifier on the scored points (for the evolution strategy)."""
    scores, y = _scores(trace, batch, params)
    return (scores.argmax(dim=-1) != y).to(scores.dtype).mean(dim=1)


def labelled_first(y: torch.Tensor, labels: int, gen: torch.Generator) -> torch.Tensor:
    """An order of the points: a balanced draw of `labels` of them first, then the rest shuffled."""
    order = torch.randperm(len(y), generator=gen)
    classes = torch.unique(y)
    chosen = torch.cat(
        [
            order[y[order] == c][: labels // len(classes) + (i < labels % len(classes))]
            for i, c in enumerate(classes)
        ]
    )
    rest = order[~torch.isin(order, chosen)]
    return torch.cat([chosen[torch.randperm(len(chosen), generator=gen)], rest])
