"""Outer optimisers: how a rule's theta is meta-trained, behind one signature.

    result = meta_learn(rule, data, rnn, stab, meta, es)      # meta.optimizer picks the loop

| optimizer | what it is                                                                  |
|-----------|-----------------------------------------------------------------------------|
| gradient  | Adam through K rule updates of staggered inner networks (`meta_train.py`)   |
| es        | CMA-ES; fitness = networks trained from scratch for the full inner schedule |

Both read the same `MetaData` and the same objectives (`metahebb.objectives`), and neither knows
which rule it trains: a new optimiser is one file here plus one line in `OPTIMIZERS`, and touches
no rule.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from metahebb.meta_data import MetaData
from metahebb.meta_train import MetaResult, meta_train
from metahebb.outer.es import es_train
from metahebb.params import OPTIMIZER_NAMES, ESParams, KCapRNNParams, MetaParams, StabiliserParams
from metahebb.rules import Rule


def _gradient(
    rule: Rule,
    data: MetaData,
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    meta: MetaParams,
    es: ESParams,
    device: torch.device | str,
    checkpoint: str | Path | None,
    log_every: int,
) -> MetaResult:
    return meta_train(data.x, rule, rnn, stab, meta, log_every, device, checkpoint, labels=data.y)


def _es(
    rule: Rule,
    data: MetaData,
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    meta: MetaParams,
    es: ESParams,
    device: torch.device | str,
    checkpoint: str | Path | None,
    log_every: int,
) -> MetaResult:
    return es_train(data, rule, rnn, stab, meta, es, device, log_every=log_every // 2)


OPTIMIZERS: dict[str, Callable[..., MetaResult]] = {"gradient": _gradient, "es": _es}
assert tuple(OPTIMIZERS) == OPTIMIZER_NAMES, "params.OPTIMIZER_NAMES must list the registered optimisers"


def meta_learn(
    rule: Rule,
    data: MetaData,
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    meta: MetaParams,
    es: ESParams,
    device: torch.device | str = "cpu",
    checkpoint: str | Path | None = None,
    log_every: int = 50,
) -> MetaResult:
    """The rule's theta meta-trained by `meta.optimizer` on `meta.objective` (checkpoints: gradient only)."""
    return OPTIMIZERS[meta.optimizer](rule, data, rnn, stab, meta, es, device, checkpoint, log_every)


__all__ = ["OPTIMIZERS", "MetaData", "MetaResult", "meta_learn"]
