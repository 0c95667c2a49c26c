"""`oja`: dW = eta (post pre^T - post^2 W), Hebb with Oja's self-normalising decay."""

from __future__ import annotations

import torch

from metahebb.rules.base import Rule, Synapses, paired_hebb


class OjaRule(Rule):
    def __init__(self, lr: float) -> None:
        super().__init__()
        self.lr = lr

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        steps = min(s.pre.shape[2], s.post.shape[2])
        post_sq = (s.post[:, :, :steps] ** 2).sum(dim=2).mean(dim=1)  # (P, I)
        return self.lr * (paired_hebb(s) - post_sq[:, :, None] * s.weight)
