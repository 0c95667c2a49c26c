"""Stabilisers applied around every rule's update, `none` included, so comparisons are fair.

- Homeostatic thresholds: a neuron that fires more than k/m of the time (at a given step of the
  unrolled RNN) raises its threshold for that step, one that fires less lowers it. Without them every Hebbian rule, plain or learned, collapses
  within a few epochs to a handful of winner-take-all codes (row normalisation and Oja's
  self-normalisation do not prevent it).
- Row normalisation: each row of M_in and M_rec keeps its initial norm, so no neuron wins the
  k-cap merely by growing its weights. M_out is a readout and keeps its free scale.
- Update clipping: no synapse changes by more than `clip` in one update.
"""

from __future__ import annotations

import math

import torch

from metahebb.kcap_rnn import Network, init_std
from metahebb.params import KCapRNNParams, StabiliserParams

NORMALISED = ("in", "rec")


def row_norms(params: KCapRNNParams, n: int) -> dict[str, float]:
    """Expected row norm at initialisation, which normalisation preserves."""
    cols = {"in": n + int(params.bias), "rec": params.m}
    std = init_std(params, n)
    return {name: std[name] * math.sqrt(cols[name]) for name in NORMALISED}


def row_scale(w: torch.Tensor, norm: float) -> torch.Tensor:
    """The factor (..., rows, 1) that brings every row of w to `norm`."""
    return norm / w.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def normalise_rows(w: torch.Tensor, norm: float) -> torch.Tensor:
    return w * row_scale(w, norm)


def prepare(net: Network, rnn: KCapRNNParams, stab: StabiliserParams) -> Network:
    """Bring a fresh network into the stabilised set (normalised rows), before any update."""
    if not stab.normalise_rows:
        return net
    n = net.w_out.shape[1]
    norms = row_norms(rnn, n)
    weights = net.weights()
    return net.with_weights({**weights, **{k: normalise_rows(weights[k], norms[k]) for k in NORMALISED}})


def apply_update(
    net: Network, delta: dict[str, torch.Tensor], rnn: KCapRNNParams, stab: StabiliserParams
) -> Network:
    """Weights after adding a rule's change `delta`, clipped and renormalised (differentiable).

    Where no gradient is recorded, the new weights are computed in the buffer of `delta` (which is
    overwritten) with the same arithmetic: the same values, without allocating P m^2 floats per
    pass. `net`'s own weights are never modified.
    """
    n = net.w_out.shape[1]
    norms = row_norms(rnn, n)
    new = {}
    for name, w in net.weights().items():
        d = delta[name]
        if not (torch.is_grad_enabled() and (d.requires_grad or w.requires_grad)):  # no graph to keep
            if stab.clip > 0:
                d.clamp_(-stab.clip, stab.clip)
            w = d.add_(w)  # d + w == w + d exactly
            if stab.normalise_rows and name in NORMALISED:
                w.mul_(row_scale(w, norms[name]))
        else:
            if stab.clip > 0:
                d = d.clamp(-stab.clip, stab.clip)
            w = w + d
            if stab.normalise_rows and name in NORMALISED:
                w = normalise_rows(w, norms[name])
        new[name] = w
    return net.with_weights(new)


def update_thresholds(
    net: Network, states: torch.Tensor, rnn: KCapRNNParams, stab: StabiliserParams
) -> Network:
    """Homeostasis from one pass's states (P,B,T+1,m): move each threshold toward firing k/m."""
    if not stab.homeostasis:
        return net
    rate = states.detach().mean(dim=1)  # (P, T+1, m): per neuron and step
    h = net.h + stab.homeostasis_rate * (rate - rnn.k / rnn.m)
    return Network(net.w_in, net.w_rec, net.w_out, h)
