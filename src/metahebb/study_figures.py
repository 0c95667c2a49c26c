"""The figures stage's work: read the study's results, draw Figures 2 and 3, write `results.md`'s text.

`load_results` reads what the train, evaluate, meta_train and meta_compare stages wrote (their DVC
outputs, the figures stage's deps); `draw` and `results_text` are pure functions of what it read,
so a figure can be redrawn from any run. The plots themselves are `figures`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from metahebb import figures
from metahebb.artifact_schemas import EVALUATE_KEYS, SVM_COLUMNS, split_sizes
from metahebb.artifacts import load_arrays, load_json, load_table
from metahebb.compare_report import results_section
from metahebb.latents import load_latents
from metahebb.params import EvaluateParams, RuleParams
from metahebb.report import hebbian_markdown, results_markdown
from metahebb.rules import MATRICES, Rule, load_rule
from metahebb.rules.base import RuleTable

REFERENCES = ["raw", "true"]  # evaluate's references: the raw input and the true 2D latent


@dataclass(frozen=True)
class StudyResults:
    """Everything the figures and results.md show; per model, then per dataset."""

    datasets: list[str]
    backprop: list[str]
    rules: list[str]  # every rule train_hebbian ran: the fixed ones, then the meta-trained ones
    learned: list[str]  # the meta-trained ones
    truths: dict[str, np.ndarray]  # the test points' true 2D latent
    labels: dict[str, np.ndarray]  # the test points' classes
    scores: dict[str, dict[str, dict]]  # metrics/evaluate
    train: dict[str, dict[str, dict]]  # metrics/train
    losses: dict[str, dict[str, pd.DataFrame]]
    svm: dict[str, dict[str, pd.DataFrame]]
    latents: dict[str, dict[str, np.ndarray]]  # test latents of the first seed, first view
    histories: dict[str, pd.DataFrame]  # meta-loss per step
    tables: dict[str, dict[str, RuleTable]]  # meta-trained rules that draw a table, per matrix
    compare: dict[str, dict]  # metrics/meta_compare per variant
    timing: dict[str, dict]


def per_dataset(datasets: list[str], models: list[str], read: Callable[[str, str], Any]) -> dict[str, dict]:
    return {m: {ds: read(ds, m) for ds in datasets} for m in models}


def primary_test_latent(ds: str, model: str, data: dict) -> np.ndarray:
    views, _ = load_latents(f"data/latents/{ds}/{model}.npz", split_sizes(data))
    return next(iter(views.values()))[1][0]  # test points of the first seed


def tabulated(rules: dict[str, Rule]) -> dict[str, dict[str, RuleTable]]:
    """Each rule's table per matrix (`Rule.tabulate`); a rule without one (a fixed rule) is left out."""
    tables = {name: {m: rule.tabulate(m) for m in MATRICES} for name, rule in rules.items()}
    return {name: t for name, t in tables.items() if all(v is not None for v in t.values())}


def load_results(
    datasets: list[str],
    backprop: list[str],
    rules: list[str],
    learned: list[str],
    rule_params: RuleParams,
    T: int,
    variants: list[str],
) -> StudyResults:
    """What the earlier stages wrote for these models and meta_compare `variants`."""
    models, trained = REFERENCES + backprop + rules, backprop + rules
    data = {ds: load_arrays(f"data/datasets/{ds}.npz", required=("z", "y", "is_test")) for ds in datasets}
    return StudyResults(
        datasets=datasets,
        backprop=backprop,
        rules=rules,
        learned=learned,
        truths={ds: d["z"][d["is_test"]] for ds, d in data.items()},
        labels={ds: d["y"][d["is_test"]] for ds, d in data.items()},
        scores=per_dataset(
            datasets, models, lambda ds, m: load_json(f"metrics/evaluate/{ds}/{m}.json", EVALUATE_KEYS)
        ),
        train=per_dataset(datasets, trained, lambda ds, m: load_json(f"metrics/train/{ds}/{m}.json")),
        losses=per_dataset(
            datasets,
            trained,
            lambda ds, m: load_table(f"metrics/train/{ds}/{m}_loss.csv", ("epoch", "loss_mean")),
        ),
        svm=per_dataset(
            datasets, models, lambda ds, m: load_table(f"metrics/evaluate/{ds}/{m}_svm.csv", SVM_COLUMNS)
        ),
        latents=per_dataset(datasets, trained, lambda ds, m: primary_test_latent(ds, m, data[ds])),
        histories={r: load_table(f"metrics/meta_train/{r}.csv", ("step", "meta_loss")) for r in learned},
        tables=tabulated({r: load_rule(r, rule_params, T) for r in learned}),
        compare={v: load_json(f"metrics/meta_compare/{v}.json") for v in variants},
        timing={v: load_json(f"metrics/meta_compare/timing/{v}.json") for v in variants},
    )


def draw(results: StudyResults, evaluate: EvaluateParams) -> Iterator[tuple[str, Figure]]:
    """(file name, figure) of every figure, one at a time so that each can be saved and closed."""
    r = results
    emds = {
        m: {ds: next(iter(r.scores[m][ds].values()))["emd"]["mean"] for ds in r.datasets}
        for m in REFERENCES + r.backprop + r.rules
    }

    def grid(names: list[str]) -> Figure:
        return figures.latent_grid(r.truths, r.labels, {m: r.latents[m] for m in names}, emds, evaluate)

    def accuracy(names: list[str]) -> Figure:
        return figures.accuracy_vs_labels({m: r.svm[m] for m in names}, list(evaluate.svm_labels))

    # Figure 2: backprop MLP vs RNN
    yield "backprop_latents.png", grid(r.backprop)
    yield "backprop_loss.png", figures.loss_curves({m: r.losses[m] for m in r.backprop})
    yield "backprop_svm_accuracy.png", accuracy(REFERENCES + r.backprop)
    # Figure 3: k-cap RNNs trained by each frozen rule
    if r.rules:
        yield "hebbian_latents.png", grid(r.rules)
        yield "hebbian_loss.png", figures.loss_curves({m: r.losses[m] for m in r.rules}, "reconstruction MSE")
        rnn = ["rnn"] if "rnn" in r.backprop else []
        yield "hebbian_svm_accuracy.png", accuracy(REFERENCES + rnn + r.rules)
    if r.histories:
        yield "meta_loss.png", figures.meta_loss_curves(r.histories)
    if r.tables:
        yield "rule_tables.png", figures.rule_tables(r.tables)


def results_text(
    results: StudyResults, evaluate: EvaluateParams, targets: list[str], labels: list[int]
) -> str:
    """`reports/results.md`: the backprop and frozen-rule tables, then meta_compare's on `targets`."""
    r, references = results, REFERENCES + results.backprop
    definition = (
        f"test latents -> PCA to {evaluate.latent_dim}D -> {evaluate.emd_normalise} (the truth alike) -> "
        f"{evaluate.emd_align} alignment -> exact EMD, {evaluate.emd_cost} cost, ≤{evaluate.emd_points} points"
    )
    counts = [str(n) for n in evaluate.svm_labels]
    text = results_markdown(
        r.datasets, references, r.scores, {m: r.train[m] for m in r.backprop}, counts, definition
    )
    if r.rules:
        text += "\n" + hebbian_markdown(r.datasets, r.rules, r.learned, references, r.scores, r.train, counts)
    backprop_svm = {
        ds: next(iter(r.scores["rnn"][ds].values()))["svm_acc"] for ds in r.datasets if "rnn" in r.backprop
    }
    return text + "\n" + results_section(r.compare, r.timing, backprop_svm, targets, labels)
