"""What every outer optimiser is and returns: one interface, so callers never know which runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from metahebb.meta_data import MetaData
from metahebb.params import ESParams, KCapRNNParams, MetaParams, Params, StabiliserParams
from metahebb.rules import Rule


@dataclass(frozen=True)
class MetaResult:
    theta: dict[str, torch.Tensor]
    history: dict[str, np.ndarray]  # per step: the meta-loss (gradient) or fitness statistics (es)
    summary: dict[str, float]


@dataclass(frozen=True)
class Groups:
    """The params groups an optimiser is built from; each optimiser reads only its own."""

    rnn: KCapRNNParams
    stab: StabiliserParams
    meta: MetaParams  # meta_train: the optimiser's name, the objective, the validation split, seeds
    es: ESParams

    @classmethod
    def of(cls, params: Params) -> Groups:
        return cls(params.kcap_rnn, params.stabilisers, params.meta_train, params.es)


class Optimiser(Protocol):
    """An outer loop, built once from its groups (`from_groups`); `train` returns the rule's theta."""

    def train(self, rule: Rule, data: MetaData, checkpoint: str | Path | None = None) -> MetaResult: ...


@dataclass(frozen=True)
class FromGroups:
    """What every optimiser is built from: the groups, where to run, how often to log. A subclass
    writes only `train`, reading its own group from `self.groups`."""

    groups: Groups
    device: torch.device | str = "cpu"
    log_every: int = 50

    @classmethod
    def from_groups(cls, groups: Groups, device: torch.device | str = "cpu", log_every: int = 50):  # noqa: ANN206
        return cls(groups, device, log_every)
