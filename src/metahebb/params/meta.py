"""Groups of meta-training, its outer optimisers, the semi-supervised readout, cross-task
generalisation and the comparison of rules x optimisers x objectives."""

from __future__ import annotations

from dataclasses import dataclass, field

from metahebb import names
from metahebb.params.data import DATASET_NAMES, TARGET_NAMES
from metahebb.params.schema import MAX_SEED, ParamError, spec


@dataclass(frozen=True)
class MetaParams:
    rules: list[str] = field(metadata=spec(choices=names.meta_trained_rules, unique=True))
    datasets: list[str] = field(metadata=spec(choices=DATASET_NAMES, nonempty=True, unique=True))
    steps: int = field(metadata=spec(ge=1, le=1_000_000))
    lr: float = field(metadata=spec(gt=0.0, le=10.0))
    population: int = field(metadata=spec(ge=1, le=4096))
    batch_size: int = field(metadata=spec(ge=1))
    reset_every: int = field(metadata=spec(ge=1))
    lookahead: int = field(metadata=spec(ge=1, le=64))
    relaxation: str = field(metadata=spec(choices=("ste", "soft")))
    temperature: float = field(metadata=spec(gt=0.0))
    objective: str = field(metadata=spec(choices=names.objectives))
    ridge_lambda: float = field(metadata=spec(gt=0.0))
    grad_clip: float = field(metadata=spec(gt=0.0))
    seed: int = field(metadata=spec(ge=0, le=MAX_SEED))
    collapse_penalty: float = field(default=0.0, metadata=spec(ge=0.0))
    # Steps between checkpoints of the meta_train stage (0: none). Never changes theta.
    checkpoint_every: int = field(default=0, metadata=spec(ge=0))
    optimizer: str = field(default="gradient", metadata=spec(choices=names.optimizers))
    # Fraction of each dataset's training points held out to score rules (label objectives, `es`).
    validation_fraction: float = field(default=0.3, metadata=spec(gt=0.0, lt=1.0))
    objective_labels: int = field(default=8, metadata=spec(ge=0))  # labelled validation points per network
    label_temperature: float = field(default=0.1, metadata=spec(gt=0.0))  # softmax scale of labels_ce

    def check(self, prefix: str) -> None:
        check_objective(prefix, self.optimizer, self.objective, self.objective_labels)


def check_objective(prefix: str, optimizer: str, objective: str, labels: int) -> None:
    """An objective the optimiser can use, with the labels it needs."""
    if optimizer == "gradient" and objective in names.gradient_free_objectives():
        raise ParamError(
            f"{prefix}.objective={objective!r}: has no gradient; use optimizer es or another objective"
        )
    if objective in names.label_objectives() and labels < 2:
        raise ParamError(
            f"{prefix}.objective_labels={labels}: objective {objective!r} needs labels; accepted: >= 2 "
            "(one per class at least)"
        )


@dataclass(frozen=True)
class ESParams:
    """CMA-ES over a rule's parameters; fitness = networks trained from scratch by each candidate."""

    generations: int = field(metadata=spec(ge=1, le=1_000_000))
    population: int = field(metadata=spec(ge=2, le=4096))  # candidates per generation
    sigma: float = field(metadata=spec(gt=0.0, le=100.0))  # initial search step, in parameter units
    networks_per_dataset: int = field(
        metadata=spec(ge=1, le=1024)
    )  # inner networks per candidate and dataset
    epochs: int = field(metadata=spec(ge=1, le=10_000))  # E: the inner schedule, passes over the inner points
    batch_size: int = field(metadata=spec(ge=1))
    seed: int = field(metadata=spec(ge=0, le=MAX_SEED))


READOUT_RULES = ("reuse", "meta")


@dataclass(frozen=True)
class SemiSupervisedParams:
    rule: str = field(metadata=spec(choices=names.rules))
    baseline_rule: str = field(metadata=spec(choices=names.rules))
    readout_rule: list[str] = field(metadata=spec(choices=READOUT_RULES, nonempty=True, unique=True))
    labels: list[int] = field(metadata=spec(ge=2, nonempty=True, unique=True))
    draws: int = field(metadata=spec(ge=1, le=1000))
    epochs: int = field(metadata=spec(ge=1, le=10_000))
    batch_size: int = field(metadata=spec(ge=1))
    curve_labels: int = field(metadata=spec(ge=2))
    meta_steps: int = field(metadata=spec(ge=1, le=1_000_000))
    meta_lr: float = field(metadata=spec(gt=0.0, le=10.0))
    meta_reset_every: int = field(metadata=spec(ge=1))
    mlp_hidden: int = field(metadata=spec(ge=1, le=4096))
    seed: int = field(metadata=spec(ge=0, le=MAX_SEED))
    # The parameterisation whose M_out part the `meta` readout meta-trains (fresh, not the stage's theta).
    meta_readout_rule: str = field(default="learned", metadata=spec(choices=names.meta_trained_rules))

    def check(self, prefix: str) -> None:
        if self.curve_labels not in self.labels:
            raise ParamError(
                f"{prefix}.curve_labels={self.curve_labels}: must be one of labels {self.labels}"
            )
        if self.rule == "none":
            raise ParamError(
                f"{prefix}.rule='none': changes no weight, so it has no readout rule to train with"
            )


@dataclass(frozen=True)
class GeneralisationParams:
    rule: str = field(metadata=spec(choices=names.meta_trained_rules))
    sources: list[str] = field(metadata=spec(choices=DATASET_NAMES, unique=True))
    leave_one_out: bool
    references: list[str] = field(metadata=spec(choices=names.fixed_rules, unique=True))
    targets: list[str] = field(metadata=spec(choices=TARGET_NAMES, nonempty=True, unique=True))
    digits_input: str = field(metadata=spec(choices=("raw", "projected")))
    labels: int = field(metadata=spec(ge=2))
    seeds: list[int] = field(metadata=spec(ge=0, le=MAX_SEED, nonempty=True, unique=True))


def parse_variant(variant: str) -> tuple[str, str | None, str | None]:
    """'table-es-labels_ce' -> ("table", "es", "labels_ce"); a fixed rule ('hebb') -> ("hebb", None, None)."""
    parts = variant.split("-")
    if len(parts) == 1 and parts[0] in names.fixed_rules():
        return parts[0], None, None
    if (
        len(parts) == 3
        and parts[0] in names.meta_trained_rules()
        and parts[1] in names.optimizers()
        and parts[2] in names.objectives()
    ):
        return parts[0], parts[1], parts[2]
    raise ParamError(
        f"meta_compare.variants: {variant!r} is neither a fixed rule ({', '.join(names.fixed_rules())}) nor "
        f"<rule>-<optimizer>-<objective> with rule in {', '.join(names.meta_trained_rules())}, optimizer in "
        f"{', '.join(names.optimizers())}, objective in {', '.join(names.objectives())}"
    )


@dataclass(frozen=True)
class VariantLists:
    """Variants by how they are meta-trained: each list is its own DVC stage group, which tracks
    only the settings its variants read (a fixed rule does not rerun when ES settings change)."""

    fixed: list[str] = field(metadata=spec(choices=names.fixed_rules, unique=True))  # no meta-training
    gradient: list[str] = field(metadata=spec(unique=True))  # <rule>-gradient-<objective>
    es: list[str] = field(metadata=spec(unique=True))  # <rule>-es-<objective>

    @property
    def names(self) -> list[str]:
        """Every variant, fixed rules first, in the order of the report's tables."""
        return [*self.fixed, *self.gradient, *self.es]

    def check(self, prefix: str) -> None:
        for optimizer in names.optimizers():
            for variant in getattr(self, optimizer):
                if parse_variant(variant)[1] != optimizer:
                    raise ParamError(
                        f"{prefix}.{optimizer}: {variant!r} is not a <rule>-{optimizer}-<objective> variant"
                    )


@dataclass(frozen=True)
class CompareParams:
    """Rules x outer optimisers x objectives, each meta-trained several times and judged on fresh networks."""

    variants: VariantLists
    meta_seeds: list[int] = field(metadata=spec(ge=0, le=MAX_SEED, nonempty=True, unique=True))
    # meta-trained variants also meta-trained without each target (stages meta_compare_loo_*)
    leave_one_out: VariantLists
    targets: list[str] = field(metadata=spec(choices=TARGET_NAMES, nonempty=True, unique=True))
    labels: list[int] = field(metadata=spec(ge=2, nonempty=True, unique=True))
    seeds: list[int] = field(metadata=spec(ge=0, le=MAX_SEED, nonempty=True, unique=True))

    def check(self, prefix: str) -> None:
        if not self.variants.names:
            raise ParamError(f"{prefix}.variants: every list is empty; name at least one variant")
        if self.leave_one_out.fixed:
            raise ParamError(
                f"{prefix}.leave_one_out.fixed: a fixed rule has no meta-training to leave a dataset "
                "out of; accepted: []"
            )
        for variant in self.leave_one_out.names:
            if variant not in self.variants.names:
                raise ParamError(
                    f"{prefix}.leave_one_out: {variant!r} must also be an entry of {prefix}.variants"
                )
