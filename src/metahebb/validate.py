"""The whole params file checked at once: every group, then what groups say about each other.

    python -m metahebb.validate [params.yaml]

prints one line per problem (the key, the value, what is accepted) and exits 1, or prints
`params.yaml: valid`. Every stage runs the same check (without the data) when it starts,
through `metahebb.stage.run`, so a bad file stops the pipeline before anything is written.

Cross-group checks: every dataset a later stage reads is one `make_data` makes; the rule whose
latents `semi_supervised` reads is trained by `train_hebbian` or `meta_train`; label counts fit
the training split the `data` group implies (in total cheaply; per class, which needs the
labels themselves, only with `with_data=True`, as the command does).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from metahebb.limits import limit_problems
from metahebb.params import (
    LABEL_OBJECTIVES,
    BackpropParams,
    CompareParams,
    DataParams,
    ESParams,
    EvaluateParams,
    GeneralisationParams,
    HebbianParams,
    KCapRNNParams,
    MetaParams,
    ParamError,
    RuleParams,
    RuntimeParams,
    SemiSupervisedParams,
    StabiliserParams,
    check_objective,
    key_name,
    load_datasets,
    parse_group,
    parse_variant,
)
from metahebb.params_file import clip, read_params_file

GROUPS: dict[str, type] = {
    "runtime": RuntimeParams,
    "data": DataParams,
    "backprop": BackpropParams,
    "evaluate": EvaluateParams,
    "kcap_rnn": KCapRNNParams,
    "stabilisers": StabiliserParams,
    "rules": RuleParams,
    "meta_train": MetaParams,
    "train_hebbian": HebbianParams,
    "semi_supervised": SemiSupervisedParams,
    "generalisation": GeneralisationParams,
    "es": ESParams,
    "meta_compare": CompareParams,
}
TOP_LEVEL = ("datasets", *GROUPS)
DIGITS_SIZE = 1797  # scikit-learn's bundled 8x8 digits, a generalisation target


def _parse(raw: dict) -> tuple[dict[str, Any], list[str]]:
    """Every group that parses, and one line for each that does not."""
    groups: dict[str, Any] = {}
    problems = []
    unknown = sorted(set(raw) - set(TOP_LEVEL), key=str)
    problems += [f"{key_name(k)}: unknown group; accepted groups are {', '.join(TOP_LEVEL)}" for k in unknown]
    if "datasets" not in raw:
        problems.append("datasets: missing key (a list of dataset names)")
    else:
        try:
            groups["datasets"] = load_datasets(raw=raw)
        except ParamError as err:
            problems.append(str(err))
    for name, cls in GROUPS.items():
        if name not in raw:
            problems.append(f"{name}: missing group")
            continue
        try:
            groups[name] = parse_group(cls, raw[name], name)
        except ParamError as err:
            problems.append(str(err))
    return groups, problems


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


def _cross_group(g: dict[str, Any], with_data: bool) -> list[str]:
    problems = []
    made = g.get("datasets")
    if made is not None:
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
    if "train_hebbian" in g and "meta_train" in g:
        trained = g["train_hebbian"].rules + g["meta_train"].rules
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
    problems += _meta_compare(g)
    if "data" in g:
        data = g["data"]
        labels = []
        if "evaluate" in g:
            labels.append(("evaluate.svm_labels", g["evaluate"].svm_labels, made or []))
        if "semi_supervised" in g:
            semi = g["semi_supervised"]
            labels.append(("semi_supervised.labels", semi.labels, made or []))
        if "meta_compare" in g:
            comp = g["meta_compare"]
            labels.append(("meta_compare.labels", comp.labels, [t for t in comp.targets if t != "digits"]))
            if "digits" in comp.targets:
                labels.append(("meta_compare.labels", comp.labels, ["digits"]))
        if "meta_train" in g and _objectives(g) & set(LABEL_OBJECTIVES):
            meta = g["meta_train"]
            n_val = round(_train_size(data) * meta.validation_fraction)
            if meta.objective_labels + 2 > n_val:
                problems.append(
                    f"meta_train.objective_labels={meta.objective_labels}: the validation part "
                    f"(meta_train.validation_fraction={meta.validation_fraction}) has {n_val} points; "
                    "a label objective needs these labels plus at least 2 points to score"
                )
        if "generalisation" in g:
            gen = g["generalisation"]
            labels.append(("generalisation.labels", [gen.labels], [t for t in gen.targets if t != "digits"]))
            if "digits" in gen.targets:
                labels.append(("generalisation.labels", [gen.labels], ["digits"]))
        smallest: dict[str, int] = {}
        for key, counts, datasets in labels:
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


def _objectives(g: dict[str, Any]) -> set[str]:
    """Every objective some stage meta-trains with."""
    found = {g["meta_train"].objective} if "meta_train" in g else set()
    if "meta_compare" in g:
        found |= {parse_variant(v)[2] for v in g["meta_compare"].variants.names} - {None}
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
        if comp.leave_one_out.names and len(meta.datasets) < 2:
            problems.append(
                f"meta_compare.leave_one_out: meta_train.datasets={meta.datasets} leaves nothing to "
                "meta-train on without one of them"
            )
    return problems


def problems(raw: dict, with_data: bool = False) -> list[str]:
    """One line per problem of the params `raw`; empty when it is valid.

    `with_data` also checks label counts per class, drawing each dataset's labels (about a second).
    """
    groups, found = _parse(raw)
    found += _cross_group(groups, with_data)
    found = found or limit_problems(groups)  # sizes and memory only once everything else holds
    return [clip(line) for line in found]  # a huge value is cut, never printed whole


def check_raw(raw: dict, with_data: bool = False) -> None:
    """Raise ParamError with the first problem of the params `raw`."""
    found = problems(raw, with_data)
    if found:
        raise ParamError(found[0])


def check(path: str | Path = "params.yaml", with_data: bool = False) -> None:
    """Raise ParamError with the first problem of the params file."""
    check_raw(read_params_file(path), with_data)


USAGE = "usage: python -m metahebb.validate [params.yaml]"


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(f"{USAGE}\n\n{__doc__.strip().splitlines()[0]}")
        return 0
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(
            f"{USAGE}\nerror: expected at most one params file, got {clip(' '.join(argv))}", file=sys.stderr
        )
        return 2
    path = argv[0] if argv else "params.yaml"
    try:
        found = problems(read_params_file(path), with_data=True)
    except ParamError as err:
        found = [str(err)]
    for line in found:
        print(f"error: {clip(line)}", file=sys.stderr)
    if found:
        return 1
    print(f"{path}: valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
