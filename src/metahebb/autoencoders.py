"""Backprop baselines: an MLP and an RNN autoencoder of equal depth, over a population of seeds.

Both map x -> h1 -> h2 -> h3 -> linear reconstruction. The MLP has three weight matrices for
h1..h3; the RNN has an input matrix for h1 and one recurrent matrix shared by h2 and h3 (the
paper's "unrolled thrice"), so the two differ only in weight sharing.

Every weight carries a leading population dimension S: S independently initialised networks
train as one batched computation. Their losses are summed, so each network's gradient, and
Adam's per-element update, is exactly what it would be alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "elu": nn.functional.elu, "sigmoid": torch.sigmoid}


class PopulationLinear(nn.Module):
    """S independent affine maps applied to a batch shaped (S, B, n_in)."""

    def __init__(self, n_in: int, n_out: int, seeds: list[int], salt: int) -> None:
        super().__init__()
        # nn.Linear's default init, drawn per network from its own seed so adding a seed changes no other
        bound = 1.0 / math.sqrt(n_in)
        weights, biases = [], []
        for seed in seeds:
            g = torch.Generator().manual_seed(seed * 1000 + salt)
            weights.append(torch.empty(n_in, n_out).uniform_(-bound, bound, generator=g))
            biases.append(torch.empty(1, n_out).uniform_(-bound, bound, generator=g))
        self.weight = nn.Parameter(torch.stack(weights))
        self.bias = nn.Parameter(torch.stack(biases))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class MLPAutoencoder(nn.Module):
    def __init__(
        self, n_in: int, hidden: int, activation: str, seeds: list[int], last: int | None = None
    ) -> None:
        super().__init__()
        self.act = ACTIVATIONS[activation]
        widths = [n_in, hidden, hidden, hidden if last is None else last]
        self.layers = nn.ModuleList(
            [PopulationLinear(widths[i], widths[i + 1], seeds, salt=i) for i in range(3)]
        )
        self.out = PopulationLinear(widths[3], n_in, seeds, salt=9)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        states, h = [], x
        for layer in self.layers:
            h = self.act(layer(h))
            states.append(h)
        return self.out(h), states


class BottleneckAutoencoder(MLPAutoencoder):
    """The MLP with a narrow h3 (`backprop.bottleneck`, 2 by default): a latent of the true latents'
    dimension, used as it is, so no PCA or normalisation has to choose which 2D view of a wide
    layer is compared with the truth."""

    def __init__(
        self, n_in: int, hidden: int, activation: str, seeds: list[int], bottleneck: int = 2
    ) -> None:
        super().__init__(n_in, hidden, activation, seeds, last=bottleneck)


class RNNAutoencoder(nn.Module):
    def __init__(self, n_in: int, hidden: int, activation: str, seeds: list[int]) -> None:
        super().__init__()
        self.act = ACTIVATIONS[activation]
        self.inp = PopulationLinear(n_in, hidden, seeds, salt=0)
        self.rec = PopulationLinear(hidden, hidden, seeds, salt=1)
        self.out = PopulationLinear(hidden, n_in, seeds, salt=9)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = self.act(self.inp(x))
        states = [h]
        for _ in range(2):
            h = self.act(self.rec(h))
            states.append(h)
        return self.out(h), states


ARCHITECTURES: dict[str, type[nn.Module]] = {
    "mlp": MLPAutoencoder,
    "rnn": RNNAutoencoder,
    "mlp2d": BottleneckAutoencoder,
}


def make_autoencoder(
    arch: str, n_in: int, hidden: int, activation: str, seeds: list[int], bottleneck: int = 2
) -> nn.Module:
    if arch == "mlp2d":
        return BottleneckAutoencoder(n_in, hidden, activation, seeds, bottleneck)
    return ARCHITECTURES[arch](n_in, hidden, activation, seeds)
