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
from metahebb.artifacts import save_json, save_table, save_torch
from metahebb.meta_data import load_meta_data
from metahebb.outer import Groups, make_optimiser, meta_learn
from metahebb.params import load_params, require_choice
from metahebb.rules import make_rule
from metahebb.runtime import configure

log = logging.getLogger("meta_train")


def main(argv: list[str]) -> None:
    (name,) = argv
    p = load_params()
    params = p.meta_train
    require_choice("rule", name, params.rules)
    device = configure(p.runtime.threads, p.runtime.device)

    data = load_meta_data(params.datasets)  # training points only: test points and labels never enter
    rule = make_rule(name, p.rules, p.kcap_rnn.T)
    start = time.perf_counter()
    checkpoint = Path(f"data/checkpoints/meta_train_{name}.pt")
    result = meta_learn(rule, data, make_optimiser(Groups.of(p), device), checkpoint)
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
