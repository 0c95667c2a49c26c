"""The k-cap RNN of the paper (section 4.3), for a population of P independent networks at once.

    x_1 = a_k(M_in [x_0, 1] - h)        x_t = a_k(M_rec x_{t-1} - h),  t = 2..T+1
    output = M_out x_{T+1}              (readout `linear`)
           = a_k'(M_out x_{T+1})        (readout `kcap`, the paper's form, k' = round(n k / m))

Weights are plain tensors, not `nn.Parameter`s: plasticity rules rewrite them in place of an
optimiser, and meta-training differentiates through the rewritten weights.

- The constant bias input (param `bias`) matters: k-cap is scale invariant, so without it
  `a_k(M_in x)` depends only on the direction of x and concentric circles are inseparable.
- `h` (P, T+1, m) are homeostatic thresholds, part of the network's state (see `stabilisers.py`),
  one per neuron and step: with one per neuron, a neuron could fire at x_1 and never at
  x_{T+1} while its average looked right, and x_{T+1} fell into a few input-independent codes.
- The readout is linear by default: the inputs are real-valued, and a k-cap output (k' ones)
  can only match them up to scale, so an MSE against it measures the code's support rather
  than the reconstruction. `kcap` is kept as the paper's alternative.
- Initialisation is scaled so every pre-activation has unit variance at the start: M_in by
  1/sqrt(n+1) (standardised inputs), M_rec and M_out by 1/sqrt(k) (k neurons are active).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from metahebb.kcap import kcap
from metahebb.params import KCapRNNParams

KCap = Callable[[torch.Tensor, int], torch.Tensor]


@dataclass(frozen=True)
class Network:
    """Weights and thresholds of P networks: w_in (P,m,n+bias), w_rec (P,m,m), w_out (P,n,m), h (P,T+1,m)."""

    w_in: torch.Tensor
    w_rec: torch.Tensor
    w_out: torch.Tensor
    h: torch.Tensor

    def weights(self) -> dict[str, torch.Tensor]:
        return {"in": self.w_in, "rec": self.w_rec, "out": self.w_out}

    def with_weights(self, weights: dict[str, torch.Tensor]) -> Network:
        return replace(self, w_in=weights["in"], w_rec=weights["rec"], w_out=weights["out"])

    @staticmethod
    def cat(nets: list[Network]) -> Network:
        """One population from several (e.g. one network per seed)."""
        return Network(*(torch.cat([getattr(n, f) for n in nets]) for f in ("w_in", "w_rec", "w_out", "h")))

    def detach(self) -> Network:
        return Network(self.w_in.detach(), self.w_rec.detach(), self.w_out.detach(), self.h.detach())

    def to(self, device: torch.device | str) -> Network:
        """The same networks on `device` (no copy where they are already there)."""
        return Network(*(getattr(self, f).to(device) for f in ("w_in", "w_rec", "w_out", "h")))


@dataclass(frozen=True)
class Trace:
    """One pass: the input with its bias x0 (P,B,n+bias), states x_1..x_{T+1} (P,B,T+1,m), output (P,B,n)."""

    x0: torch.Tensor
    states: torch.Tensor
    output: torch.Tensor


def init_std(params: KCapRNNParams, n: int) -> dict[str, float]:
    """Per-matrix standard deviation that gives unit-variance pre-activations."""
    fan_in = {"in": n + int(params.bias), "rec": params.k, "out": params.k}
    return {name: params.init_gain / math.sqrt(f) for name, f in fan_in.items()}


def init_network(population: int, n: int, params: KCapRNNParams, generator: torch.Generator) -> Network:
    """P fresh networks drawn from one seeded generator, on its device.

    Callers draw on a CPU generator and move the networks (`Network.to`), so every device starts
    from the same weights.
    """
    std = init_std(params, n)
    shapes = {"in": (params.m, n + int(params.bias)), "rec": (params.m, params.m), "out": (n, params.m)}
    weights = {}
    for name, shape in shapes.items():
        if params.init == "gaussian":
            w = torch.randn((population, *shape), generator=generator, device=generator.device)
        else:  # uniform with the same variance
            w = torch.rand((population, *shape), generator=generator, device=generator.device)
            w = (w * 2 - 1) * math.sqrt(3.0)
        weights[name] = w * std[name]
    h = torch.zeros(population, params.T + 1, params.m, device=generator.device)
    return Network(weights["in"], weights["rec"], weights["out"], h)


def with_bias(x: torch.Tensor, bias: bool) -> torch.Tensor:
    """Append the constant input neuron."""
    return torch.cat([x, torch.ones_like(x[..., :1])], dim=-1) if bias else x


def forward(net: Network, x: torch.Tensor, params: KCapRNNParams, activation: KCap = kcap) -> Trace:
    """Run every network on its own batch x (P,B,n); `activation` is the hard or a relaxed k-cap."""
    x0 = with_bias(x, params.bias)
    h = net.h[:, None]  # (P,1,T+1,m)
    state = activation(torch.einsum("pij,pbj->pbi", net.w_in, x0) - h[:, :, 0], params.k)
    states = [state]
    for t in range(1, params.T + 1):
        state = activation(torch.einsum("pij,pbj->pbi", net.w_rec, state) - h[:, :, t], params.k)
        states.append(state)
    output = torch.einsum("pij,pbj->pbi", net.w_out, state)
    if params.readout == "kcap":
        output = activation(output, max(1, round(x.shape[-1] * params.k / params.m)))
    return Trace(x0, torch.stack(states, dim=2), output)


def reconstruction_loss(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean squared autoencoding error per network, (P,)."""
    return ((output - x) ** 2).mean(dim=(1, 2))
