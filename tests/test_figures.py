"""The figures stage's drawing: every figure from a small synthetic study, every meta-trained rule's table."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from tiny import RULES as RULE_PARAMS

from metahebb import figures
from metahebb.params import EvaluateParams, parse_group
from metahebb.rules import META_TRAINED, RULES, make_rule
from metahebb.study_figures import REFERENCES, StudyResults, draw, tabulated

T = 2
DATASETS = ["circles", "moons"]
EVALUATE = {
    "latent_dim": 2,
    "emd_points": 50,
    "emd_normalise": "zscore",
    "emd_align": "procrustes",
    "emd_cost": "sqeuclidean",
    "emd_max_iter": 100000,
    "svm_labels": [2, 4, 8, "all"],
    "svm_draws": 2,
    "svm_kernel": "rbf",
    "svm_c": 1.0,
    "seed": 0,
    "neighbours": 5,
}


def test_every_meta_trained_rule_draws_its_table_and_no_fixed_rule_is_asked_to():
    rules = {name: make_rule(name, RULE_PARAMS, T) for name in RULES}
    tables = tabulated(rules)
    assert sorted(tables) == sorted(META_TRAINED)  # attention included; none, hebb, oja have no table
    for name, per_matrix in tables.items():
        for matrix, t in per_matrix.items():
            assert t["values"].shape == (len(t["post"]), len(t["pre"])), (name, matrix)
    fig = figures.rule_tables(tables)
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(labels) == 3 * len(META_TRAINED) and all("Δw" in label for label in labels)
    figures.close(fig)


def synthetic_study(rng: np.random.Generator) -> StudyResults:
    backprop, fixed, learned = ["rnn"], ["none", "hebb"], list(META_TRAINED)
    rules, n = fixed + learned, 40
    models = REFERENCES + backprop + rules
    counts = [2, 4, 8, 28]  # the last is `all`: every training point

    def svm() -> pd.DataFrame:
        return pd.DataFrame({"n_labels": counts, "accuracy": rng.uniform(0.5, 1, 4), "accuracy_std": 0.01})

    def loss() -> pd.DataFrame:
        seeds = rng.uniform(0.5, 2, (5, 2))
        return pd.DataFrame(
            {
                "epoch": range(5),
                "loss_mean": seeds.mean(1),
                "loss_seed0": seeds[:, 0],
                "loss_seed1": seeds[:, 1],
            }
        )

    every = {ds: rng.normal(size=(n, 6)) for ds in DATASETS}
    return StudyResults(
        datasets=DATASETS,
        backprop=backprop,
        rules=rules,
        learned=learned,
        truths={ds: rng.normal(size=(n, 2)) for ds in DATASETS},
        labels={ds: rng.integers(0, 2, n) for ds in DATASETS},
        scores={m: {ds: {"last": {"emd": {"mean": 0.1}, "svm_acc": {}}} for ds in DATASETS} for m in models},
        train={},
        losses={m: {ds: loss() for ds in DATASETS} for m in backprop + rules},
        svm={m: {ds: svm() for ds in DATASETS} for m in models},
        latents={m: every for m in backprop + rules},
        histories={
            r: pd.DataFrame({"step": range(1, 31), "meta_loss": rng.uniform(1, 2, 30)}) for r in learned
        },
        tables=tabulated({r: make_rule(r, RULE_PARAMS, T) for r in learned}),
        compare={},
        timing={},
    )


def test_the_stage_draws_every_figure_from_a_study_with_every_meta_trained_rule():
    evaluate = parse_group(EvaluateParams, EVALUATE, "evaluate")
    drawn = {}
    for name, fig in draw(synthetic_study(np.random.default_rng(0)), evaluate):
        drawn[name] = [ax.get_xticklabels() for ax in fig.axes]
        figures.close(fig)
    assert set(drawn) == {
        f"{kind}_{what}.png"
        for kind in ("backprop", "hebbian")
        for what in ("latents", "loss", "svm_accuracy")
    } | {"meta_loss.png", "rule_tables.png"}
    ticks = [t.get_text() for t in drawn["hebbian_svm_accuracy.png"][0]]
    assert ticks == ["2", "4", "8", "all\n(28)"]  # a log2 axis whose last tick is every training point


def test_a_study_without_meta_trained_rules_draws_no_rule_figures():
    evaluate = parse_group(EvaluateParams, EVALUATE, "evaluate")
    study = dataclasses.replace(
        synthetic_study(np.random.default_rng(1)), rules=["none"], learned=[], histories={}, tables={}
    )
    names = []
    for name, fig in draw(study, evaluate):
        names.append(name)
        figures.close(fig)
    assert "meta_loss.png" not in names and "rule_tables.png" not in names and "hebbian_loss.png" in names


def test_label_axis_needs_one_name_per_count():
    fig, ax = figures.panels(1)
    with pytest.raises(ValueError):
        figures.label_axis(ax[0], pd.Series([2, 4, 700]), [2, "all"])
    figures.close(fig)
