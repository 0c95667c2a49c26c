"""`krotov`: Hebbian for the strongest-driven neurons, anti-Hebbian for the first one left out.

Krotov & Hopfield 2019 ("Unsupervised learning by competing hidden units"): per input, the
neurons are ranked by their input current; the top ones learn Hebbian, a lower-ranked one learns
anti-Hebbian with strength `delta`, and every change is g_i (x_j - u_i W_ij), whose decay keeps
the weight norm bounded (their p = 2). Under k-cap the top ones are exactly the k that fire, and
the anti-Hebbian neuron is the one with the largest current among those that did not: it is
pushed away from inputs its winning neighbours claim, which spreads the codes. Everything it
reads is at the neuron: its firing, and its own current through this matrix. The readout
("out") learns by the delta rule, as under `hebb`.
"""

from __future__ import annotations

import torch

from metahebb.rules.base import Rule, Synapses, paired_hebb
from metahebb.rules.softhebb import competitive_update, currents


def gains(s: Synapses, steps: int, delta: float) -> torch.Tensor:
    """g (P,B,S,I): 1 where the neuron fired, -delta at the strongest neuron that did not, else 0."""
    fired = s.post[:, :, :steps]
    u = currents(s, steps).masked_fill(fired > 0, float("-inf"))
    runner_up = torch.zeros_like(fired).scatter_(3, u.argmax(dim=3, keepdim=True), 1.0)
    return fired - delta * runner_up


class KrotovRule(Rule):
    reads_current = True  # as softhebb
    # Which silent neuron learns anti-Hebbian is decided by the competition between post neurons,
    # as k-cap decides who fires (lateral inhibition); the locality test checks the rest.
    competes = True

    def __init__(self, lr: float, delta: float) -> None:
        super().__init__()
        self.lr, self.anti = lr, delta

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        if not s.post_binary:
            return paired_hebb(s).mul_(self.lr)
        steps = min(s.pre.shape[2], s.post.shape[2])
        return competitive_update(s, gains(s, steps, self.anti), steps).mul_(self.lr)
