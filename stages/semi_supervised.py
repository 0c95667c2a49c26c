"""Stage semi_supervised: a classifier readout on frozen unsupervised features, trained by a local rule.

python stages/semi_supervised.py <dataset>
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch

from metahebb import runtime, stage
from metahebb.artifacts import load_arrays, save_json, save_table, save_torch
from metahebb.evaluation import summarise
from metahebb.hebbian_train import standardise
from metahebb.latents import load_latents
from metahebb.params import (
    EvaluateParams,
    KCapRNNParams,
    RuleParams,
    RuntimeParams,
    SemiSupervisedParams,
    StabiliserParams,
    check_label_counts,
    load_datasets,
    load_group,
    require_choice,
)
from metahebb.rules import load_rule, make_rule
from metahebb.semi_supervised import meta_train_readout, run_semi_supervised, with_bias

log = logging.getLogger("semi_supervised")


def codes(ds: str, rule: str) -> tuple[np.ndarray, np.ndarray]:
    views, _ = load_latents(f"data/latents/{ds}/{rule}.npz")
    return views["last"]


def main(argv: list[str]) -> None:
    (dataset,) = argv
    datasets = load_datasets()
    require_choice("dataset", dataset, datasets)
    params = load_group(SemiSupervisedParams, "semi_supervised")
    rules = load_group(RuleParams, "rules")
    rnn = load_group(KCapRNNParams, "kcap_rnn")
    clip = load_group(StabiliserParams, "stabilisers").clip
    evaluate = load_group(EvaluateParams, "evaluate")
    runtime.configure(load_group(RuntimeParams, "runtime").threads, "cpu")
    others = [d for d in datasets if d != dataset]  # never empty with `meta`: stage.run validated it
    data = {d: load_arrays(f"data/datasets/{d}.npz", required=("x", "y", "is_test")) for d in datasets}
    test = data[dataset]["is_test"]
    y = data[dataset]["y"]
    check_label_counts(params.labels, int((~test).sum()), "semi_supervised.labels")

    features = {name: codes(dataset, name) for name in {params.rule, params.baseline_rule}}
    x = standardise(data[dataset]["x"], test)
    readouts = {}
    summary = {}
    if "reuse" in params.readout_rule:
        rule = load_rule(params.rule, rules, rnn.T)
        readouts["readout_reuse"] = (rule, params.rule)
        readouts[f"readout_reuse_on_{params.baseline_rule}"] = (rule, params.baseline_rule)
    if "meta" in params.readout_rule:
        rule = make_rule("learned", rules, rnn.T)
        pools = [
            (with_bias(codes(d, params.rule)[0]), torch.as_tensor(data[d]["y"][~data[d]["is_test"]]))
            for d in others
        ]
        losses = meta_train_readout(
            rule, pools, int(y.max()) + 1, params.meta_steps, params.meta_lr, params.batch_size,
            reset_every=params.meta_reset_every, clip=clip, seed=params.seed,
        )  # fmt: skip
        save_torch(
            f"data/semi_supervised/{dataset}_meta_readout.pt", {"theta": rule.state_dict(), "sources": others}
        )
        tail = max(1, len(losses) // 10)
        summary["meta_readout_loss_first"] = float(np.mean(losses[:tail]))
        summary["meta_readout_loss_final"] = float(np.mean(losses[-tail:]))
        readouts["readout_meta"] = (rule, params.rule)

    svm = (evaluate.svm_kernel, evaluate.svm_c)
    result = run_semi_supervised(
        features, (x[~test], x[test]), y[~test], y[test], readouts, params, clip, svm
    )

    scores = {m: {f"n{n}": summarise(v) for n, v in per_n.items()} for m, per_n in result.accuracy.items()}
    save_json(f"metrics/semi_supervised/{dataset}.json", {**scores, **summary})
    table = pd.DataFrame({"n_labels": params.labels})
    for method, per_n in result.accuracy.items():
        table[method] = [float(per_n[n].mean()) for n in params.labels]
    save_table(f"metrics/semi_supervised/{dataset}_accuracy.csv", table)
    epochs = pd.DataFrame({"epoch": np.arange(params.epochs + 1)})
    for method, h in result.curves.items():
        epochs[f"{method}_train_accuracy"] = h.train_accuracy.mean(axis=1)
        epochs[f"{method}_test_accuracy"] = h.test_accuracy.mean(axis=1)
        epochs[f"{method}_loss"] = h.loss.mean(axis=1)
    save_table(f"metrics/semi_supervised/{dataset}_epochs.csv", epochs)
    at = params.curve_labels
    log.info(
        "%s: test accuracy at %d labels: %s",
        dataset,
        at,
        ", ".join(f"{m} {scores[m][f'n{at}']['mean']:.3f}" for m in scores),
    )


if __name__ == "__main__":
    stage.run(main)
