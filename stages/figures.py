"""Stage figures: PNG figures in the spirit of the paper's Figure 2, and `reports/results.md`.

python stages/figures.py
"""

from __future__ import annotations

import logging

import pandas as pd

from metahebb import figures, stage
from metahebb.artifacts import load_arrays, load_json, save_figure, save_text
from metahebb.latents import load_latents
from metahebb.params import BackpropParams, EvaluateParams, load_datasets, load_group
from metahebb.report import results_markdown

log = logging.getLogger("figures")
REFERENCES = ["raw", "true"]


def main(argv: list[str]) -> None:
    datasets = load_datasets()
    models = load_group(BackpropParams, "backprop").architectures
    evaluate = load_group(EvaluateParams, "evaluate")

    data = {ds: load_arrays(f"data/datasets/{ds}.npz", required=("z", "y", "is_test")) for ds in datasets}
    scores = {
        m: {ds: load_json(f"metrics/evaluate/{ds}/{m}.json") for ds in datasets} for m in REFERENCES + models
    }
    train = {m: {ds: load_json(f"metrics/train/{ds}/{m}.json") for ds in datasets} for m in models}
    losses = {m: {ds: pd.read_csv(f"metrics/train/{ds}/{m}_loss.csv") for ds in datasets} for m in models}
    svm = {
        m: {ds: pd.read_csv(f"metrics/evaluate/{ds}/{m}_svm.csv") for ds in datasets}
        for m in REFERENCES + models
    }
    latents = {
        m: {ds: next(iter(load_latents(f"data/latents/{ds}/{m}.npz")[0].values()))[1][0] for ds in datasets}
        for m in models
    }
    emds = {m: {ds: next(iter(scores[m][ds].values()))["emd"]["mean"] for ds in datasets} for m in models}

    truths = {ds: d["z"][d["is_test"]] for ds, d in data.items()}
    labels = {ds: d["y"][d["is_test"]] for ds, d in data.items()}
    out = "reports/figures"
    for name, fig in (
        ("backprop_latents.png", figures.latent_grid(truths, labels, latents, emds, evaluate.emd_normalise)),
        ("backprop_loss.png", figures.loss_curves(losses)),
        ("backprop_svm_accuracy.png", figures.accuracy_vs_labels(svm)),
    ):
        save_figure(f"{out}/{name}", fig)
        figures.close(fig)

    definition = (
        f"test latents -> PCA to {evaluate.latent_dim}D -> {evaluate.emd_normalise} (the truth alike) -> "
        f"{evaluate.emd_align} alignment -> exact EMD, {evaluate.emd_cost} cost, ≤{evaluate.emd_points} points"
    )
    text = results_markdown(
        datasets, REFERENCES + models, scores, train, [str(n) for n in evaluate.svm_labels], definition
    )
    save_text("reports/results.md", text)
    log.info("wrote %s and reports/results.md", out)


if __name__ == "__main__":
    stage.run(main)
