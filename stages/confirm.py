"""Stage confirm: every frozen rule and reference of the study on fresh data draws (`confirm`).

python stages/confirm.py

Reads the meta-trained thetas of every meta_compare variant (data/meta_compare/<variant>.pt, all
runs) and the baselines' chosen settings (metrics/baselines.json); trains meta_compare's
fresh networks on each draw's targets (leave-one-out runs: their held-out dataset only; the backprop
RNN autoencoder is trained anew on every draw). Writes metrics/confirm/runs/<name>.csv and
metrics/confirm/loo/runs/<variant>.csv (the run tables' columns plus `draw`) and
metrics/confirm.json (per name: means over runs, draws and seeds, and each draw's).
"""

from __future__ import annotations

import pandas as pd

from metahebb import stage
from metahebb.artifacts import load_json, load_torch, save_json, save_table
from metahebb.baselines import UNTUNED, reference_names, reference_rule
from metahebb.compare import Setting
from metahebb.confirm import Job, as_config, run_job, summary
from metahebb.fanout import Workers, run_jobs
from metahebb.params import load_params, parse_variant
from metahebb.runtime import configure


def main(argv: list[str]) -> None:
    p = load_params()
    device = configure(p.runtime.threads, p.runtime.device)
    setting = Setting.of(p, str(device))
    common = (p.confirm.draws, p.meta_compare.targets, p.data, p.generalisation.digits_input, setting)
    jobs = []
    for variant in p.meta_compare.variants.names:
        rule, optimizer, _ = parse_variant(variant)
        if optimizer is None:
            jobs.append(Job(variant, "", rule, None, None, *common))
            continue
        thetas = load_torch(f"data/meta_compare/{variant}.pt", required=("thetas",))["thetas"]
        jobs += [Job(variant, run, rule, theta, None, *common) for run, theta in thetas.items()]
    tuned = load_json("metrics/baselines.json")
    for name in reference_names(p.baselines):
        chosen = None if name in UNTUNED else as_config(tuned[name]["chosen"])
        jobs.append(Job(name, "", reference_rule(name), None, chosen, *common))
    jobs.append(Job("backprop-rnn", "", "", None, None, *common, backprop=p.backprop))
    loo = []  # a leave-one-out run is judged on its held-out dataset alone
    for variant in p.meta_compare.leave_one_out.names:
        thetas = load_torch(f"data/meta_compare_loo/{variant}.pt", required=("thetas",))["thetas"]
        for run, theta in thetas.items():
            held_out = run.split("_without_")[-1]
            if held_out in p.meta_compare.targets:
                rule = parse_variant(variant)[0]
                loo.append(Job(variant, run, rule, theta, None, p.confirm.draws, [held_out], *common[2:]))

    tables = run_jobs(run_job, jobs + loo, Workers.from_params(p.runtime), "confirm")
    by_name: dict[str, list[pd.DataFrame]] = {}
    for i, (job, table) in enumerate(zip(jobs + loo, tables, strict=True)):
        by_name.setdefault(("loo/runs/" if i >= len(jobs) else "runs/") + job.variant, []).append(table)
    metrics = {}
    for path, frames in by_name.items():
        table = pd.concat(frames, ignore_index=True)
        save_table(f"metrics/confirm/{path}.csv", table)
        metrics[path.replace("runs/", "")] = summary(table)
    save_json("metrics/confirm.json", metrics)


if __name__ == "__main__":
    stage.run(main)
