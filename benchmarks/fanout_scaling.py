"""How the fan-out of independent meta-training runs scales with workers: python benchmarks/fanout_scaling.py

Runs R independent `table-es-ridge` runs (meta seeds 0..R-1, the default params but `es.generations`
shortened; each run meta-trains by CMA-ES, then trains and scores fresh networks on every dataset,
exactly as a `meta_compare_es` stage does) through `metahebb.fanout.run_jobs`, first on 1 worker
(in this process: the baseline), then on 2, ... up to the usable cores, in the same process. Before
reporting, it checks that every worker count gives identical scores and theta. Prints seconds,
speed-up over 1 worker and parallel efficiency, and projects a whole stage's wall time for N
workers as ceil(R / N) x the mean seconds of one run (runs are of equal size).
"""

from __future__ import annotations

import dataclasses
import math
import time

import torch
from timing import REPO, arguments, environment, table, write_json

from metahebb.compare import Run, Setting, run_one
from metahebb.datasets import make_dataset
from metahebb.fanout import Workers, run_jobs, usable_cores
from metahebb.generalisation import Target
from metahebb.meta_data import MetaData, training_points
from metahebb.params import load_params

PARAMS = REPO / "params.yaml"


def runs(count: int, generations: int) -> list[Run]:
    p = load_params(PARAMS)
    meta, es = p.meta_train, dataclasses.replace(p.es, generations=generations)
    setting = dataclasses.replace(Setting.of(p), es=es)
    arrays = {d: make_dataset(d, p.data).arrays() for d in meta.datasets}
    points = {d: training_points(a) for d, a in arrays.items()}
    meta_data = MetaData({d: x for d, (x, _) in points.items()}, {d: y for d, (_, y) in points.items()})
    targets = {d: Target(a["x"], a["y"], a["is_test"], a["z"]) for d, a in arrays.items()}
    datasets = tuple(meta.datasets)
    return [Run("table-es-ridge", s, datasets, datasets, meta_data, targets, setting) for s in range(count)]


def same(a: list, b: list) -> bool:
    return all(
        x.scores == y.scores and all(torch.equal(x.theta[k], y.theta[k]) for k in x.theta)
        for x, y in zip(a, b, strict=True)
    )


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], "fanout_scaling.json")
    parser.add_argument("--runs", type=int, default=4, help="independent runs R (default 4)")
    parser.add_argument("--generations", type=int, default=10, help="CMA-ES generations per run")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.generations = 2, 2
    torch.set_num_threads(1)
    jobs = runs(args.runs, args.generations)
    counts = sorted({1, *range(2, usable_cores() + 1)})
    rows, results = [], {}
    for n in counts:
        start = time.perf_counter()
        results[n] = run_jobs(run_one, jobs, Workers(n), f"{n} workers")
        rows.append({"workers": n, "seconds": time.perf_counter() - start})
    assert all(same(results[1], results[n]) for n in counts), "results differ between worker counts"
    base = rows[0]["seconds"]
    per_run = base / args.runs
    for row in rows:
        row["speedup"] = base / row["seconds"]
        row["efficiency"] = row["speedup"] / row["workers"]
    projected = [
        {"workers": n, "projected_stage_s": math.ceil(args.runs / n) * per_run} for n in (1, 2, 4, 8, 16, 32)
    ]
    print(f"{args.runs} runs of table-es-ridge, {args.generations} generations each; identical results")
    print(
        table(
            rows,
            [
                ("workers", "workers", "d"),
                ("seconds", "seconds", ".1f"),
                ("speedup", "speed-up vs 1", ".2f"),
                ("efficiency", "efficiency", ".2f"),
            ],
        )
    )
    print(table(projected, [("workers", "N workers", "d"), ("projected_stage_s", "projected s", ".0f")]))
    write_json(
        args.out,
        {
            "environment": environment(torch.device("cpu")),
            "runs": args.runs,
            "generations": args.generations,
            "measured": rows,
            "projected": projected,
        },
    )


if __name__ == "__main__":
    main()
