"""Stage evaluate: EMD to the true 2D latents and SVM accuracy vs labels, for one model's latents.

python stages/evaluate.py <dataset> <model>
"""

from __future__ import annotations

import logging

from metahebb import stage
from metahebb.artifacts import load_arrays, save_json, save_table
from metahebb.evaluation import evaluate_views, svm_curve
from metahebb.latents import load_latents
from metahebb.metrics import Split
from metahebb.params import check_label_counts, load_params, require_choice

log = logging.getLogger("evaluate")


def main(argv: list[str]) -> None:
    dataset, model = argv
    p = load_params()
    require_choice("dataset", dataset, p.datasets)
    params = p.evaluate
    split = Split.from_arrays(load_arrays(f"data/datasets/{dataset}.npz", required=("y", "z", "is_test")))
    check_label_counts(params.svm_labels, len(split.y_train))
    views, seeds = load_latents(
        f"data/latents/{dataset}/{model}.npz", (len(split.y_train), len(split.y_test))
    )

    scores = evaluate_views(views, seeds, split, params)
    save_json(f"metrics/evaluate/{dataset}/{model}.json", scores)
    save_table(f"metrics/evaluate/{dataset}/{model}_svm.csv", svm_curve(scores, params, len(split.y_train)))
    primary = next(iter(scores))
    log.info("%s/%s [%s]: EMD %.4f", dataset, model, primary, scores[primary]["emd"]["mean"])


if __name__ == "__main__":
    stage.run(main)
