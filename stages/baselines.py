"""Stage baselines: fixed rules tuned on the validation split, `none` without homeostasis, the raw input.

python stages/baselines.py

Each reference is judged as a meta_compare variant is (same targets, network seeds, label counts,
SVM draws), so the run-level tests of the report pair them with every variant
(src/metahebb/baselines.py says how the tuning is fair). Writes metrics/baselines.json (per
reference: the chosen settings and pooled scores), metrics/baselines/runs/<name>.csv (every score
per network seed, as meta_compare's) and metrics/baselines/tuning/<name>.csv (every grid point's
or ES candidate's validation score).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from metahebb import stage
from metahebb.artifacts import save_json, save_table
from metahebb.baselines import Job, reference_names, run_job
from metahebb.compare import Setting, pool, run_table
from metahebb.fanout import Workers, run_jobs
from metahebb.generalisation import load_target
from metahebb.meta_data import load_meta_data
from metahebb.params import load_params
from metahebb.runtime import configure


def main(argv: list[str]) -> None:
    p = load_params()
    device = configure(p.runtime.threads, p.runtime.device)
    setting = Setting.of(p, str(device))
    data = load_meta_data(p.meta_train.datasets)
    targets = {t: load_target(t, p.data, p.generalisation.digits_input) for t in p.meta_compare.targets}
    jobs = [Job(name, data, targets, setting, p.baselines) for name in reference_names(p.baselines)]
    references = run_jobs(run_job, jobs, Workers.from_params(p.runtime), "baselines")
    metrics = {}
    for job, ref in zip(jobs, references, strict=True):
        save_table(f"metrics/baselines/runs/{job.name}.csv", run_table({job.name: ref.result}))
        if ref.search:
            save_table(f"metrics/baselines/tuning/{job.name}.csv", pd.DataFrame(ref.search))
        metrics[job.name] = {
            "chosen": {view: dataclasses.asdict(c) for view, c in ref.chosen.items()},
            "last": {t: pool([ref.result.scores[t]]) for t in targets},
            "concat": {t: pool([ref.result.concat[t]]) for t in targets},
        }
    save_json("metrics/baselines.json", metrics)


if __name__ == "__main__":
    stage.run(main)
