"""Groups of the study's fair references and its confirmatory data draws (issue 14)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from metahebb import names
from metahebb.params.data import TARGET_NAMES
from metahebb.params.inner import RuleParams
from metahebb.params.schema import MAX_SEED, ParamError, spec


def tunable_rules() -> tuple[str, ...]:
    """Fixed rules with a learning rate `rules.<rule>_lr` to tune."""
    fields = {f.name for f in dataclasses.fields(RuleParams)}
    return tuple(r for r in names.fixed_rules() if f"{r}_lr" in fields)


@dataclass(frozen=True)
class BaselinesParams:
    """Fixed rules tuned on the validation split (learning rate x homeostasis rate x epochs), each
    grid point judged by the few-label SVM of meta_compare.labels; `none` without homeostasis."""

    rules: list[str] = field(metadata=spec(choices=tunable_rules, unique=True))
    lrs: list[float] = field(metadata=spec(gt=0.0, le=10.0, nonempty=True, unique=True))
    # 0 = homeostasis off
    homeostasis_rates: list[float] = field(metadata=spec(ge=0.0, le=1.0, nonempty=True, unique=True))
    epochs: list[int] = field(metadata=spec(ge=1, le=10_000, nonempty=True, unique=True))
    seeds: list[int] = field(metadata=spec(ge=0, le=MAX_SEED, nonempty=True, unique=True))  # search networks


@dataclass(frozen=True)
class ConfirmParams:
    """Fresh data draws never used in development: draw i is (data_seeds[i], projection_seeds[i])."""

    data_seeds: list[int] = field(metadata=spec(ge=0, le=MAX_SEED, nonempty=True, unique=True))
    projection_seeds: list[int] = field(metadata=spec(ge=0, le=MAX_SEED, nonempty=True, unique=True))

    def check(self, prefix: str) -> None:
        if len(self.data_seeds) != len(self.projection_seeds):
            raise ParamError(
                f"{prefix}.projection_seeds: {len(self.projection_seeds)} given for "
                f"{len(self.data_seeds)} data_seeds; accepted: one per data seed"
            )

    @property
    def draws(self) -> list[tuple[int, int]]:
        return list(zip(self.data_seeds, self.projection_seeds, strict=True))


@dataclass(frozen=True)
class TaskParams:
    """Rules meta-trained by CMA-ES on a distribution of generated tasks (`metahebb.tasks`),
    never on a dataset they are judged on; judged like meta_compare's variants."""

    variants: list[str] = field(metadata=spec(nonempty=True, unique=True))  # <rule>-es-<objective>
    families: list[str] = field(metadata=spec(choices=names.task_families, nonempty=True, unique=True))
    per_generation: int = field(metadata=spec(ge=1, le=64))  # fresh tasks per CMA-ES generation
    n_samples: int = field(metadata=spec(ge=20, le=100_000))  # points per task
    noise: float = field(metadata=spec(ge=0.0, le=2.0))  # the largest latent noise; each task draws its own
    nonlinear: float = field(metadata=spec(ge=0.0, le=1.0))  # fraction of tasks with a non-linear projection
    held_out_tasks: int = field(metadata=spec(ge=1, le=1000))  # tasks each run is judged on (task_validation)
    held_out_seed: int = field(
        metadata=spec(ge=0)
    )  # their draw's seed (numpy's stream, apart from every ES draw)

    def check(self, prefix: str) -> None:
        from metahebb.params.meta import parse_variant

        for variant in self.variants:
            try:
                _, optimizer, _ = parse_variant(variant)
            except ParamError:
                optimizer = None
            if optimizer != "es":
                raise ParamError(
                    f"{prefix}.variants: {variant!r}; accepted: <rule>-es-<objective> (the tasks are "
                    "drawn afresh each CMA-ES generation, which only the es optimiser reads), rule in "
                    f"{', '.join(names.meta_trained_rules())}, objective in {', '.join(names.objectives())}"
                )


def capacity_references() -> tuple[str, ...]:
    """References the capacity and schedule stages can judge at every size or mode: `none` with and
    without homeostasis, and the tuned fixed rules (their settings chosen at kcap_rnn's size and
    train_hebbian's batch, as the learned rules' were)."""
    return ("none", "none-static", *(f"{r}-tuned" for r in tunable_rules()))


@dataclass(frozen=True)
class CapacityParams:
    """Code sizes the frozen tasks rules are applied at: size i is (m[i], k[i]) in place of
    kcap_rnn's m and k; nothing is meta-trained or tuned again at a new size."""

    variants: list[str] = field(metadata=spec(nonempty=True, unique=True))  # of tasks.variants
    m: list[int] = field(metadata=spec(ge=2, le=4096, nonempty=True))
    k: list[int] = field(metadata=spec(ge=1, le=4095, nonempty=True))
    references: list[str] = field(metadata=spec(choices=capacity_references, unique=True))
    targets: list[str] = field(metadata=spec(choices=TARGET_NAMES, nonempty=True, unique=True))

    def check(self, prefix: str) -> None:
        if len(self.m) != len(self.k):
            raise ParamError(f"{prefix}.k: {len(self.k)} given for {len(self.m)} m; accepted: one k per m")
        for m, k in zip(self.m, self.k, strict=True):
            if k >= m:
                raise ParamError(f"{prefix}.k={k}: must be < its m={m} (and >= 1)")
        if len(set(self.sizes)) != len(self.sizes):
            raise ParamError(f"{prefix}: (m, k) pairs {self.sizes} repeat; accepted: distinct sizes")

    @property
    def sizes(self) -> list[tuple[int, int]]:
        return list(zip(self.m, self.k, strict=True))


@dataclass(frozen=True)
class ScheduleParams:
    """Inner schedules the frozen tasks rules are applied with: mode i trains with batch_size[i] in
    place of train_hebbian.batch_size (1: the paper's per-sample mode); a `scaled` mode multiplies
    the rule's change and the homeostasis rate by batch_size[i] / train_hebbian.batch_size, so an
    epoch moves the weights and thresholds as far as the schedule the rule was meta-trained for."""

    variants: list[str] = field(metadata=spec(nonempty=True, unique=True))  # of tasks.variants
    batch_size: list[int] = field(metadata=spec(ge=1, le=100_000, nonempty=True))
    scaled: list[bool] = field(metadata=spec(nonempty=True))
    references: list[str] = field(metadata=spec(choices=capacity_references, unique=True))
    targets: list[str] = field(metadata=spec(choices=TARGET_NAMES, nonempty=True, unique=True))

    def check(self, prefix: str) -> None:
        if len(self.batch_size) != len(self.scaled):
            raise ParamError(
                f"{prefix}.scaled: {len(self.scaled)} given for {len(self.batch_size)} batch_size; "
                "accepted: one per batch size"
            )
        if len(set(self.modes)) != len(self.modes):
            raise ParamError(
                f"{prefix}: (batch_size, scaled) pairs {self.modes} repeat; accepted: distinct modes"
            )

    @property
    def modes(self) -> list[tuple[int, bool]]:
        return list(zip(self.batch_size, self.scaled, strict=True))
