"""Stage generalisation: rules meta-trained on one dataset (or all but one) train networks on others.

python stages/generalisation.py
"""

from __future__ import annotations

import dataclasses
import logging
import time
from functools import partial

from metahebb import stage
from metahebb.artifacts import save_json, save_table, save_torch
from metahebb.fanout import Workers
from metahebb.generalisation import (
    check_label_count,
    generalisation_matrix,
    load_target,
    matrix_rules,
    matrix_table,
    meta_sources,
    meta_train_rows,
    source_data,
)
from metahebb.params import load_params
from metahebb.rules import make_rule
from metahebb.runtime import configure

log = logging.getLogger("generalisation")


def main(argv: list[str]) -> None:
    p = load_params()
    params, runtime, rnn, stab, rules, meta = (
        p.generalisation,
        p.runtime,
        p.kcap_rnn,
        p.stabilisers,
        p.rules,
        p.meta_train,
    )
    hebbian = dataclasses.replace(p.train_hebbian, seeds=params.seeds)
    sources = meta_sources(params.sources, params.leave_one_out, meta.datasets)
    targets = {ds: load_target(ds, p.data, params.digits_input) for ds in params.targets}
    check_label_count(params.labels, targets)
    device = str(configure(runtime.threads, runtime.device))

    start = time.perf_counter()
    new_rule = partial(make_rule, params.rule, rules, rnn.T)
    workers = Workers.from_params(runtime)
    trained = meta_train_rows(sources, source_data(sources), new_rule, rnn, stab, meta, p.es, workers, device)
    for row, result in trained.items():
        save_torch(
            f"data/generalisation/{row}.pt",
            {"rule": params.rule, "datasets": sources[row], "theta": result.theta, "summary": result.summary},
        )

    row_rules = matrix_rules(params.rule, trained, params.references, rules, rnn.T)
    matrix = generalisation_matrix(row_rules, targets, rnn, stab, hebbian, p.evaluate, params.labels, device)
    save_json("metrics/generalisation/matrix.json", matrix)
    save_table("metrics/generalisation/matrix.csv", matrix_table(matrix))
    log.info("%d rows x %d targets in %.1fs", len(matrix), len(targets), time.perf_counter() - start)


if __name__ == "__main__":
    stage.run(main)
