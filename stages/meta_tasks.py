"""Stage meta_tasks: a rule meta-trained on generated tasks only (`tasks`), judged on every target.

python stages/meta_tasks.py <variant>          (an entry of tasks.variants, e.g. table-es-labels_acc)

Meta-trains the variant once per meta_compare meta seed on `metahebb.tasks`' distribution, then
judges each run's rule on meta_compare's targets (development draw) and on confirm's fresh draws.
Writes data/meta_tasks/<variant>.pt (the thetas), metrics/meta_tasks/runs/<variant>.csv and
metrics/meta_tasks/confirm/<variant>.csv (the run tables of meta_compare and confirm),
metrics/meta_tasks/history/<variant>/<run>.csv (CMA-ES fitness per generation),
metrics/meta_tasks/<variant>.json (pooled means; wall times in metrics/meta_tasks/timing/).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from metahebb import stage
from metahebb.artifacts import save_json, save_table, save_torch
from metahebb.compare import Setting, pool, run_table
from metahebb.confirm import summary
from metahebb.evaluation import summarise
from metahebb.fanout import Workers, run_jobs
from metahebb.generalisation import load_target
from metahebb.params import load_params, require_choice
from metahebb.runtime import configure
from metahebb.task_study import labels_seen, run_task, task_runs


def main(argv: list[str]) -> None:
    (variant,) = argv
    p = load_params()
    require_choice("variant", variant, p.tasks.variants)
    device = configure(p.runtime.threads, p.runtime.device)
    setting = Setting.of(p, str(device))
    targets = {t: load_target(t, p.data, p.generalisation.digits_input) for t in p.meta_compare.targets}
    runs = task_runs(variant, p, targets, setting)

    start = time.perf_counter()
    results = run_jobs(run_task, runs, Workers.from_params(p.runtime), f"{variant} (generated tasks)")
    by_name = {run.name: r.result for run, r in zip(runs, results, strict=True)}
    save_torch(
        f"data/meta_tasks/{variant}.pt",
        {
            "variant": variant,
            "thetas": {n: r.theta for n, r in by_name.items()},
            "tasks": dataclasses.asdict(p.tasks),
        },
    )
    for name, r in by_name.items():
        steps = len(next(iter(r.history.values())))
        save_table(
            f"metrics/meta_tasks/history/{variant}/{name}.csv",
            pd.DataFrame({"step": range(1, steps + 1), **r.history}),
        )
    save_table(f"metrics/meta_tasks/runs/{variant}.csv", run_table(by_name))
    confirm = pd.concat([r.confirm for r in results], ignore_index=True)
    save_table(f"metrics/meta_tasks/confirm/{variant}.csv", confirm)
    save_json(
        f"metrics/meta_tasks/{variant}.json",
        {
            "meta_runs": len(runs),
            "labels_seen_per_run": labels_seen(p)[variant],
            "targets": {t: pool([r.scores[t] for r in by_name.values()]) for t in targets},
            "confirm": summary(confirm),
        },
    )
    seconds = [r.seconds for r in by_name.values()]
    save_json(
        f"metrics/meta_tasks/timing/{variant}.json",
        {
            "meta_train_seconds": summarise(seconds),
            "meta_train_seconds_max": float(np.max(seconds)),
            "stage_seconds": time.perf_counter() - start,
        },
    )


if __name__ == "__main__":
    stage.run(main)
