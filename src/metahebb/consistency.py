"""What the groups of params.yaml say about each other, checked before any stage runs.

A guard (like `validate`, which calls it): it decides whether a stage may start, never what it
computes, so it is no stage's dependency. Each check is one that a stage would otherwise meet
late, after hours of upstream work: every dataset a later stage reads is one `make_data` makes;
every rule a later stage reads is trained; label counts fit the training split the `data` group
implies (in total cheaply; per class, which needs the labels themselves, only `with_data`); the
report finds every model and label count its claims compare.
"""

from __future__ import annotations

import math
from typing import Any

from metahebb.params import LABEL_OBJECTIVES, DataParams, ParamError, check_objective, parse_variant

DIGITS_SIZE = 1797  # scikit-learn's bundled 8x8 digits, a generalisation target
# What the report's claims (`metahebb.claims`) compare: the paper's models, rules and meta-rules.
REPORT_NEEDS = {
    "backprop.architectures": ("mlp", "rnn"),
    "train_hebbian.rules": ("none", "hebb"),
    "meta_train.rules": ("learned", "learned_extended"),
    "generalisation.references": ("none",),  # the matrix's floor row
}


def _subset(key: str, values: list[str], accepted: list[str], why: str) -> list[str]:
    return [
        f"{key}={v!r}: {why}; accepted values are one of {', '.join(accepted)}"
        for v in values
        if v not in accepted
    ]


def _train_size(data: DataParams, n: int | None = None) -> int:
    n = data.n_samples if n is None else n
    return n - int(round(n * data.test_fraction))


def _labels_fit(
    key: str, labels: list, n_train: int, classes: int, smallest: int | None, where: str
) -> list[str]:
    """A balanced draw of N labels takes ceil(N / classes) points of each class."""
    problems = []
    for n in labels:
        if n == "all":
            continue
        if n > n_train:
            problems.append(
                f"{key}: {n} labels requested but the training split of {where} has {n_train} points"
            )
        elif smallest is not None and math.ceil(n / classes) > smallest:
            problems.append(
                f"{key}: {n} labels need {math.ceil(n / classes)} points per class but the training split "
                f"of {where} has {smallest} in its smallest class"
            )
    return problems


def _smallest_class(name: str, data: DataParams) -> int:
    """Points of the smallest class in a dataset's training split, from the labels make_data draws."""
    import numpy as np

    if name == "digits":
        from metahebb.datasets import test_mask
        from metahebb.datasets.digits import load_digits

        y = load_digits().target
        is_test = test_mask(len(y), data.test_fraction, data.seed)
    else:
        from metahebb.datasets import make_dataset

        dataset = make_dataset(name, data)
        y, is_test = dataset.y, dataset.is_test
    counts = np.bincount(y[~is_test])
    return int(counts[counts > 0].min())


def _datasets_made(g: dict[str, Any]) -> list[str]:
    made, problems = g.get("datasets"), []
    if made is None:
        return []
    if "meta_train" in g:
        problems += _subset(
            "meta_train.datasets", g["meta_train"].datasets, made, "make_data does not make it"
        )
    if "generalisation" in g:
        gen = g["generalisation"]
        problems += _subset("generalisation.sources", gen.sources, made, "make_data does not make it")
        problems += _subset(
            "generalisation.targets", gen.targets, [*made, "digits"], "make_data does not make it"
        )
        if gen.leave_one_out and "meta_train" in g:
            for ds in gen.sources:
                if not [d for d in g["meta_train"].datasets if d != ds]:
                    problems.append(
                        f"generalisation.leave_one_out=true: meta_train.datasets="
                        f"{g['meta_train'].datasets} leaves nothing to meta-train on without {ds}"
                    )
    if "semi_supervised" in g and "meta" in g["semi_supervised"].readout_rule and len(made) < 2:
        problems.append(
            f"semi_supervised.readout_rule: 'meta' learns on the datasets other than the one it is "
            f"scored on; datasets={made} has only one"
        )
    return problems


def _rules_trained(g: dict[str, Any]) -> list[str]:
    if "train_hebbian" not in g or "meta_train" not in g:
        return []
    trained, problems = g["train_hebbian"].rules + g["meta_train"].rules, []
    if "semi_supervised" in g:
        semi = g["semi_supervised"]
        for key, rule in (("rule", semi.rule), ("baseline_rule", semi.baseline_rule)):
            problems += _subset(
                f"semi_supervised.{key}",
                [rule],
                trained,
                "no rule of train_hebbian.rules or meta_train.rules",
            )
    if "generalisation" in g:
        problems += _subset(
            "generalisation.rule",
            [g["generalisation"].rule],
            g["meta_train"].rules,
            "meta_train does not train it",
        )
    return problems


def _objectives(g: dict[str, Any]) -> set[str]:
    """Every objective some stage meta-trains with."""
    found = {g["meta_train"].objective} if "meta_train" in g else set()
    if "meta_compare" in g:
        found |= {parse_variant(v)[2] for v in g["meta_compare"].variants.names} - {None}
    if "tasks" in g:
        found |= {parse_variant(v)[2] for v in g["tasks"].variants}
    return found


def _meta_compare(g: dict[str, Any]) -> list[str]:
    if "meta_compare" not in g:
        return []
    comp, problems = g["meta_compare"], []
    if g.get("datasets") is not None:
        problems += _subset(
            "meta_compare.targets", comp.targets, [*g["datasets"], "digits"], "make_data does not make it"
        )
    if "meta_train" in g:
        meta = g["meta_train"]
        for variant in comp.variants.names:
            _, optimizer, objective = parse_variant(variant)
            if optimizer is not None:
                try:
                    check_objective("meta_train", optimizer, objective, meta.objective_labels)
                except ParamError as err:
                    problems.append(f"meta_compare.variants: {variant!r}: {err}")
        if not comp.leave_one_out.names:
            problems.append(
                "meta_compare.leave_one_out: every list is empty, but the report stage depends on "
                "metrics/meta_compare_loo/ (dvc.yaml), which only these stages make; name at least one variant"
            )
        elif len(meta.datasets) < 2:
            problems.append(
                f"meta_compare.leave_one_out: meta_train.datasets={meta.datasets} leaves nothing to "
                "meta-train on without one of them"
            )
    return problems


def _tasks(g: dict[str, Any]) -> list[str]:
    """A generated task's validation part must hold the labelled draw and points to score it on."""
    if not {"tasks", "meta_train"} <= set(g):
        return []
    tasks, meta, problems = g["tasks"], g["meta_train"], []
    for variant in tasks.variants:
        try:
            check_objective("meta_train", "es", parse_variant(variant)[2], meta.objective_labels)
        except ParamError as err:
            problems.append(f"tasks.variants: {variant!r}: {err}")
    n_val = round(meta.validation_fraction * tasks.n_samples)
    needed = max(meta.objective_labels + 2, 4)
    if n_val < needed or tasks.n_samples - n_val < 2:
        problems.append(
            f"tasks.n_samples={tasks.n_samples}: its validation part (meta_train.validation_fraction="
            f"{meta.validation_fraction}) has {n_val} points and the inner part {tasks.n_samples - n_val}; "
            f"accepted: a validation part of >= {needed} (meta_train.objective_labels + 2) and an inner part of >= 2"
        )
    return problems


def _frozen_sweeps(g: dict[str, Any]) -> list[str]:
    """The capacity and schedule sweeps apply tasks runs, and tuned references at the settings the
    baselines stage chose."""
    problems = []
    for group in ("capacity", "schedule"):
        if {group, "tasks"} <= set(g):
            problems += [
                f"{group}.variants: {v!r} is not meta-trained on tasks; accepted: entries of tasks.variants "
                f"({', '.join(g['tasks'].variants)})"
                for v in g[group].variants
                if v not in g["tasks"].variants
            ]
        if {group, "baselines"} <= set(g):
            tuned = {f"{r}-tuned" for r in g["baselines"].rules}
            problems += [
                f"{group}.references: {ref!r} is not tuned by the baselines stage (baselines.rules="
                f"{g['baselines'].rules}); accepted: none, none-static or <rule>-tuned of a rule in baselines.rules"
                for ref in g[group].references
                if ref.endswith("-tuned") and ref not in tuned
            ]
    if {"schedule", "train_hebbian"} <= set(g):
        batch = g["train_hebbian"].batch_size
        problems += [
            f"schedule.scaled: true at batch_size={b}, train_hebbian.batch_size itself, scales by 1 and repeats "
            f"the unscaled mode; accepted: false there"
            for b, scaled in g["schedule"].modes
            if scaled and b == batch
        ]
    return problems


def _label_lists(g: dict[str, Any]) -> list[tuple[str, list, list[str]]]:
    """(key, label counts, datasets they are drawn from) of every stage that draws labels."""
    made, labels = g.get("datasets") or [], []
    if "evaluate" in g:
        labels.append(("evaluate.svm_labels", g["evaluate"].svm_labels, made))
    if "semi_supervised" in g:
        labels.append(("semi_supervised.labels", g["semi_supervised"].labels, made))
    for group in ("meta_compare", "generalisation"):
        if group in g:
            params = g[group]
            counts = params.labels if isinstance(params.labels, list) else [params.labels]
            labels.append((f"{group}.labels", counts, [t for t in params.targets if t != "digits"]))
            if "digits" in params.targets:
                labels.append((f"{group}.labels", counts, ["digits"]))
    return labels


def _label_counts(g: dict[str, Any], with_data: bool) -> list[str]:
    if "data" not in g:
        return []
    data, problems = g["data"], []
    if "meta_train" in g and _objectives(g) & set(LABEL_OBJECTIVES):
        meta = g["meta_train"]
        n_val = round(_train_size(data) * meta.validation_fraction)
        if meta.objective_labels + 2 > n_val:
            problems.append(
                f"meta_train.objective_labels={meta.objective_labels}: the validation part "
                f"(meta_train.validation_fraction={meta.validation_fraction}) has {n_val} points; "
                "a label objective needs these labels plus at least 2 points to score"
            )
    smallest: dict[str, int] = {}
    for key, counts, datasets in _label_lists(g):
        for ds in datasets or ["every dataset"]:
            size = DIGITS_SIZE if ds == "digits" else None
            classes = 10 if ds == "digits" else 2
            if with_data and ds != "every dataset":
                smallest.setdefault(ds, _smallest_class(ds, data))
            found = _labels_fit(key, counts, _train_size(data, size), classes, smallest.get(ds), ds)
            if found:
                problems += found
                break  # the same count fails the same way on every dataset
    return problems


def _report_needs(g: dict[str, Any]) -> list[str]:
    """The report stage runs last; what it needs must be asked for before the first stage runs."""
    problems = []
    for key, needed in REPORT_NEEDS.items():
        group, name = key.split(".")
        if group in g:
            have = getattr(g[group], name)
            problems += [
                f"{key}={have}: the report's claims compare {', '.join(needed)}; add {n!r}"
                for n in needed
                if n not in have
            ][:1]
    if "generalisation" in g and "evaluate" in g:
        n, svm = g["generalisation"].labels, g["evaluate"].svm_labels
        if n not in svm:
            problems.append(
                f"generalisation.labels={n}: the report judges evaluate's SVM accuracy at this label "
                f"count; add it to evaluate.svm_labels={svm}"
            )
    return problems


def _fresh_draws(g: dict[str, Any]) -> list[str]:
    """A confirmatory draw must be one development never saw: no seed of `data` reused."""
    if not {"confirm", "data"} <= set(g):
        return []
    confirm, data = g["confirm"], g["data"]
    return [
        f"confirm.{key}: {used} is data.{field}, the development draw; accepted: seeds never used in development"
        for key, field, seeds, used in (
            ("data_seeds", "seed", confirm.data_seeds, data.seed),
            ("projection_seeds", "projection_seed", confirm.projection_seeds, data.projection_seed),
        )
        if used in seeds
    ]


def cross_group_problems(g: dict[str, Any], with_data: bool = False) -> list[str]:
    """One line per inconsistency between the parsed groups `g` (those that parsed)."""
    return [
        *_datasets_made(g),
        *_rules_trained(g),
        *_meta_compare(g),
        *_tasks(g),
        *_frozen_sweeps(g),
        *_label_counts(g, with_data),
        *_report_needs(g),
        *_fresh_draws(g),
    ]
