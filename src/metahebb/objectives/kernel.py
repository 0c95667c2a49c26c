"""`labels_kernel`: the few-label objective scored as the report judges a rule (ES only).

`labels_acc` scores a linear ridge classifier on the last state; the report judges a rule by an
RBF SVM on standardised features of either view, and the issue's bar is the same SVM on the raw
input. A rule tuned for a linear readout of x_{T+1} need not give codes an RBF classifier
generalises from with few labels, so this objective scores what the judge measures, in closed form
for many networks at once: every state x_1..x_{T+1} concatenated (the view that does best),
standardised over the network's scored points (as the judge standardises with every training
point), an RBF kernel with sklearn's `gamma="scale"` (1 / (features * variance of the labelled
points)), and kernel ridge regression on one-hot labels (`ridge_lambda`, the least-squares cousin
of the SVM) fitted on the first `batch.fit` (labelled) points. The loss is its error rate on the rest.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from metahebb.kcap_rnn import Trace


def standardised(features: torch.Tensor) -> torch.Tensor:
    """(P,B,H) with every feature at zero mean and unit variance over B; a constant feature at 0."""
    centred = features - features.mean(dim=1, keepdim=True)
    std = features.std(dim=1, unbiased=False, keepdim=True)
    return centred / torch.where(std > 0, std, torch.ones_like(std))


def rbf_gamma(fit: torch.Tensor) -> torch.Tensor:
    """sklearn's gamma="scale" per network (P,1,1): 1 / (H * variance of the fitted points), 1 if constant."""
    var = fit.flatten(1).var(dim=1, unbiased=False)[:, None, None]
    return torch.where(var > 0, 1.0 / (fit.shape[-1] * var), torch.ones_like(var))


def rbf(a: torch.Tensor, b: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    return torch.exp(-gamma * torch.cdist(a, b).square())


def labels_kernel(trace: Trace, batch, params) -> torch.Tensor:
    """Error rate (P,) of an RBF kernel ridge classifier on the standardised concatenated states."""
    code = standardised(trace.states.flatten(2).double())
    fit, rest, y = code[:, : batch.fit], code[:, batch.fit :], batch.y
    gamma = rbf_gamma(fit)
    targets = F.one_hot(y[:, : batch.fit], int(y.max()) + 1).to(code.dtype)
    eye = torch.eye(batch.fit, dtype=code.dtype, device=code.device)
    alpha = torch.linalg.solve(rbf(fit, fit, gamma) + params.ridge_lambda * eye, targets)
    predicted = (rbf(rest, fit, gamma) @ alpha).argmax(dim=-1)
    return (predicted != y[:, batch.fit :]).to(trace.states.dtype).mean(dim=1)
