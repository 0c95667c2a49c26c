"""Train a population of autoencoders by backprop on MSE, one network per seed, in one batch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from metahebb.autoencoders import make_autoencoder
from metahebb.errors import DivergenceError
from metahebb.params import BackpropParams


@dataclass
class BackpropResult:
    model: nn.Module
    losses: np.ndarray  # (epochs + 1, S): full training-set MSE before training and after each epoch
    rel_mse: np.ndarray  # (S,): final MSE / total variance of the data (predicting the mean scores 1)
    plateau: np.ndarray  # (S,) bool: the run never left a loss plateau


def _mse(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    recon, _ = model(x)
    return ((recon - x) ** 2).mean(dim=(1, 2))


def train_autoencoders(
    x_train: np.ndarray, arch: str, params: BackpropParams, device: torch.device
) -> BackpropResult:
    """Train one autoencoder per seed in `params.seeds`; each draws its own init and batch order."""
    seeds = params.seeds
    x = torch.as_tensor(x_train, device=device)
    n, d = x.shape
    model = make_autoencoder(arch, d, params.hidden, params.activation, seeds, params.bottleneck).to(device)
    optimizer = (torch.optim.Adam if params.optimizer == "adam" else torch.optim.SGD)(
        model.parameters(), lr=params.lr
    )
    orders = [torch.Generator().manual_seed(seed * 1000 + 7) for seed in seeds]
    x_pop = x.expand(len(seeds), n, d)
    batch = min(params.batch_size, n)

    losses = [_full_loss(model, x_pop)]
    for epoch in range(params.epochs):
        perm = torch.stack([torch.randperm(n, generator=g) for g in orders]).to(device)  # (S, n)
        for start in range(0, n, batch):
            idx = perm[:, start : start + batch]
            xb = torch.gather(x_pop, 1, idx[..., None].expand(-1, -1, d))
            loss = _mse(model, xb).sum()  # a sum keeps every network's gradient its own
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        losses.append(_full_loss(model, x_pop))
        if not np.isfinite(losses[-1]).all():
            bad = [s for s, v in zip(seeds, losses[-1], strict=True) if not np.isfinite(v)]
            raise DivergenceError(
                f"{arch}: loss is not finite at epoch {epoch + 1} for seeds {bad}; lower backprop.lr"
            )
    losses = np.stack(losses)
    rel_mse = losses[-1] / float(x.var(dim=0, unbiased=False).sum() / d)
    return BackpropResult(model, losses, rel_mse, rel_mse > params.plateau_rel_mse)


@torch.no_grad()
def _full_loss(model: nn.Module, x_pop: torch.Tensor) -> np.ndarray:
    return _mse(model, x_pop).cpu().numpy()


@torch.no_grad()
def hidden_states(model: nn.Module, x: np.ndarray, n_seeds: int, device: torch.device) -> list[np.ndarray]:
    """h1, h2, h3 of every network for inputs `x`, each shaped (S, N, hidden)."""
    xt = torch.as_tensor(x, device=device).expand(n_seeds, *x.shape)
    _, states = model(xt)
    return [s.cpu().numpy() for s in states]
