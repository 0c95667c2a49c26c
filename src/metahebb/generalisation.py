"""Cross-task generalisation: a rule meta-trained on some datasets trains fresh networks on others.

Rows are where a rule's theta came from: one dataset alone (`circles`), every meta-training
dataset but one (`all_but_circles`), all of them (`all`, the meta_train stage's theta), or no
meta-training at all (reference rules such as `none` and `hebb`). Columns are target datasets,
including ones no rule saw (digits). A cell trains one fresh k-cap RNN per seed on the target's
unlabelled training points with the row's frozen rule, then scores the last state: SVM accuracy
at one label count, and EMD to the true 2D latents where the target has them. Every row trains
the same seeds on the same points, so rows are compared pairwise.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metahebb.artifacts import load_arrays
from metahebb.datasets import digits
from metahebb.evaluation import summarise
from metahebb.fanout import Workers, run_jobs
from metahebb.hebbian_train import train_hebbian
from metahebb.meta_data import MetaData, load_meta_data
from metahebb.metrics import Split
from metahebb.metrics.emd import latent_emd
from metahebb.metrics.svm import svm_accuracy_vs_labels
from metahebb.outer import Groups, MetaResult, make_optimiser, meta_learn
from metahebb.params import (
    DataParams,
    ESParams,
    EvaluateParams,
    HebbianParams,
    KCapRNNParams,
    MetaParams,
    ParamError,
    RuleParams,
    StabiliserParams,
)
from metahebb.rules import Rule, load_rule, make_rule

log = logging.getLogger("generalisation")


@dataclass(frozen=True)
class Target:
    """A dataset a rule is applied to: inputs (N, n), labels, split, and true latents if it has any."""

    x: np.ndarray
    y: np.ndarray
    is_test: np.ndarray
    z: np.ndarray | None = None  # (N, 2); None: no EMD (digits)

    def split(self) -> Split:
        z = self.z if self.z is not None else np.zeros((len(self.y), 0), dtype=np.float32)
        return Split.from_arrays({"y": self.y, "z": z, "is_test": self.is_test})


def load_target(name: str, data: DataParams, digits_input: str) -> Target:
    """A target by name: a pipeline dataset file, or digits (built from scikit-learn's bundled copy)."""
    if name == "digits":
        arrays = digits.load(data, digits_input)
        return Target(arrays["x"], arrays["y"], arrays["is_test"])
    arrays = load_arrays(f"data/datasets/{name}.npz", required=("x", "y", "z", "is_test"))
    return Target(arrays["x"], arrays["y"], arrays["is_test"], arrays["z"])


def meta_sources(sources: list[str], leave_one_out: bool, meta_datasets: list[str]) -> dict[str, list[str]]:
    """Row name -> the datasets its theta is meta-trained on (`all` comes from the meta_train stage)."""
    rows = {ds: [ds] for ds in sources}
    if leave_one_out:
        for ds in sources:
            rest = [d for d in meta_datasets if d != ds]
            if not rest:
                raise ParamError(
                    f"generalisation.leave_one_out=true: meta_train.datasets={meta_datasets} "
                    f"leaves nothing to meta-train on without {ds}"
                )
            rows[f"all_but_{ds}"] = rest
    return rows


def check_label_count(labels: int, targets: dict[str, Target]) -> None:
    """The balanced draw of `labels` points must fit each target's training split and each class."""
    for name, target in targets.items():
        y_train = target.y[~target.is_test]
        if labels > len(y_train):
            raise ParamError(
                f"generalisation.labels={labels}: the training split of {name} has only {len(y_train)} points"
            )
        counts = np.bincount(y_train)
        counts = counts[counts > 0]
        need = math.ceil(labels / len(counts))
        if need > counts.min():
            raise ParamError(
                f"generalisation.labels={labels}: needs {need} points per class but the training "
                f"split of {name} has {counts.min()} in its smallest class"
            )


def _meta_train_row(job: tuple) -> MetaResult:
    """One row's meta-training, as a fan-out job (a pure function of its arguments)."""
    new_rule, data, rnn, stab, params, es, device = job
    return meta_learn(new_rule(), data, make_optimiser(Groups(rnn, stab, params, es), device, log_every=0))


def meta_train_rows(
    rows: dict[str, list[str]],
    data: MetaData,
    new_rule: Callable[[], Rule],
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    params: MetaParams,
    es: ESParams,
    workers: Workers | None = None,
    device: str = "cpu",
) -> dict[str, MetaResult]:
    """Meta-train a fresh rule (`new_rule()`) per row on the training points of its datasets.

    Rows with the same datasets share one run (meta-training is deterministic given its params);
    the runs are independent and fan out over `workers` (default: this process).
    """
    keys = list(dict.fromkeys(tuple(datasets) for datasets in rows.values()))
    jobs = [
        (
            new_rule,
            data.subset(list(k)),
            rnn,
            stab,
            dataclasses.replace(params, datasets=list(k)),
            es,
            device,
        )
        for k in keys
    ]
    start = time.perf_counter()
    done = dict(
        zip(keys, run_jobs(_meta_train_row, jobs, workers or Workers(1), "generalisation rows"), strict=True)
    )
    for key, result in done.items():
        log.info("meta-trained on %s (%s): %s", "+".join(key), params.optimizer, result.summary)
    log.info("%d meta-trainings in %.1fs", len(done), time.perf_counter() - start)
    return {row: done[tuple(datasets)] for row, datasets in rows.items()}


def source_data(rows: dict[str, list[str]]) -> MetaData:
    """The training points (never the test points) of every dataset some row meta-trains on."""
    return load_meta_data(sorted({d for datasets in rows.values() for d in datasets}))


def matrix_rules(
    name: str, trained: dict[str, MetaResult], references: list[str], params: RuleParams, T: int
) -> dict[str, Rule]:
    """Row -> frozen rule `name`: each meta-trained row's theta, then `all` (the meta_train stage's
    theta), then the reference rules that are never meta-trained; rows keep this order."""
    rules = {row: make_rule(name, params, T, theta=result.theta) for row, result in trained.items()}
    rules["all"] = load_rule(name, params, T)
    for reference in references:
        rules[reference] = make_rule(reference, params, T)
    return rules


def score_cell(
    rule: Rule,
    target: Target,
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    hebbian: HebbianParams,
    evaluate: EvaluateParams,
    name: str = "",
    device: str = "cpu",
) -> dict[str, dict[str, float]]:
    """{"svm_acc": summary, "emd": summary (only with true latents)} over `hebbian.seeds`."""
    result = train_hebbian(target.x, target.is_test, rule, rnn, stab, hebbian, name=name, device=device)
    train, test = result.views["last"]
    split = target.split()
    (key,) = [f"n{n}" for n in evaluate.svm_labels]
    acc = [svm_accuracy_vs_labels(train[s], test[s], split, evaluate)[key] for s in range(len(train))]
    scores = {"svm_acc": summarise(acc)}
    if target.z is not None:
        scores["emd"] = summarise([latent_emd(test[s], split.z_test, evaluate) for s in range(len(test))])
    return scores


def generalisation_matrix(
    rules: dict[str, Rule],
    targets: dict[str, Target],
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    hebbian: HebbianParams,
    evaluate: EvaluateParams,
    labels: int,
    device: str = "cpu",
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """{row: {target: {"svm_acc": {mean, std, ci95}, "emd": {...}}}}; SVM at `labels` labelled points."""
    check_label_count(labels, targets)
    evaluate = dataclasses.replace(evaluate, svm_labels=[labels])
    matrix: dict[str, dict] = {}
    for row, rule in rules.items():
        for name, target in targets.items():
            start = time.perf_counter()
            cell = score_cell(rule, target, rnn, stab, hebbian, evaluate, f"{row} -> {name}", device)
            matrix.setdefault(row, {})[name] = cell
            emd = f", EMD {cell['emd']['mean']:.3f}" if "emd" in cell else ""
            log.info(
                "%s -> %s: SVM@%d %.3f +- %.3f%s (%.1fs)",
                row,
                name,
                labels,
                cell["svm_acc"]["mean"],
                cell["svm_acc"]["ci95"],
                emd,
                time.perf_counter() - start,
            )
    return matrix


def matrix_table(matrix: dict) -> pd.DataFrame:
    """One line per (row, target): SVM accuracy and its 95% interval, the table a heatmap reads."""
    return pd.DataFrame(
        [
            {
                "row": row,
                "target": target,
                "svm_acc": cell["svm_acc"]["mean"],
                "svm_acc_ci95": cell["svm_acc"]["ci95"],
            }
            for row, cells in matrix.items()
            for target, cell in cells.items()
        ]
    )
