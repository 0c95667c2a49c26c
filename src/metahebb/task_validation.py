"""Held-out generated tasks: each tasks run's rule judged on tasks of its own distribution it never saw.

meta_tasks judges a rule on circles, moons, blobs and digits, which no generated task is by
construction. Where a rule falls short of the raw input there, is it the transfer to those shapes,
or does it fall short on its own distribution too? Here every run's rule, the rule that run started
from (CMA-ES's first mean: for `table`, Hebb with homeostasis) and the raw input are judged on
`tasks.held_out_tasks` tasks drawn from `tasks.held_out_seed` (numpy's stream of that seed, which no
ES generation draws from), as every target is judged (`compare.score_rule`: fresh networks per
meta_compare seed, the few-label RBF SVM of both views). The tasks are the draws of one target.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metahebb.baselines import untuned
from metahebb.capacity import RAW
from metahebb.compare import RunResult, Setting, run_table, score_rule, seeded
from metahebb.datasets import test_mask
from metahebb.generalisation import Target
from metahebb.params import Params, parse_variant
from metahebb.rules import make_rule
from metahebb.task_study import TASKS, distribution_of

TARGET = "held-out tasks"  # the one target; each task is a draw of it
START = "start"  # the rule a run started from
COLUMNS = ["rule", "run", "draw", "target", "view", "score", "seed_index", "value"]


def held_out_tasks(p: Params) -> tuple[Target, ...]:
    """`tasks.held_out_tasks` tasks of the distribution (families, noise, projections), each split
    into training and test points as the datasets are (`data.test_fraction`)."""
    t = p.tasks
    distribution = dataclasses.replace(distribution_of(p), per_draw=t.held_out_tasks)
    drawn = distribution.sample(np.random.default_rng(t.held_out_seed))
    return tuple(
        Target(x, y, test_mask(len(y), p.data.test_fraction, t.held_out_seed + i))
        for i, (x, y) in enumerate(drawn)
    )


@dataclass(frozen=True)
class HeldOutJob:
    """One rule on every held-out task: a run's trained rule, the rule it started from, or the raw input."""

    rule: str  # `<variant>@tasks`, START or RAW
    run: str  # the meta-training run (`seed0`); RAW for the raw input
    family: str  # the rule family (`table`); "" for the raw input
    theta: dict | None  # None: the family's initial parameters at the run's seed
    setting: Setting
    tasks: tuple[Target, ...]


def variant_jobs(p: Params, setting: Setting, variant: str, thetas: dict[str, dict]) -> list[HeldOutJob]:
    """Each run's trained and starting rule, then the raw input; `thetas`: per run (`seed<i>`), its theta."""
    tasks = held_out_tasks(p)
    family, optimizer, objective = parse_variant(variant)
    jobs = []
    for run, theta in thetas.items():
        at_seed = seeded(setting, optimizer, objective, int(run.removeprefix("seed")))
        jobs.append(HeldOutJob(variant + TASKS, run, family, theta, at_seed, tasks))
        jobs.append(HeldOutJob(START, run, family, None, at_seed, tasks))
    return [*jobs, HeldOutJob(RAW, RAW, "", None, setting, tasks)]


def judge(job: HeldOutJob) -> pd.DataFrame:
    """The job's rows, one per (task, view, score, network seed): a pure function of `job`."""
    frames = []
    for i, task in enumerate(job.tasks):
        if job.rule == RAW:
            result = untuned(RAW, {TARGET: task}, job.setting)
        else:
            rule = make_rule(job.family, job.setting.rules, job.setting.rnn.T, theta=job.theta)
            views = score_rule(rule, task, job.setting)
            result = RunResult({TARGET: views["last"]}, {TARGET: views["concat"]}, None, 0.0, {})
        frames.append(run_table({job.run: result}).assign(draw=i))
    return pd.concat(frames, ignore_index=True).assign(rule=job.rule)[COLUMNS]


def summary(table: pd.DataFrame) -> dict:
    """Per rule, view and score: the mean over runs, tasks and network seeds, and each run's mean."""
    out: dict = {}
    for (rule, view, score), rows in table.groupby(["rule", "view", "score"], sort=False):
        out.setdefault(rule, {}).setdefault(view, {})[score] = {
            "mean": float(rows.value.mean()),
            "runs": {run: float(v) for run, v in rows.groupby("run", sort=True).value.mean().items()},
        }
    return out


__all__ = ["COLUMNS", "START", "TARGET", "HeldOutJob", "held_out_tasks", "judge", "summary", "variant_jobs"]
