"""Groups of the inner model: the k-cap RNN, its stabilisers, the rules and frozen-rule training."""

from __future__ import annotations

from dataclasses import dataclass, field

from metahebb import names
from metahebb.params.schema import MAX_SEED, ParamError, spec


@dataclass(frozen=True)
class KCapRNNParams:
    """The inner model: m neurons, k of them fire, unrolled T recurrent steps."""

    m: int = field(metadata=spec(ge=2, le=4096))
    k: int = field(metadata=spec(ge=1))
    T: int = field(metadata=spec(ge=1, le=32))
    bias: bool
    readout: str = field(metadata=spec(choices=("linear", "kcap")))
    init: str = field(metadata=spec(choices=("gaussian", "uniform")))
    init_gain: float = field(metadata=spec(gt=0.0))

    def check(self, prefix: str) -> None:
        if self.k >= self.m:
            raise ParamError(f"{prefix}.k={self.k}: must be < m={self.m} (and >= 1)")


@dataclass(frozen=True)
class StabiliserParams:
    """Shared by every rule, so that rules are compared on equal terms."""

    homeostasis: bool
    homeostasis_rate: float = field(metadata=spec(ge=0.0))
    normalise_rows: bool
    clip: float = field(metadata=spec(ge=0.0))


@dataclass(frozen=True)
class RuleParams:
    hebb_lr: float = field(metadata=spec(ge=0.0))
    oja_lr: float = field(metadata=spec(ge=0.0))
    hidden: int = field(metadata=spec(ge=1, le=1024))
    init_step: float = field(metadata=spec(gt=0.0))
    neighbours: int = field(metadata=spec(ge=0, le=64))
    seed: int = field(metadata=spec(ge=0, le=MAX_SEED))
    # Defaults below are the paper's form (a free MLP with a log-scale step); params.yaml sets ours.
    base: str = field(default="none", metadata=spec(choices=("none", "hebb")))
    max_step: float = field(default=0.0, metadata=spec(ge=0.0))
    residual_gain: float = field(default=1.0, metadata=spec(ge=0.0))
    attention_dim: int = field(default=4, metadata=spec(ge=1, le=256))  # rank d of the attention rule
    softhebb_lr: float = field(default=0.01, metadata=spec(ge=0.0))
    krotov_lr: float = field(default=0.01, metadata=spec(ge=0.0))
    # strength of the anti-Hebbian step of the strongest non-firing neuron (Krotov & Hopfield's delta)
    krotov_delta: float = field(default=0.4, metadata=spec(ge=0.0, le=10.0))

    def check(self, prefix: str) -> None:
        if self.max_step > 0 and self.init_step >= self.max_step:
            raise ParamError(f"{prefix}.init_step={self.init_step}: must be < max_step={self.max_step}")


@dataclass(frozen=True)
class HebbianParams:
    rules: list[str] = field(metadata=spec(choices=names.fixed_rules, unique=True))
    epochs: int = field(metadata=spec(ge=1, le=100_000))
    batch_size: int = field(metadata=spec(ge=1))
    seeds: list[int] = field(metadata=spec(ge=0, le=MAX_SEED, nonempty=True, unique=True))
    collapse_codes: int = field(default=10, metadata=spec(ge=1))  # fewer distinct test codes: collapsed
