"""Stage generalisation: rules meta-trained on one dataset (or all but one) train networks on others.

python stages/generalisation.py
"""

from __future__ import annotations

import dataclasses
import logging
import time
from functools import partial

from metahebb import stage
from metahebb.artifacts import load_arrays, save_json, save_table, save_torch
from metahebb.fanout import Workers
from metahebb.generalisation import (
    check_label_count,
    generalisation_matrix,
    load_target,
    matrix_table,
    meta_sources,
    meta_train_rows,
)
from metahebb.meta_data import MetaData, training_points
from metahebb.params import (
    DataParams,
    ESParams,
    EvaluateParams,
    GeneralisationParams,
    HebbianParams,
    KCapRNNParams,
    MetaParams,
    RuleParams,
    RuntimeParams,
    StabiliserParams,
    load_group,
)
from metahebb.rules import load_rule, make_rule
from metahebb.runtime import configure

log = logging.getLogger("generalisation")


def main(argv: list[str]) -> None:
    params = load_group(GeneralisationParams, "generalisation")
    runtime = load_group(RuntimeParams, "runtime")
    data = load_group(DataParams, "data")
    rnn = load_group(KCapRNNParams, "kcap_rnn")
    stab = load_group(StabiliserParams, "stabilisers")
    rules = load_group(RuleParams, "rules")
    meta = load_group(MetaParams, "meta_train")
    es = load_group(ESParams, "es")
    hebbian = dataclasses.replace(load_group(HebbianParams, "train_hebbian"), seeds=params.seeds)
    evaluate = load_group(EvaluateParams, "evaluate")
    sources = meta_sources(params.sources, params.leave_one_out, meta.datasets)
    targets = {ds: load_target(ds, data, params.digits_input) for ds in params.targets}
    check_label_count(params.labels, targets)
    device = str(configure(runtime.threads, runtime.device))

    start = time.perf_counter()
    x, y = {}, {}
    for ds in sorted({d for datasets in sources.values() for d in datasets}):
        x[ds], y[ds] = training_points(load_arrays(f"data/datasets/{ds}.npz", required=("x", "y", "is_test")))
    new_rule = partial(make_rule, params.rule, rules, rnn.T)
    workers = Workers.from_params(runtime)
    trained = meta_train_rows(sources, MetaData(x, y), new_rule, rnn, stab, meta, es, workers, device)
    for row, result in trained.items():
        save_torch(
            f"data/generalisation/{row}.pt",
            {"rule": params.rule, "datasets": sources[row], "theta": result.theta, "summary": result.summary},
        )

    row_rules = {row: new_rule(theta=result.theta) for row, result in trained.items()}
    row_rules["all"] = load_rule(params.rule, rules, rnn.T)
    for name in params.references:
        row_rules[name] = make_rule(name, rules, rnn.T)
    matrix = generalisation_matrix(row_rules, targets, rnn, stab, hebbian, evaluate, params.labels, device)
    save_json("metrics/generalisation/matrix.json", matrix)
    save_table("metrics/generalisation/matrix.csv", matrix_table(matrix))
    log.info("%d rows x %d targets in %.1fs", len(matrix), len(targets), time.perf_counter() - start)


if __name__ == "__main__":
    stage.run(main)
