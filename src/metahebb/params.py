"""Typed, validated views of `params.yaml`, one dataclass per stage group.

A stage reads its group with `load_group(Group, "name")` before any work starts. Every
problem (unknown key, missing key, wrong type, value out of range, inconsistent combination)
raises `ParamError` with one line naming the key, the value and what is accepted, so that
`stages/` can print it and exit without a traceback or a partial output.

A field's accepted range lives beside it as `field(metadata=spec(...))`; cross-field checks
live in the group's `check()` method.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

DATASET_NAMES = ("circles", "moons", "blobs")
MAX_SEED = 2**32 - 1  # numpy and torch generators accept every seed up to here


class ParamError(ValueError):
    """A bad value in params.yaml; the message is the single line the user sees."""


def spec(
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple | None = None,
    nonempty: bool = False,
    unique: bool = False,
) -> dict:
    """Accepted range of a field, checked for scalars and for every item of a list."""
    return {
        "ge": ge,
        "gt": gt,
        "le": le,
        "lt": lt,
        "choices": choices,
        "nonempty": nonempty,
        "unique": unique,
    }


def _describe(rule: dict) -> str:
    parts = []
    if rule.get("choices") is not None:
        parts.append("one of " + ", ".join(map(str, rule["choices"])))
    for key, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if rule.get(key) is not None:
            parts.append(f"{sign} {rule[key]}")
    return " and ".join(parts)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is typing.Literal or origin is typing.Literal:
        return " or ".join(repr(a) for a in typing.get_args(tp))
    return {int: "an integer", float: "a number", str: "a string", bool: "true/false"}.get(tp, str(tp))


def _matches(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin is list:
        return isinstance(value, list) and all(_matches(v, typing.get_args(tp)[0]) for v in value)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(tp))
    if origin is typing.Literal:
        return value in typing.get_args(tp)
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, tp)


def _check_range(key: str, value: Any, rule: dict) -> None:
    items = value if isinstance(value, list) else [value]
    if rule.get("nonempty") and isinstance(value, list) and not value:
        raise ParamError(f"{key}: must be a non-empty list")
    if rule.get("unique") and isinstance(value, list) and len(set(map(str, value))) != len(value):
        raise ParamError(f"{key}={value!r}: items must be unique")
    for item in items:
        if isinstance(item, str | bool):
            ok = rule.get("choices") is None or item in rule["choices"]
        else:
            ok = (
                (rule.get("choices") is None or item in rule["choices"])
                and (rule.get("ge") is None or item >= rule["ge"])
                and (rule.get("gt") is None or item > rule["gt"])
                and (rule.get("le") is None or item <= rule["le"])
                and (rule.get("lt") is None or item < rule["lt"])
            )
        if not ok:
            raise ParamError(f"{key}={item!r}: accepted values are {_describe(rule)}")


G = TypeVar("G")


def key_name(key: Any) -> str:
    """A YAML key as it can appear in a one-line message (keys may be numbers or hold newlines)."""
    return key if isinstance(key, str) and key.isidentifier() else repr(key)


def parse_group(cls: type[G], raw: Any, prefix: str) -> G:
    """Build dataclass `cls` from the dict `raw`, validating every field; `prefix` names it in errors."""
    if not isinstance(raw, dict):
        raise ParamError(f"{prefix}: expected a mapping of keys, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields), key=str)
    if unknown:
        raise ParamError(
            f"{prefix}.{key_name(unknown[0])}: unknown key; accepted keys are {', '.join(fields)}"
        )
    values = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}"
        tp = hints[name]
        if name not in raw:
            raise ParamError(f"{key}: missing key ({_type_name(tp)})")
        value = raw[name]
        if dataclasses.is_dataclass(tp):
            values[name] = parse_group(tp, value, key)
            continue
        if not _matches(value, tp):
            raise ParamError(f"{key}={value!r}: expected {_type_name(tp)}")
        if tp is float:
            value = float(value)
            if not math.isfinite(value):
                raise ParamError(f"{key}={value!r}: expected a finite number")
        if f.metadata:
            _check_range(key, value, dict(f.metadata))
        values[name] = value
    group = cls(**values)
    check = getattr(group, "check", None)
    if check is not None:
        check(prefix)
    return group


def read_params(path: str | Path = "params.yaml") -> dict:
    """The whole params file as a dict, with a one-line error when it is missing or not YAML."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ParamError(f"{path}: file not found (run from the repository root)") from None
    except yaml.YAMLError as err:
        raise ParamError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ParamError(f"{path}: expected a mapping of parameter groups")
    return raw


def load_group(cls: type[G], name: str, path: str | Path = "params.yaml") -> G:
    """Validated group `name` of the params file."""
    raw = read_params(path)
    if name not in raw:
        raise ParamError(f"{name}: missing group in {path}")
    return parse_group(cls, raw[name], name)


def load_datasets(path: str | Path = "params.yaml", raw: dict | None = None) -> list[str]:
    """The top-level `datasets` list that every per-dataset stage iterates over (of `raw` if given)."""
    raw = read_params(path) if raw is None else raw
    if "datasets" not in raw:
        raise ParamError("datasets: missing key (a list of dataset names)")
    value = raw["datasets"]
    if not _matches(value, list[str]):
        raise ParamError(f"datasets={value!r}: expected a list of strings")
    _check_range("datasets", value, spec(choices=DATASET_NAMES, nonempty=True, unique=True))
    return value


def require_choice(key: str, value: str, accepted: typing.Iterable[str]) -> None:
    """One-line error for a command-line argument (dataset, model) outside its list."""
    accepted = list(accepted)
    if value not in accepted:
        raise ParamError(f"{key}={value!r}: accepted values are one of {', '.join(accepted)}")


# ---------------------------------------------------------------- groups


@dataclass(frozen=True)
class RuntimeParams:
    """How stages use the machine; never changes a result on CPU."""

    threads: int = field(metadata=spec(ge=1, le=64))
    device: str = field(metadata=spec(choices=("auto", "cpu", "cuda")))
    # Worker processes for a stage's independent runs (`metahebb.fanout`); "auto": one per usable core.
    workers: int | str = field(default="auto", metadata=spec(ge=1, le=1024))
    # Address of a running Dask scheduler (tcp://host:8786) to send the runs to; "" = local workers.
    # The environment variables METAHEBB_SCHEDULER and METAHEBB_WORKERS take precedence.
    scheduler: str = ""

    def check(self, prefix: str) -> None:
        if isinstance(self.workers, str) and self.workers != "auto":
            raise ParamError(f"{prefix}.workers={self.workers!r}: accepted values are 'auto' or 1..1024")
        if self.scheduler and "://" not in self.scheduler:
            raise ParamError(
                f"{prefix}.scheduler={self.scheduler!r}: expected a Dask scheduler address such as "
                "tcp://127.0.0.1:8786, or '' for local workers"
            )


@dataclass(frozen=True)
class DataParams:
    n_samples: int = field(metadata=spec(ge=20, le=1_000_000))
    noise: float = field(metadata=spec(ge=0.0))
    circles_factor: float = field(metadata=spec(gt=0.0, lt=1.0))
    blobs_std: float = field(metadata=spec(gt=0.0))
    blobs_distance: float = field(metadata=spec(gt=0.0))
    class_balance: float = field(metadata=spec(gt=0.0, lt=1.0))
    ambient_dim: int = field(metadata=spec(ge=2, le=10_000))
    test_fraction: float = field(metadata=spec(gt=0.0, lt=1.0))
    seed: int = field(metadata=spec(ge=0, le=MAX_SEED))
    projection_seed: int = field(metadata=spec(ge=0, le=MAX_SEED))

    def check(self, prefix: str) -> None:
        n0 = round(self.n_samples * self.class_balance)
        if min(n0, self.n_samples - n0) < 2:
            raise ParamError(
                f"{prefix}.class_balance={self.class_balance}: leaves {n0} and {self.n_samples - n0} "
                "points in the two classes; both need at least 2"
            )
        n_test = round(self.n_samples * self.test_fraction)
        if n_test < 2 or self.n_samples - n_test < 2:
            raise ParamError(
                f"{prefix}.test_fraction={self.test_fraction}: leaves {n_test} test and "
                f"{self.n_samples - n_test} training points; both need at least 2"
            )


@dataclass(frozen=True)
class BackpropParams:
    architectures: list[str] = field(metadata=spec(choices=("mlp", "rnn"), nonempty=True, unique=True))
    hidden: int = field(metadata=spec(ge=1, le=4096))
    latent_layer: int = field(metadata=spec(ge=1, le=3))
    activation: str = field(metadata=spec(choices=("tanh", "relu", "elu", "sigmoid")))
    optimizer: str = field(metadata=spec(choices=("adam", "sgd")))
    lr: float = field(metadata=spec(gt=0.0, le=10.0))
    epochs: int = field(metadata=spec(ge=1, le=100_000))
    batch_size: int = field(metadata=spec(ge=1))
    seeds: list[int] = field(metadata=spec(ge=0, le=MAX_SEED, nonempty=True, unique=True))
    plateau_rel_mse: float = field(metadata=spec(gt=0.0, le=1.0))


@dataclass(frozen=True)
class EvaluateParams:
    latent_dim: int = field(metadata=spec(ge=1, le=3))
    emd_points: int = field(metadata=spec(ge=2, le=20_000))
    emd_normalise: str = field(metadata=spec(choices=("zscore", "scale", "none")))
    emd_align: str = field(metadata=spec(choices=("procrustes", "none")))
    emd_cost: str = field(metadata=spec(choices=("sqeuclidean", "euclidean")))
    emd_max_iter: int = field(metadata=spec(ge=1000))
    svm_labels: list[int | str] = field(metadata=spec(nonempty=True, unique=True))
    svm_draws: int = field(metadata=spec(ge=1, le=1000))
    svm_kernel: str = field(metadata=spec(choices=("rbf", "linear")))
    svm_c: float = field(metadata=spec(gt=0.0))
    seed: int = field(metadata=spec(ge=0, le=MAX_SEED))

    def check(self, prefix: str) -> None:
        for n in self.svm_labels:
            if n == "all":
                continue
            if isinstance(n, str) or n < 2:
                raise ParamError(
                    f"{prefix}.svm_labels: item {n!r} is not accepted; use integers >= 2 or 'all'"
                )


def check_label_counts(labels: list[int | str], n_train: int, prefix: str = "evaluate.svm_labels") -> None:
    """A label count must fit in the training split, which is known only once data exists."""
    for n in labels:
        if n != "all" and n > n_train:
            raise ParamError(f"{prefix}: {n} labels requested but the training split has {n_train} points")


# ---- k-cap RNN, rules, meta-training, frozen-rule training (issue 3)

RULE_NAMES = ("none", "hebb", "oja", "learned", "learned_extended", "table", "attention")
META_TRAINED_RULES = ("learned", "learned_extended", "table", "attention")  # theta from meta-training
OPTIMIZER_NAMES = ("gradient", "es")  # outer loops (src/metahebb/outer/)
OBJECTIVE_NAMES = ("paper", "ridge", "both", "labels_ce", "labels_acc")  # src/metahebb/objectives/
LABEL_OBJECTIVES = ("labels_ce", "labels_acc")  # these read labels of validation points
GRADIENT_FREE_OBJECTIVES = ("labels_acc",)  # no gradient: only the `es` optimiser can use them
FIXED_RULES = tuple(r for r in RULE_NAMES if r not in META_TRAINED_RULES)


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

    def check(self, prefix: str) -> None:
        if self.max_step > 0 and self.init_step >= self.max_step:
            raise ParamError(f"{prefix}.init_step={self.init_step}: must be < max_step={self.max_step}")


@dataclass(frozen=True)
class MetaParams:
    rules: list[str] = field(metadata=spec(choices=META_TRAINED_RULES, unique=True))
    datasets: list[str] = field(metadata=spec(choices=DATASET_NAMES, nonempty=True, unique=True))
    steps: int = field(metadata=spec(ge=1, le=1_000_000))
    lr: float = field(metadata=spec(gt=0.0, le=10.0))
    population: int = field(metadata=spec(ge=1, le=4096))
    batch_size: int = field(metadata=spec(ge=1))
    reset_every: int = field(metadata=spec(ge=1))
    lookahead: int = field(metadata=spec(ge=1, le=64))
    relaxation: str = field(metadata=spec(choices=("ste", "soft")))
    temperature: float = field(metadata=spec(gt=0.0))
    objective: str = field(metadata=spec(choices=OBJECTIVE_NAMES))
    ridge_lambda: float = field(metadata=spec(gt=0.0))
    grad_clip: float = field(metadata=spec(gt=0.0))
    seed: int = field(metadata=spec(ge=0, le=MAX_SEED))
    collapse_penalty: float = field(default=0.0, metadata=spec(ge=0.0))
    # Steps between checkpoints of the meta_train stage (0: none). Never changes theta.
    checkpoint_every: int = field(default=0, metadata=spec(ge=0))
    optimizer: str = field(default="gradient", metadata=spec(choices=OPTIMIZER_NAMES))
    # Fraction of each dataset's training points held out to score rules (label objectives, `es`).
    validation_fraction: float = field(default=0.3, metadata=spec(gt=0.0, lt=1.0))
    objective_labels: int = field(default=8, metadata=spec(ge=0))  # labelled validation points per network
    label_temperature: float = field(default=0.1, metadata=spec(gt=0.0))  # softmax scale of labels_ce

    def check(self, prefix: str) -> None:
        check_objective(prefix, self.optimizer, self.objective, self.objective_labels)


def check_objective(prefix: str, optimizer: str, objective: str, labels: int) -> None:
    """An objective the optimiser can use, with the labels it needs."""
    if optimizer == "gradient" and objective in GRADIENT_FREE_OBJECTIVES:
        raise ParamError(
            f"{prefix}.objective={objective!r}: has no gradient; use optimizer es or another objective"
        )
    if objective in LABEL_OBJECTIVES and labels < 2:
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


@dataclass(frozen=True)
class HebbianParams:
    rules: list[str] = field(metadata=spec(choices=FIXED_RULES, unique=True))
    epochs: int = field(metadata=spec(ge=1, le=100_000))
    batch_size: int = field(metadata=spec(ge=1))
    seeds: list[int] = field(metadata=spec(ge=0, le=MAX_SEED, nonempty=True, unique=True))
    collapse_codes: int = field(default=10, metadata=spec(ge=1))  # fewer distinct test codes: collapsed


# ---- semi-supervised readout, cross-task generalisation, report (issue 4)

READOUT_RULES = ("reuse", "meta")
TARGET_NAMES = (*DATASET_NAMES, "digits")


@dataclass(frozen=True)
class SemiSupervisedParams:
    rule: str = field(metadata=spec(choices=RULE_NAMES))
    baseline_rule: str = field(metadata=spec(choices=RULE_NAMES))
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
    rule: str = field(metadata=spec(choices=META_TRAINED_RULES))
    sources: list[str] = field(metadata=spec(choices=DATASET_NAMES, unique=True))
    leave_one_out: bool
    references: list[str] = field(metadata=spec(choices=FIXED_RULES, unique=True))
    targets: list[str] = field(metadata=spec(choices=TARGET_NAMES, nonempty=True, unique=True))
    digits_input: str = field(metadata=spec(choices=("raw", "projected")))
    labels: int = field(metadata=spec(ge=2))
    seeds: list[int] = field(metadata=spec(ge=0, le=MAX_SEED, nonempty=True, unique=True))


# ---- outer optimisers, objectives and rule parameterisations compared (issue 7)


def parse_variant(variant: str) -> tuple[str, str | None, str | None]:
    """'table-es-labels_ce' -> ("table", "es", "labels_ce"); a fixed rule ('hebb') -> ("hebb", None, None)."""
    parts = variant.split("-")
    if len(parts) == 1 and parts[0] in FIXED_RULES:
        return parts[0], None, None
    if (
        len(parts) == 3
        and parts[0] in META_TRAINED_RULES
        and parts[1] in OPTIMIZER_NAMES
        and parts[2] in OBJECTIVE_NAMES
    ):
        return parts[0], parts[1], parts[2]
    raise ParamError(
        f"meta_compare.variants: {variant!r} is neither a fixed rule ({', '.join(FIXED_RULES)}) nor "
        f"<rule>-<optimizer>-<objective> with rule in {', '.join(META_TRAINED_RULES)}, optimizer in "
        f"{', '.join(OPTIMIZER_NAMES)}, objective in {', '.join(OBJECTIVE_NAMES)}"
    )


@dataclass(frozen=True)
class VariantLists:
    """Variants by how they are meta-trained: each list is its own DVC stage group, which tracks
    only the settings its variants read (a fixed rule does not rerun when ES settings change)."""

    fixed: list[str] = field(metadata=spec(choices=FIXED_RULES, unique=True))  # no meta-training
    gradient: list[str] = field(metadata=spec(unique=True))  # <rule>-gradient-<objective>
    es: list[str] = field(metadata=spec(unique=True))  # <rule>-es-<objective>

    @property
    def names(self) -> list[str]:
        """Every variant, fixed rules first, in the order of the report's tables."""
        return [*self.fixed, *self.gradient, *self.es]

    def check(self, prefix: str) -> None:
        for optimizer in OPTIMIZER_NAMES:
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
