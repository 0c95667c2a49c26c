"""Stage task_validation@<variant>: one tasks variant's runs judged on held-out generated tasks.

python stages/task_validation.py <variant>       (an entry of tasks.variants, e.g. table-es-labels_acc)

Reads the variant's thetas (data/meta_tasks/<variant>.pt, all runs) and judges each run's rule, the
rule it started from and the raw input on `tasks.held_out_tasks` fresh tasks of the distribution.
Writes metrics/task_validation/runs/<variant>.csv (one row per rule, run, task, view, score and
network seed), metrics/task_validation/<variant>.json (means) and .../timing/<variant>.json.
"""

from __future__ import annotations

import time

import pandas as pd

from metahebb import stage
from metahebb.artifacts import load_torch, save_json, save_table
from metahebb.compare import Setting
from metahebb.fanout import Workers, run_jobs
from metahebb.params import load_params, require_choice
from metahebb.runtime import configure
from metahebb.task_validation import judge, summary, variant_jobs


def main(argv: list[str]) -> None:
    (variant,) = argv
    p = load_params()
    require_choice("variant", variant, p.tasks.variants)
    device = configure(p.runtime.threads, p.runtime.device)
    thetas = load_torch(f"data/meta_tasks/{variant}.pt", required=("thetas",))["thetas"]
    jobs = variant_jobs(p, Setting.of(p, str(device)), variant, thetas)
    start = time.perf_counter()
    table = pd.concat(run_jobs(judge, jobs, Workers.from_params(p.runtime), f"{variant} (held-out tasks)"))
    save_table(f"metrics/task_validation/runs/{variant}.csv", table.reset_index(drop=True))
    save_json(f"metrics/task_validation/{variant}.json", summary(table))
    save_json(
        f"metrics/task_validation/timing/{variant}.json", {"stage_seconds": time.perf_counter() - start}
    )


if __name__ == "__main__":
    stage.run(main)
