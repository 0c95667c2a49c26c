"""Stage meta_train: learn a plasticity rule's theta on the meta-training datasets.

python stages/meta_train.py <rule>        (a meta-trained rule: learned, learned_extended, table, attention)

The outer optimiser is `meta_train.optimizer` (gradient, or es with the `es` group).

Every `meta_train.checkpoint_every` steps the run is saved to data/checkpoints/meta_train_<rule>.pt
(not a DVC output, so `dvc repro` leaves it in place); a rerun after a kill resumes from it and
ends with the same theta. It is deleted once the outputs are written.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd

from metahebb import stage
from metahebb.artifacts import load_arrays, save_json, save_table, save_torch
from metahebb.meta_data import MetaData, training_points
from metahebb.outer import meta_learn
from metahebb.params import (
    ESParams,
    KCapRNNParams,
    MetaParams,
    RuleParams,
    RuntimeParams,
    StabiliserParams,
    load_group,
    require_choice,
)
from metahebb.rules import make_rule
from metahebb.runtime import configure

log = logging.getLogger("meta_train")


def main(argv: list[str]) -> None:
    (name,) = argv
    params = load_group(MetaParams, "meta_train")
    require_choice("rule", name, params.rules)
    runtime = load_group(RuntimeParams, "runtime")
    rnn = load_group(KCapRNNParams, "kcap_rnn")
    stab = load_group(StabiliserParams, "stabilisers")
    rules = load_group(RuleParams, "rules")
    es = load_group(ESParams, "es")
    device = configure(runtime.threads, runtime.device)

    x, y = {}, {}
    for ds in params.datasets:  # training points only: test points (and their labels) never enter
        x[ds], y[ds] = training_points(load_arrays(f"data/datasets/{ds}.npz", required=("x", "y", "is_test")))
    rule = make_rule(name, rules, rnn.T)
    start = time.perf_counter()
    checkpoint = Path(f"data/checkpoints/meta_train_{name}.pt")
    result = meta_learn(rule, MetaData(x, y), rnn, stab, params, es, device=device, checkpoint=checkpoint)
    log.info(
        "%s (%s): %.1fs on %s, %s",
        name,
        params.optimizer,
        time.perf_counter() - start,
        device,
        result.summary,
    )

    save_torch(f"data/rules/{name}.pt", {"rule": name, "theta": result.theta})
    steps = len(next(iter(result.history.values())))
    table = pd.DataFrame({"step": range(1, steps + 1), **result.history})
    save_table(f"metrics/meta_train/{name}.csv", table)
    save_json(f"metrics/meta_train/{name}.json", result.summary)
    checkpoint.unlink(missing_ok=True)  # only now: a kill before this line still resumes


if __name__ == "__main__":
    stage.run(main)
