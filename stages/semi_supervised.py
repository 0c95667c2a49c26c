"""Stage semi_supervised: a classifier readout on frozen unsupervised features, trained by a local rule.

python stages/semi_supervised.py <dataset>
"""

from __future__ import annotations

import logging

import numpy as np

from metahebb import runtime, stage
from metahebb.artifact_schemas import split_sizes
from metahebb.artifacts import load_arrays, save_json, save_table, save_torch
from metahebb.evaluation import summarise
from metahebb.latents import load_latents
from metahebb.params import check_label_counts, load_params, require_choice
from metahebb.plasticity import standardise
from metahebb.rules import load_rule, make_rule
from metahebb.semi_supervised import accuracy_tables, meta_readout, run_semi_supervised

log = logging.getLogger("semi_supervised")


def codes(ds: str, rule: str, data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    views, _ = load_latents(f"data/latents/{ds}/{rule}.npz", split_sizes(data), views=("last",))
    return views["last"]


def main(argv: list[str]) -> None:
    (dataset,) = argv
    p = load_params()
    datasets, params, rules, T, clip = (
        p.datasets,
        p.semi_supervised,
        p.rules,
        p.kcap_rnn.T,
        p.stabilisers.clip,
    )
    require_choice("dataset", dataset, datasets)
    runtime.configure(p.runtime.threads, "cpu")
    others = [d for d in datasets if d != dataset]  # never empty with `meta`: stage.run validated it
    data = {d: load_arrays(f"data/datasets/{d}.npz", required=("x", "y", "is_test")) for d in datasets}
    test = data[dataset]["is_test"]
    y = data[dataset]["y"]
    check_label_counts(params.labels, int((~test).sum()), "semi_supervised.labels")

    features = {name: codes(dataset, name, data[dataset]) for name in {params.rule, params.baseline_rule}}
    x = standardise(data[dataset]["x"], test)
    readouts = {}
    summary = {}
    if "reuse" in params.readout_rule:
        rule = load_rule(params.rule, rules, T)
        readouts["readout_reuse"] = (rule, params.rule)
        readouts[f"readout_reuse_on_{params.baseline_rule}"] = (rule, params.baseline_rule)
    if "meta" in params.readout_rule:
        pools = [(codes(d, params.rule, data[d])[0], data[d]["y"][~data[d]["is_test"]]) for d in others]
        fresh = make_rule(params.meta_readout_rule, rules, T)
        rule, summary = meta_readout(fresh, pools, int(y.max()) + 1, params, clip)
        save_torch(
            f"data/semi_supervised/{dataset}_meta_readout.pt", {"theta": rule.state_dict(), "sources": others}
        )
        readouts["readout_meta"] = (rule, params.rule)

    svm = (p.evaluate.svm_kernel, p.evaluate.svm_c)
    result = run_semi_supervised(
        features, (x[~test], x[test]), y[~test], y[test], readouts, params, clip, svm
    )

    scores = {m: {f"n{n}": summarise(v) for n, v in per_n.items()} for m, per_n in result.accuracy.items()}
    save_json(f"metrics/semi_supervised/{dataset}.json", {**scores, **summary})
    table, epochs = accuracy_tables(result, params)
    save_table(f"metrics/semi_supervised/{dataset}_accuracy.csv", table)
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
