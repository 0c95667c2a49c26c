"""Stages schedule@<variant> and schedule_references: frozen rules in other inner schedules.

Every rule of the study was meta-trained (or tuned) with updates averaged over batches of
train_hebbian.batch_size points. The paper updates after every sample, which gives ~30x as many
updates per epoch; a rule used unchanged there moves the weights and thresholds ~30x as far per
epoch. Each mode of `schedule` trains fresh networks with its batch size; a `scaled` mode also
multiplies the rule's change of every matrix and the homeostasis rate by batch_size /
train_hebbian.batch_size, so in the small-step limit an epoch moves as far as the schedule the
rule was meta-trained for. Jobs, judging and files are the capacity sweep's (`capacity.sweep`);
nothing is meta-trained or tuned again, so a mode tests transfer to a schedule, as the paper
would use the rule. The raw input has no schedule: it is judged once.
"""

from __future__ import annotations

import dataclasses

from metahebb.capacity import INPUT, RAW, SizedJob, raw_job, reference_job, tasks_jobs
from metahebb.compare import Setting
from metahebb.confirm import Job
from metahebb.params import Params
from metahebb.task_study import TASKS

STUDY = "schedule"  # metrics/schedule/
COLUMN = "mode"  # the run tables' column naming a job's mode


def mode_name(batch_size: int, scaled: bool) -> str:
    return f"b{batch_size}" + ("-scaled" if scaled else "")


def step_scale(p: Params, batch_size: int, scaled: bool) -> float:
    """The factor of the rule's change and the homeostasis rate in a mode (1 unless scaled)."""
    return batch_size / p.train_hebbian.batch_size if scaled else 1.0


def in_mode(job: Job, batch_size: int, scale: float) -> Job:
    """`job` trained with batches of `batch_size`, its rule's change and every homeostasis rate (the
    setting's and a tuned reference's chosen ones) times `scale`; every other setting kept."""
    s = job.setting
    setting = dataclasses.replace(
        s,
        hebbian=dataclasses.replace(s.hebbian, batch_size=batch_size),
        stab=dataclasses.replace(s.stab, homeostasis_rate=s.stab.homeostasis_rate * scale),
    )
    chosen = job.chosen and {
        view: dataclasses.replace(c, homeostasis_rate=c.homeostasis_rate * scale)
        for view, c in job.chosen.items()
    }
    return dataclasses.replace(job, setting=setting, chosen=chosen, gains=tuple(g * scale for g in job.gains))


def _modes(p: Params) -> list[tuple[str, int, float]]:
    return [(mode_name(b, scaled), b, step_scale(p, b, scaled)) for b, scaled in p.schedule.modes]


def variant_jobs(p: Params, setting: Setting, variant: str, thetas: dict[str, dict]) -> list[SizedJob]:
    """Every run of the tasks variant (`thetas`: per run, its theta) in every mode."""
    jobs = tasks_jobs(p, setting, variant, thetas, p.schedule.targets)
    return [
        SizedJob(name, variant + TASKS, in_mode(job, b, scale))
        for name, b, scale in _modes(p)
        for job in jobs
    ]


def reference_jobs(p: Params, setting: Setting, tuned: dict[str, dict]) -> list[SizedJob]:
    """Every reference in every mode, then the raw input once; `tuned`: metrics/baselines.json."""
    targets = p.schedule.targets
    jobs = [
        SizedJob(name, ref, in_mode(reference_job(p, setting, ref, tuned, targets), b, scale))
        for name, b, scale in _modes(p)
        for ref in p.schedule.references
    ]
    return [*jobs, SizedJob(INPUT, RAW, raw_job(p, setting, targets))]


__all__ = ["COLUMN", "STUDY", "in_mode", "mode_name", "reference_jobs", "step_scale", "variant_jobs"]
