"""Stages meta_compare_* and meta_compare_loo_*: one variant (rule x outer optimiser x objective) judged.

python stages/meta_compare.py <variant>                    (table-es-labels_ce, learned-gradient-paper, hebb, ...)
python stages/meta_compare.py --leave-one-out <variant>    (an entry of meta_compare.leave_one_out)

The first meta-trains the variant once per meta seed on all meta-training datasets and judges it on
every target; the second meta-trains it without each dataset in turn and judges it on that one.
The runs are independent and fan out over local cores or a Dask cluster (`metahebb.fanout`).

Wall times go to metrics/meta_compare/timing/ (they differ between identical runs; everything
else in metrics/meta_compare/ is reproducible from params.yaml). Each run's meta-training curve
(meta-loss or CMA-ES fitness per step) goes to metrics/meta_compare*/history/<variant>/<run>.csv,
and every score of every run and network seed, for the last and the concatenated states, to
metrics/meta_compare*/runs/<variant>.csv (the pooled JSON treats runs x seeds as one sample).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from metahebb import stage
from metahebb.artifacts import save_json, save_table, save_torch
from metahebb.compare import RunResult, Setting, compare_variant, leave_one_out, run_table
from metahebb.evaluation import summarise
from metahebb.fanout import Workers
from metahebb.generalisation import load_target
from metahebb.meta_data import load_meta_data
from metahebb.params import load_params, require_choice
from metahebb.runtime import configure

log = logging.getLogger("meta_compare")


def save_histories(folder: str, runs: dict[str, RunResult]) -> None:
    for name, run in runs.items():
        if run.history:
            steps = len(next(iter(run.history.values())))
            save_table(f"{folder}/{name}.csv", pd.DataFrame({"step": range(1, steps + 1), **run.history}))


def main(argv: list[str]) -> None:
    held_out = argv[:1] == ["--leave-one-out"]
    (variant,) = argv[1:] if held_out else argv
    p = load_params()
    params = p.meta_compare
    require_choice("variant", variant, (params.leave_one_out if held_out else params.variants).names)
    device = configure(p.runtime.threads, p.runtime.device)
    setting = Setting.of(p, str(device))
    data, digits_input = p.data, p.generalisation.digits_input
    workers = Workers.from_params(p.runtime)

    meta_data = load_meta_data(setting.meta.datasets)
    targets = {t: load_target(t, data, digits_input) for t in params.targets}

    start = time.perf_counter()
    if held_out:
        metrics, runs = leave_one_out(variant, meta_data, targets, setting, workers)
        log.info("%s, leave-one-dataset-out: %.1fs", variant, time.perf_counter() - start)
        thetas = {name: run.theta for name, run in runs.items()}
        save_torch(f"data/meta_compare_loo/{variant}.pt", {"variant": variant, "thetas": thetas})
        save_histories(f"metrics/meta_compare_loo/history/{variant}", runs)
        save_table(f"metrics/meta_compare_loo/runs/{variant}.csv", run_table(runs))
        save_json(f"metrics/meta_compare_loo/{variant}.json", metrics)
        return
    metrics, runs = compare_variant(variant, meta_data, targets, setting, workers)
    log.info("%s: %.1fs", variant, time.perf_counter() - start)
    thetas = {name: run.theta for name, run in runs.items() if run.theta is not None}
    save_torch(f"data/meta_compare/{variant}.pt", {"variant": variant, "thetas": thetas})
    save_histories(f"metrics/meta_compare/history/{variant}", runs)
    save_table(f"metrics/meta_compare/runs/{variant}.csv", run_table(runs))
    save_json(f"metrics/meta_compare/{variant}.json", metrics)
    seconds = [run.seconds for run in runs.values() if run.theta is not None] or [0.0]
    save_json(
        f"metrics/meta_compare/timing/{variant}.json",
        {"meta_train_seconds": summarise(seconds), "meta_train_seconds_max": float(np.max(seconds))},
    )


if __name__ == "__main__":
    stage.run(main)
