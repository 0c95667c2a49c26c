"""`hebb`: dW = eta post pre^T; the shared stabilisers keep it from running away."""

from __future__ import annotations

import torch

from metahebb.rules.base import Rule, Synapses, paired_hebb


class HebbRule(Rule):
    def __init__(self, lr: float) -> None:
        super().__init__()
        self.lr = lr

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        return paired_hebb(s).mul_(self.lr)  # == lr * paired_hebb(s), without a copy
