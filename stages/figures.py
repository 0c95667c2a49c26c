"""Stage figures: the paper's Figures 2 and 3 redrawn from our runs, and `reports/results.md`.

python stages/figures.py
"""

from __future__ import annotations

import logging

import pandas as pd

from metahebb import figures, stage
from metahebb.artifacts import load_arrays, load_json, save_figure, save_text
from metahebb.compare_report import results_section
from metahebb.latents import load_latents
from metahebb.params import (
    BackpropParams,
    CompareParams,
    EvaluateParams,
    HebbianParams,
    KCapRNNParams,
    MetaParams,
    RuleParams,
    load_datasets,
    load_group,
)
from metahebb.report import hebbian_markdown, results_markdown
from metahebb.rules import MATRICES, load_rule

log = logging.getLogger("figures")
REFERENCES = ["raw", "true"]
OUT = "reports/figures"


def per_dataset(datasets: list[str], models: list[str], read) -> dict[str, dict]:
    return {m: {ds: read(ds, m) for ds in datasets} for m in models}


def primary_test_latent(ds: str, model: str):
    views, _ = load_latents(f"data/latents/{ds}/{model}.npz")
    return next(iter(views.values()))[1][0]  # test points of the first seed


def save(name: str, fig) -> None:
    save_figure(f"{OUT}/{name}", fig)
    figures.close(fig)


def main(argv: list[str]) -> None:
    datasets = load_datasets()
    backprop = load_group(BackpropParams, "backprop").architectures
    learned = load_group(MetaParams, "meta_train").rules
    rules = load_group(HebbianParams, "train_hebbian").rules + learned
    evaluate = load_group(EvaluateParams, "evaluate")
    models = REFERENCES + backprop + rules

    data = {ds: load_arrays(f"data/datasets/{ds}.npz", required=("z", "y", "is_test")) for ds in datasets}
    scores = per_dataset(datasets, models, lambda ds, m: load_json(f"metrics/evaluate/{ds}/{m}.json"))
    train = per_dataset(datasets, backprop + rules, lambda ds, m: load_json(f"metrics/train/{ds}/{m}.json"))
    losses = per_dataset(
        datasets, backprop + rules, lambda ds, m: pd.read_csv(f"metrics/train/{ds}/{m}_loss.csv")
    )
    svm = per_dataset(datasets, models, lambda ds, m: pd.read_csv(f"metrics/evaluate/{ds}/{m}_svm.csv"))
    latents = per_dataset(datasets, backprop + rules, primary_test_latent)
    emds = {m: {ds: next(iter(scores[m][ds].values()))["emd"]["mean"] for ds in datasets} for m in models}
    truths = {ds: d["z"][d["is_test"]] for ds, d in data.items()}
    labels = {ds: d["y"][d["is_test"]] for ds, d in data.items()}

    def grid(names: list[str]):
        return figures.latent_grid(truths, labels, {m: latents[m] for m in names}, emds, evaluate)

    # Figure 2: backprop MLP vs RNN
    save("backprop_latents.png", grid(backprop))
    save("backprop_loss.png", figures.loss_curves({m: losses[m] for m in backprop}))
    save("backprop_svm_accuracy.png", figures.accuracy_vs_labels({m: svm[m] for m in REFERENCES + backprop}))
    # Figure 3: k-cap RNNs trained by each frozen rule
    if rules:
        save("hebbian_latents.png", grid(rules))
        save("hebbian_loss.png", figures.loss_curves({m: losses[m] for m in rules}, "reconstruction MSE"))
        reference = ["rnn"] if "rnn" in backprop else []
        save(
            "hebbian_svm_accuracy.png",
            figures.accuracy_vs_labels({m: svm[m] for m in REFERENCES + reference + rules}),
        )
    if learned:
        histories = {r: pd.read_csv(f"metrics/meta_train/{r}.csv") for r in learned}
        save("meta_loss.png", figures.meta_loss_curves(histories))
        rnn, rule_params = load_group(KCapRNNParams, "kcap_rnn"), load_group(RuleParams, "rules")
        tables = {}
        for r in learned:
            rule = load_rule(r, rule_params, rnn.T)
            tables[r] = {m: rule.tabulate(m) for m in MATRICES}
        save("rule_tables.png", figures.rule_tables(tables))

    definition = (
        f"test latents -> PCA to {evaluate.latent_dim}D -> {evaluate.emd_normalise} (the truth alike) -> "
        f"{evaluate.emd_align} alignment -> exact EMD, {evaluate.emd_cost} cost, ≤{evaluate.emd_points} points"
    )
    label_counts = [str(n) for n in evaluate.svm_labels]
    text = results_markdown(
        datasets, REFERENCES + backprop, scores, {m: train[m] for m in backprop}, label_counts, definition
    )
    if rules:
        text += "\n" + hebbian_markdown(
            datasets, rules, learned, REFERENCES + backprop, scores, train, label_counts
        )
    compare = load_group(CompareParams, "meta_compare")
    backprop_svm = {
        ds: next(iter(scores["rnn"][ds].values()))["svm_acc"] for ds in datasets if "rnn" in backprop
    }
    text += "\n" + results_section(
        {v: load_json(f"metrics/meta_compare/{v}.json") for v in compare.variants.names},
        {v: load_json(f"metrics/meta_compare/timing/{v}.json") for v in compare.variants.names},
        backprop_svm,
        compare.targets,
        compare.labels,
    )
    save_text("reports/results.md", text)
    log.info("wrote %s and reports/results.md", OUT)


if __name__ == "__main__":
    stage.run(main)
