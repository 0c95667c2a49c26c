"""Stages capacity@<variant> and capacity_references: frozen rules at other code sizes.

Every rule of the study was meta-trained (or tuned) on networks of kcap_rnn.m neurons of which
kcap_rnn.k fire. A rule is local, so its theta applies unchanged to any m and k: here each frozen
tasks run (`data/meta_tasks/`) and each reference (`none` with and without homeostasis, the tuned
fixed rules at the settings the baselines stage chose) trains fresh networks of each size of
`capacity`, on confirm's draws, judged by `compare.score_rule` exactly as confirm judges them
(`confirm.run_job`). Nothing is meta-trained or tuned again at a new size, so a size tests
transfer as much as capacity. The raw input has no size: it is judged once. The references are
a stage of their own, so adding a variant to `capacity.variants` reruns nothing else.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import pandas as pd

from metahebb.artifacts import save_json, save_table
from metahebb.baselines import UNTUNED, reference_rule
from metahebb.compare import Setting
from metahebb.confirm import Job, as_config, run_job
from metahebb.fanout import Workers, run_jobs
from metahebb.params import Params, RuntimeParams, parse_variant
from metahebb.task_study import TASKS

RAW = "raw"
REFERENCES = "references"  # the file name of stage capacity_references' outputs
INPUT = "input"  # the size column of the raw input's rows
COLUMNS = ["size", "rule", "run", "draw", "target", "view", "score", "seed_index", "value"]


def size_name(m: int, k: int) -> str:
    return f"m{m}k{k}"


def at_size(setting: Setting, m: int, k: int) -> Setting:
    """`setting` with networks of m neurons of which k fire; every other setting kept."""
    return dataclasses.replace(setting, rnn=dataclasses.replace(setting.rnn, m=m, k=k))


@dataclass(frozen=True)
class SizedJob:
    """One rule (a tasks run or a reference) at one size, on every draw and target."""

    size: str
    rule: str  # `<variant>@tasks` or a reference's name
    job: Job


def run_sized(sized: SizedJob) -> pd.DataFrame:
    """The job's rows (confirm's run-table columns) with its size and rule: a pure function."""
    return run_job(sized.job).assign(size=sized.size, rule=sized.rule)[COLUMNS]


def variant_jobs(p: Params, setting: Setting, variant: str, thetas: dict[str, dict]) -> list[SizedJob]:
    """Every run of the tasks variant (`thetas`: per run, its theta) at every size."""
    return [
        SizedJob(size_name(m, k), variant + TASKS, job)
        for m, k in p.capacity.sizes
        for job in tasks_jobs(p, at_size(setting, m, k), variant, thetas, p.capacity.targets)
    ]


def reference_jobs(p: Params, setting: Setting, tuned: dict[str, dict]) -> list[SizedJob]:
    """Every reference at every size, then the raw input once; `tuned`: metrics/baselines.json
    (the chosen settings per view)."""
    targets = p.capacity.targets
    jobs = [
        SizedJob(size_name(m, k), ref, reference_job(p, at_size(setting, m, k), ref, tuned, targets))
        for m, k in p.capacity.sizes
        for ref in p.capacity.references
    ]
    return [*jobs, SizedJob(INPUT, RAW, raw_job(p, setting, targets))]


def tasks_jobs(
    p: Params, setting: Setting, variant: str, thetas: dict[str, dict], targets: list[str]
) -> list[Job]:
    """confirm's job of every run of a tasks variant, at `setting`, on `targets`."""
    rule = parse_variant(variant)[0]
    return [
        Job(variant, run, rule, theta, None, *_common(p, targets), setting) for run, theta in thetas.items()
    ]


def reference_job(p: Params, setting: Setting, ref: str, tuned: dict[str, dict], targets: list[str]) -> Job:
    """confirm's job of a reference (`none`, `none-static` or `<rule>-tuned` at its chosen settings)."""
    chosen = None if ref in UNTUNED or ref == "none" else as_config(tuned[ref]["chosen"])
    return Job(ref, "", reference_rule(ref), None, chosen, *_common(p, targets), setting)


def raw_job(p: Params, setting: Setting, targets: list[str]) -> Job:
    return Job(RAW, "", "", None, None, *_common(p, targets), setting)


def _common(p: Params, targets: list[str]) -> tuple:
    return (p.confirm.draws, targets, p.data, p.generalisation.digits_input)


def sweep(jobs: list[SizedJob], workers: Workers, label: str) -> pd.DataFrame:
    """Every job's rows in the order given; the largest networks and the smallest batches (the most
    updates) run first, so the fan-out's last jobs are short."""

    def cost(i: int) -> tuple[int, int]:
        setting = jobs[i].job.setting
        return -setting.rnn.m, setting.hebbian.batch_size

    order = sorted(range(len(jobs)), key=cost)
    tables = run_jobs(run_sized, [jobs[i] for i in order], workers, label)
    by_index = dict(zip(order, tables, strict=True))
    return pd.concat([by_index[i] for i in range(len(jobs))], ignore_index=True)


def save_sweep(
    name: str, jobs: list[SizedJob], runtime: RuntimeParams, study: str = "capacity", column: str = "size"
) -> None:
    """Run the jobs and write metrics/<study>/{runs/<name>.csv, <name>.json, timing/<name>.json}, each
    job's `size` in the column `column` (the schedule study's are modes)."""
    start = time.perf_counter()
    table = sweep(jobs, Workers.from_params(runtime), f"{study} {name}").rename(columns={"size": column})
    save_table(f"metrics/{study}/runs/{name}.csv", table)
    save_json(f"metrics/{study}/{name}.json", summary(table, column))
    save_json(f"metrics/{study}/timing/{name}.json", {"stage_seconds": time.perf_counter() - start})


def summary(table: pd.DataFrame, column: str = "size") -> dict:
    """Per size (or `column`), rule, view, target and score: the mean over runs, draws and seeds, and
    the runs."""
    out: dict = {}
    keys = [column, "rule", "view", "target", "score"]
    for (size, rule, view, target, score), rows in table.groupby(keys, sort=False):
        cell = {"mean": float(rows.value.mean()), "runs": int(rows.run.nunique())}
        out.setdefault(size, {}).setdefault(rule, {}).setdefault(view, {}).setdefault(target, {})[score] = (
            cell
        )
    return out


__all__ = [
    "INPUT", "RAW", "REFERENCES", "SizedJob", "at_size", "raw_job", "reference_job", "reference_jobs", "run_sized",
    "save_sweep", "size_name", "summary", "sweep", "tasks_jobs", "variant_jobs",
]  # fmt: skip
