"""Stages meta_compare and meta_compare_loo: one variant (rule x outer optimiser x objective) judged.

python stages/meta_compare.py <variant>                    (table-es-labels_ce, learned-gradient-paper, hebb, ...)
python stages/meta_compare.py --leave-one-out <variant>    (an entry of meta_compare.leave_one_out)

The first meta-trains the variant once per meta seed on all meta-training datasets and judges it on
every target; the second meta-trains it without each dataset in turn and judges it on that one.

Wall times go to metrics/meta_compare/timing/ (they differ between identical runs; everything
else in metrics/meta_compare/ is reproducible from params.yaml).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from metahebb import stage
from metahebb.artifacts import load_arrays, save_json, save_torch
from metahebb.compare import Setting, compare_variant, leave_one_out
from metahebb.evaluation import summarise
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


def main(argv: list[str]) -> None:
    held_out = argv[:1] == ["--leave-one-out"]
    (variant,) = argv[1:] if held_out else argv
    params = load_group(CompareParams, "meta_compare")
    require_choice("variant", variant, params.leave_one_out if held_out else params.variants)
    runtime = load_group(RuntimeParams, "runtime")
    setting = Setting(
        rnn=load_group(KCapRNNParams, "kcap_rnn"),
        stab=load_group(StabiliserParams, "stabilisers"),
        rules=load_group(RuleParams, "rules"),
        meta=load_group(MetaParams, "meta_train"),
        es=load_group(ESParams, "es"),
        hebbian=load_group(HebbianParams, "train_hebbian"),
        evaluate=load_group(EvaluateParams, "evaluate"),
        compare=params,
    )
    data = load_group(DataParams, "data")
    digits_input = load_group(GeneralisationParams, "generalisation").digits_input
    configure(runtime.threads, "cpu")  # the inner networks are tiny; CPU is faster than a launch

    points = {}
    for ds in setting.meta.datasets:
        points[ds] = training_points(load_arrays(f"data/datasets/{ds}.npz", required=("x", "y", "is_test")))
    meta_data = MetaData({d: x for d, (x, _) in points.items()}, {d: y for d, (_, y) in points.items()})
    targets = {t: load_target(t, data, digits_input) for t in params.targets}

    start = time.perf_counter()
    if held_out:
        metrics, thetas = leave_one_out(variant, meta_data, targets, setting)
        log.info("%s, leave-one-dataset-out: %.1fs", variant, time.perf_counter() - start)
        save_torch(f"data/meta_compare_loo/{variant}.pt", {"variant": variant, "thetas": thetas})
        save_json(f"metrics/meta_compare_loo/{variant}.json", metrics)
        return
    metrics, record = compare_variant(variant, meta_data, targets, setting)
    log.info("%s: %.1fs", variant, time.perf_counter() - start)
    save_torch(f"data/meta_compare/{variant}.pt", {"variant": variant, "thetas": record["thetas"]})
    save_json(f"metrics/meta_compare/{variant}.json", metrics)
    seconds = record["seconds"] or [0.0]
    save_json(
        f"metrics/meta_compare/timing/{variant}.json",
        {"meta_train_seconds": summarise(seconds), "meta_train_seconds_max": float(np.max(seconds))},
    )


if __name__ == "__main__":
    stage.run(main)
