"""What `learned` and `attention` share: theta drawn from a seed, a learned step per matrix, a Hebb base.

The change of matrix `name` is `step(name) * (what theta computes) + base_lr * Hebb`. With
`max_step` = 0 the step is exp(a), learned on an unbounded log scale (the paper's form); with
`max_step` > 0 it is `max_step * sigmoid(a)`, so the learned part never moves a synapse by more
than `max_step` per update (the rule also squashes its output). Either way Adam moves a by a
factor of the step, never past 0. The raw parameters live in `log_step` (theta files name it).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from metahebb.rules.base import MATRICES, Rule, signal_steps


class SteppedRule(Rule):
    """A meta-trained rule: `build` registers theta, then each matrix's step is registered."""

    def __init__(
        self,
        T: int,
        init_step: float,
        seed: int,
        base_lr: float = 0.0,
        max_step: float = 0.0,
        residual_gain: float = 1.0,
    ) -> None:
        super().__init__()
        self.T = T
        self.base_lr = base_lr
        self.max_step = max_step
        self.build(signal_steps(T), torch.Generator().manual_seed(seed), residual_gain)
        # log(step) (unbounded), or logit(step / max_step) (bounded); after theta, so that Adam and
        # ES see the parameters in the order they always have.
        raw = math.log(init_step) if max_step == 0 else math.log(init_step / (max_step - init_step))
        self.log_step = nn.ParameterDict({name: nn.Parameter(torch.tensor(raw)) for name in MATRICES})

    def build(self, steps: dict[str, tuple[int, int]], generator: torch.Generator, gain: float) -> None:
        """Register theta's modules for history lengths `steps` (`signal_steps`), drawn from `generator`;
        `gain` scales the output layer's init (0: the rule starts exactly at its base)."""
        raise NotImplementedError

    def step(self, name: str) -> torch.Tensor:
        if self.max_step == 0:
            return self.log_step[name].exp()
        return self.max_step * torch.sigmoid(self.log_step[name])
