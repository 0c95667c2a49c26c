"""Typed, validated views of `params.yaml`: one dataclass per group, and one root object for all.

    params = load_params()            # parsed once per process and path
    params.meta_train.steps, params.kcap_rnn.k, params.datasets

Every problem (unknown key, missing key, wrong type, value out of range, inconsistent
combination) raises `ParamError` with one line naming the key, the value and what is accepted,
so that `stages/` can print it and exit without a traceback or a partial output. A field's range
lives beside it (`field(metadata=spec(...))`), a group's cross-field rules in its `check()`, the
rules across groups in `metahebb.validate` (run by every stage before `main`). The names of rules,
objectives and optimisers belong to their registries (`metahebb.names`).

Why dataclasses and not pydantic: the schema machinery is ~200 lines (`schema.py`), gives the
one-line messages the stages print with no translation layer, and keeps `validate` importable
without pydantic's start-up; pydantic v2 would replace `_matches`/`_check_range` (~60 lines) but
need a message adapter of about the same size and per-field validators for every `check()`.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path

from metahebb import names
from metahebb.params.data import (
    DATASET_NAMES,
    TARGET_NAMES,
    BackpropParams,
    DataParams,
    EvaluateParams,
    RuntimeParams,
    check_label_counts,
)
from metahebb.params.inner import HebbianParams, KCapRNNParams, RuleParams, StabiliserParams
from metahebb.params.meta import (
    READOUT_RULES,
    CompareParams,
    ESParams,
    GeneralisationParams,
    MetaParams,
    SemiSupervisedParams,
    VariantLists,
    check_objective,
    parse_variant,
)
from metahebb.params.schema import (
    MAX_SEED,
    ParamError,
    key_name,
    load_datasets,
    load_group,
    parse_group,
    read_params,
    require_choice,
    spec,
)
from metahebb.params.study import BaselinesParams, CapacityParams, ConfirmParams, ScheduleParams, TaskParams


@dataclass(frozen=True)
class Params:
    """The whole params file; field names are its group names."""

    datasets: list[str]
    runtime: RuntimeParams
    data: DataParams
    backprop: BackpropParams
    evaluate: EvaluateParams
    kcap_rnn: KCapRNNParams
    stabilisers: StabiliserParams
    rules: RuleParams
    meta_train: MetaParams
    es: ESParams
    train_hebbian: HebbianParams
    semi_supervised: SemiSupervisedParams
    generalisation: GeneralisationParams
    meta_compare: CompareParams
    baselines: BaselinesParams
    confirm: ConfirmParams
    tasks: TaskParams
    capacity: CapacityParams
    schedule: ScheduleParams


def parse_params(raw: dict, path: str | Path = "params.yaml") -> Params:
    """Every group of the parsed file `raw`, validated."""
    groups = {"datasets": load_datasets(path, raw)}
    types = typing.get_type_hints(Params)
    for f in dataclasses.fields(Params)[1:]:
        if f.name not in raw:
            raise ParamError(f"{f.name}: missing group in {path}")
        groups[f.name] = parse_group(types[f.name], raw[f.name], f.name)
    return Params(**groups)


def load_params(path: str | Path = "params.yaml") -> Params:
    """The validated params file; the file is read and parsed once per process while unchanged."""
    return parse_params(read_params(path), path)


# Registered names, kept importable under their old constant names; asked of the registries.
_NAMES = {
    "RULE_NAMES": names.rules,
    "META_TRAINED_RULES": names.meta_trained_rules,
    "FIXED_RULES": names.fixed_rules,
    "OPTIMIZER_NAMES": names.optimizers,
    "OBJECTIVE_NAMES": names.objectives,
    "LABEL_OBJECTIVES": names.label_objectives,
    "GRADIENT_FREE_OBJECTIVES": names.gradient_free_objectives,
}


def __getattr__(name: str) -> tuple[str, ...]:
    if name in _NAMES:
        return _NAMES[name]()
    raise AttributeError(f"module 'metahebb.params' has no attribute {name!r}")


__all__ = [
    "DATASET_NAMES", "MAX_SEED", "READOUT_RULES", "TARGET_NAMES", "BackpropParams", "BaselinesParams",
    "CapacityParams", "CompareParams", "ConfirmParams",
    "DataParams", "ESParams", "EvaluateParams", "GeneralisationParams", "HebbianParams", "KCapRNNParams",
    "MetaParams", "ParamError", "Params", "RuleParams", "RuntimeParams", "SemiSupervisedParams",
    "ScheduleParams", "StabiliserParams", "TaskParams", "VariantLists", "check_label_counts", "check_objective", "key_name", "load_datasets",
    "load_group", "load_params", "names", "parse_group", "parse_params", "parse_variant", "read_params",
    "require_choice", "spec",
]  # fmt: skip
