"""`softhebb`: dW_ij = eta y_i (x_j - u_i W_ij), Hebbian plasticity of a winner-take-all layer.

SoftHebb (Moraitis et al. 2022; Journé et al. 2023): a neuron that fires moves its weight vector
towards the input that made it fire, and the decay `u_i W_ij` (u_i = W_i . x, the neuron's own
input current through this matrix, known at the neuron) keeps the weight norm near 1 without a
separate normalisation. Here the soft winner-take-all is the k-cap itself: y is the firing. The
readout ("out", real-valued error and target) learns by the delta rule, as under `hebb`.
"""

from __future__ import annotations

import torch

from metahebb.rules.base import Rule, Synapses, paired_hebb


def currents(s: Synapses, steps: int) -> torch.Tensor:
    """u (P,B,S,I): each post neuron's input through this matrix alone, from pre steps 0..S-1."""
    return torch.einsum("pij,pbsj->pbsi", s.weight, s.pre[:, :, :steps])


def competitive_update(s: Synapses, gain: torch.Tensor, steps: int) -> torch.Tensor:
    """sum_s g_i (x_j - u_i W_ij), batch-averaged: Hebb towards the input, decay along the weight."""
    u = currents(s, steps)
    towards = torch.einsum("pbsi,pbsj->pij", gain, s.pre[:, :, :steps])
    decay = (gain * u).sum(dim=2).sum(dim=1)[:, :, None] * s.weight
    return (towards - decay) / s.pre.shape[1]


class SoftHebbRule(Rule):
    # A post neuron reads its own input current, a sum over all its pre neurons: local to the
    # neuron, not to one synapse (the locality test checks the rest).
    reads_current = True

    def __init__(self, lr: float) -> None:
        super().__init__()
        self.lr = lr

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        if not s.post_binary:
            return paired_hebb(s).mul_(self.lr)
        steps = min(s.pre.shape[2], s.post.shape[2])
        return competitive_update(s, s.post[:, :, :steps], steps).mul_(self.lr)
