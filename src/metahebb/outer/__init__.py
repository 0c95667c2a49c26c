"""Outer optimisers: how a rule's theta is meta-trained, behind one interface (`base.Optimiser`).

    optimiser = make_optimiser(Groups.of(params))      # `meta_train.optimizer` picks the class
    result = meta_learn(rule, data, optimiser)

| optimizer | what it is                                                                   | reads      |
|-----------|------------------------------------------------------------------------------|------------|
| gradient  | Adam through K rule updates of staggered inner networks (`gradient.py`)      | meta_train |
| es        | CMA-ES; fitness = networks trained from scratch for the full inner schedule   | es         |

Both read the same `MetaData` and the same objectives (`metahebb.objectives`, named by
`meta_train.objective`), and neither knows which rule it trains. A new optimiser is one file here
(a class with `from_groups` and `train`) plus one line in `OPTIMIZERS`, and its own params group;
it touches no rule. The params schema takes the accepted names from `OPTIMIZERS`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from metahebb.meta_data import MetaData
from metahebb.outer.base import Groups, MetaResult, Optimiser
from metahebb.outer.es import ESOptimiser
from metahebb.outer.gradient import GradientOptimiser
from metahebb.rules import Rule

OPTIMIZERS: dict[str, type] = {"gradient": GradientOptimiser, "es": ESOptimiser}


def make_optimiser(groups: Groups, device: torch.device | str = "cpu", log_every: int = 50) -> Optimiser:
    """The optimiser `groups.meta.optimizer`, built from its groups."""
    return OPTIMIZERS[groups.meta.optimizer].from_groups(groups, device, log_every)


def meta_learn(
    rule: Rule, data: MetaData, optimiser: Optimiser, checkpoint: str | Path | None = None
) -> MetaResult:
    """The rule's theta meta-trained by `optimiser` (checkpoints: gradient only)."""
    return optimiser.train(rule, data, checkpoint)


__all__ = ["OPTIMIZERS", "Groups", "MetaData", "MetaResult", "Optimiser", "make_optimiser", "meta_learn"]
