"""Label-free objectives: how well the networks reproduce their input."""

from __future__ import annotations

import torch

from metahebb.kcap_rnn import Trace, reconstruction_loss, with_bias


def ridge_fit(features: torch.Tensor, targets: torch.Tensor, lam: float) -> torch.Tensor:
    """Closed-form ridge map (P, H+1, K) from [features, 1] (P,N,H) to targets (P,N,K); differentiable."""
    h = with_bias(features, True)
    gram = h.transpose(1, 2) @ h + lam * torch.eye(h.shape[-1], dtype=h.dtype, device=h.device)
    return torch.linalg.solve(gram, h.transpose(1, 2) @ targets)


def ridge_predict(w: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    return with_bias(features, True) @ w


def paper(trace: Trace, batch, params) -> torch.Tensor:
    """Reconstruction by the rule's own readout M_out, over every point (the paper's objective)."""
    return reconstruction_loss(trace.output, batch.x)


def ridge_loss(code: torch.Tensor, x: torch.Tensor, lam: float, fit: int | None = None) -> torch.Tensor:
    """Held-out MSE (P,) of the ridge map code -> x fitted on the first `fit` points (default: half)."""
    fit = code.shape[1] // 2 if fit is None else fit
    w = ridge_fit(code[:, :fit], x[:, :fit], lam)
    return ((ridge_predict(w, code[:, fit:]) - x[:, fit:]) ** 2).mean(dim=(1, 2))


def ridge(trace: Trace, batch, params) -> torch.Tensor:
    """Ridge reconstruction of x from x_{T+1}: the code itself is judged, not the rule's readout."""
    return ridge_loss(trace.states[:, :, -1], batch.x, params.ridge_lambda, batch.fit)


def both(trace: Trace, batch, params) -> torch.Tensor:
    return paper(trace, batch, params) + ridge(trace, batch, params)
