"""Stages meta_compare_* and meta_compare_loo_*: one variant (rule x outer optimiser x objective) judged.

python stages/meta_compare.py <variant>                    (table-es-labels_ce, learned-gradient-paper, hebb, ...)
python stages/meta_compare.py --leave-one-out <variant>    (an entry of meta_compare.leave_one_out)

The first meta-trains the variant once per meta seed on all meta-training datasets and judges it on
every target; the second meta-trains it without each dataset in turn and judges it on that one.
The runs are independent and fan out over local cores or a Dask cluster (`metahebb.fanout`).

Wall times go to metrics/meta_compare/timing/ (they differ between identical runs; everything
else in metrics/meta_compare/ is reproducible from params.yaml). Each run's meta-training curve
(meta-loss or CMA-ES fitness per step) goes to metrics/meta_compare*/history/<variant>/<run>.csv.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from metahebb import stage
from metahebb.artifacts import load_arrays, save_json, save_table, save_torch
from metahebb.compare import RunResult, Setting, compare_variant, leave_one_out
from metahebb.evaluation import summarise
from metahebb.fanout import Workers
from metahebb.generalisation import load_target
from metahebb.meta_data import MetaData, training_points
from metahebb.params import (
    CompareParams,
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
    require_choice,
)
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
    params = load_group(CompareParams, "meta_compare")
    require_choice("variant", variant, (params.leave_one_out if held_out else params.variants).names)
    runtime = load_group(RuntimeParams, "runtime")
    device = configure(runtime.threads, runtime.device)
    setting = Setting(
        rnn=load_group(KCapRNNParams, "kcap_rnn"),
        stab=load_group(StabiliserParams, "stabilisers"),
        rules=load_group(RuleParams, "rules"),
        meta=load_group(MetaParams, "meta_train"),
        es=load_group(ESParams, "es"),
        hebbian=load_group(HebbianParams, "train_hebbian"),
        evaluate=load_group(EvaluateParams, "evaluate"),
        compare=params,
        device=str(device),
    )
    data = load_group(DataParams, "data")
    digits_input = load_group(GeneralisationParams, "generalisation").digits_input
    workers = Workers.from_params(runtime)

    points = {}
    for ds in setting.meta.datasets:
        points[ds] = training_points(load_arrays(f"data/datasets/{ds}.npz", required=("x", "y", "is_test")))
    meta_data = MetaData({d: x for d, (x, _) in points.items()}, {d: y for d, (_, y) in points.items()})
    targets = {t: load_target(t, data, digits_input) for t in params.targets}

    start = time.perf_counter()
    if held_out:
        metrics, runs = leave_one_out(variant, meta_data, targets, setting, workers)
        log.info("%s, leave-one-dataset-out: %.1fs", variant, time.perf_counter() - start)
        thetas = {name: run.theta for name, run in runs.items()}
        save_torch(f"data/meta_compare_loo/{variant}.pt", {"variant": variant, "thetas": thetas})
        save_histories(f"metrics/meta_compare_loo/history/{variant}", runs)
        save_json(f"metrics/meta_compare_loo/{variant}.json", metrics)
        return
    metrics, runs = compare_variant(variant, meta_data, targets, setting, workers)
    log.info("%s: %.1fs", variant, time.perf_counter() - start)
    thetas = {name: run.theta for name, run in runs.items() if run.theta is not None}
    save_torch(f"data/meta_compare/{variant}.pt", {"variant": variant, "thetas": thetas})
    save_histories(f"metrics/meta_compare/history/{variant}", runs)
    save_json(f"metrics/meta_compare/{variant}.json", metrics)
    seconds = [run.seconds for run in runs.values() if run.theta is not None] or [0.0]
    save_json(
        f"metrics/meta_compare/timing/{variant}.json",
        {"meta_train_seconds": summarise(seconds), "meta_train_seconds_max": float(np.max(seconds))},
    )


if __name__ == "__main__":
    stage.run(main)
