"""Stage meta_tasks' work: a rule meta-trained on generated tasks, judged on every target.

Each run (variant x meta seed) meta-trains the variant's rule by CMA-ES on `metahebb.tasks`'
distribution, fresh tasks every generation, seeded by the run's ES seed; no point or label of
circles, moons, blobs or digits enters. The frozen rule is then judged exactly as meta_compare
judges its variants (`compare.score_rule`: fresh networks per meta_compare seed, the few-label
SVM of both views) on the development draw, and as the confirm stage judges every frozen rule on
its fresh data draws (`confirm.run_job`). Since no target ever reaches meta-training, a
task-trained variant is judged on every target, the meta-training datasets included.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pandas as pd

from metahebb.compare import RunResult, Setting, score_rule, seeded
from metahebb.confirm import Job, run_job
from metahebb.generalisation import Target
from metahebb.outer import Groups, make_optimiser, meta_learn
from metahebb.params import DataParams, Params, parse_variant
from metahebb.rules import make_rule
from metahebb.tasks import TaskDistribution

TASKS = "@tasks"  # a tasks variant's name in the report: meta-trained on generated tasks only

log = logging.getLogger("meta_tasks")


def distribution_of(p: Params) -> TaskDistribution:
    """The task distribution of params group `tasks`, in the ambient dimension of the targets."""
    t = p.tasks
    return TaskDistribution(
        tuple(t.families),
        t.per_generation,
        t.n_samples,
        p.data.ambient_dim,
        t.noise,
        t.nonlinear,
        p.meta_train.validation_fraction,
    )


@dataclass(frozen=True)
class TaskRun:
    """One independent job: a variant meta-trained once on the distribution, then judged."""

    variant: str
    meta_seed: int
    distribution: TaskDistribution
    targets: dict[str, Target]  # the development draw's targets
    draws: list[tuple[int, int]]  # the confirmatory draws (data.seed, data.projection_seed)
    data: DataParams
    digits_input: str
    setting: Setting

    @property
    def name(self) -> str:
        return f"seed{self.meta_seed}"


@dataclass(frozen=True)
class TaskResult:
    result: RunResult  # the development draw
    confirm: pd.DataFrame  # the confirmatory draws: confirm's run-table columns


def run_task(run: TaskRun) -> TaskResult:
    """Meta-train on the distribution, then score on every target and draw: a pure function of `run`."""
    name, optimizer, objective = parse_variant(run.variant)
    setting = seeded(run.setting, optimizer, objective, run.meta_seed)
    start = time.perf_counter()
    optimiser = make_optimiser(Groups(setting.rnn, setting.stab, setting.meta, setting.es), setting.device)
    result = meta_learn(make_rule(name, setting.rules, setting.rnn.T), run.distribution, optimiser)
    seconds = time.perf_counter() - start
    log.info("%s/%s on generated tasks: %.1fs, %s", run.variant, run.name, seconds, result.summary)
    rule = make_rule(name, setting.rules, setting.rnn.T, theta=result.theta)
    views = {
        t: score_rule(rule, target, setting, f"{run.variant}@tasks/{run.name} -> {t}")
        for t, target in run.targets.items()
    }
    judged = RunResult(
        {t: v["last"] for t, v in views.items()},
        {t: v["concat"] for t, v in views.items()},
        result.theta,
        seconds,
        result.history,
    )
    job = Job(
        run.variant, run.name, name, result.theta, None, run.draws, list(run.targets), run.data,
        run.digits_input, run.setting,
    )  # fmt: skip
    return TaskResult(judged, run_job(job))


def task_runs(variant: str, p: Params, targets: dict[str, Target], setting: Setting) -> list[TaskRun]:
    """One run per meta_compare meta seed, as meta_compare runs its variants."""
    distribution = distribution_of(p)
    common = (distribution, targets, p.confirm.draws, p.data, p.generalisation.digits_input, setting)
    return [TaskRun(variant, s, *common) for s in p.meta_compare.meta_seeds]


def labels_seen(p: Params) -> dict[str, int]:
    """Labelled points one run's meta-training draws: per generated task (candidates share tasks),
    `objective_labels` per network, over every generation (0 for a label-free objective)."""
    from metahebb.params import LABEL_OBJECTIVES

    es, t = p.es, p.tasks
    per_run = es.generations * t.per_generation * es.networks_per_dataset * p.meta_train.objective_labels
    return {v: per_run if parse_variant(v)[2] in LABEL_OBJECTIVES else 0 for v in t.variants}


__all__ = ["TaskResult", "TaskRun", "distribution_of", "labels_seen", "run_task", "task_runs"]
