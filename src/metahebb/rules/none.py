"""`none`: weights stay at their random initialisation; only the shared thresholds adapt.

With k-cap, random weights already give useful sparse features: the baseline to beat.
"""

from __future__ import annotations

import torch

from metahebb.rules.base import Rule, Synapses


class NoRule(Rule):
    changes_weights = False

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        return torch.zeros_like(s.weight)
