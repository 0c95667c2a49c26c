"""The schedule sweep (issue 15): frozen rules in the paper's per-sample mode, with and without the
rule's step scaled to the batch it was meta-trained for."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from test_capacity import THETAS, TUNED, _runs
from test_compare import tiny_setting
from tiny import DATA

import metahebb.confirm as confirm
from metahebb.capacity import INPUT, RAW, reference_job, run_sized, save_sweep
from metahebb.confirm import Job, run_job
from metahebb.gain_search import Scaled
from metahebb.params import RuntimeParams, parse_params
from metahebb.schedule import COLUMN, in_mode, mode_name, reference_jobs, step_scale, variant_jobs
from metahebb.schedule_report import schedule_section

VARIANT = "table-es-labels_acc"


def small_params(raw: dict, **schedule):
    p = parse_params(raw)
    s = dataclasses.replace(
        p.schedule, batch_size=[32, 1, 1], scaled=[False, False, True], references=["none", "hebb-tuned"],
        targets=["moons"],
    )  # fmt: skip
    return dataclasses.replace(
        p,
        schedule=dataclasses.replace(s, **schedule),
        confirm=dataclasses.replace(p.confirm, data_seeds=[101], projection_seeds=[201]),
        data=DATA,
    )


def test_modes_are_named_by_batch_and_scaled_by_the_batch_ratio(raw):
    p = small_params(raw)
    assert [mode_name(b, s) for b, s in p.schedule.modes] == ["b32", "b1", "b1-scaled"]
    assert p.train_hebbian.batch_size == 32
    assert [step_scale(p, b, s) for b, s in p.schedule.modes] == [1.0, 1.0, 1 / 32]


def test_a_mode_changes_the_batch_and_scales_the_change_and_every_homeostasis_rate(raw):
    p = small_params(raw)
    job = reference_job(p, tiny_setting(), "hebb-tuned", TUNED, ["moons"])
    moved = in_mode(job, 1, 0.25)
    assert moved.setting.hebbian.batch_size == 1 and moved.gains == (0.25, 0.25, 0.25)
    assert moved.setting.stab.homeostasis_rate == pytest.approx(0.25 * job.setting.stab.homeostasis_rate)
    assert {c.homeostasis_rate for c in moved.chosen.values()} == {0.25 * 0.2}
    assert {c.lr for c in moved.chosen.values()} == {0.05}  # the step is scaled once, by the gains
    back = dataclasses.replace(moved, setting=job.setting, chosen=job.chosen, gains=job.gains)
    assert back == job  # nothing else changed
    assert in_mode(job, job.setting.hebbian.batch_size, 1.0) == job  # the rule's own schedule: confirm's job


def test_every_run_and_reference_in_every_mode_and_the_raw_input_once(raw):
    p = small_params(raw)
    runs = variant_jobs(p, tiny_setting(), VARIANT, THETAS[VARIANT])
    modes = ("b32", "b1", "b1-scaled")
    assert [(j.size, j.job.run) for j in runs] == [(m, r) for m in modes for r in ("seed0", "seed1")]
    assert {j.rule for j in runs} == {f"{VARIANT}@tasks"}
    assert [j.job.setting.hebbian.batch_size for j in runs] == [32, 32, 1, 1, 1, 1]
    assert runs[-1].job.gains == (1 / 32,) * 3 and runs[0].job.gains == Job.gains
    refs = reference_jobs(p, tiny_setting(), TUNED)
    assert [(j.size, j.rule) for j in refs] == [
        *((m, ref) for m in modes for ref in ("none", "hebb-tuned")),
        (INPUT, RAW),
    ]
    assert refs[-1].job.setting.hebbian.batch_size == tiny_setting().hebbian.batch_size


def test_a_scaled_job_trains_with_the_scaled_rule(raw, monkeypatch):
    p = small_params(raw)
    job = in_mode(variant_jobs(p, tiny_setting(), VARIANT, THETAS[VARIANT])[0].job, 16, 0.5)
    seen = []
    real = confirm.score_rule
    monkeypatch.setattr(confirm, "score_rule", lambda rule, *a, **k: seen.append(rule) or real(rule, *a, **k))
    run_job(job)
    assert seen and all(
        isinstance(r, Scaled) and r.gains == {"in": 0.5, "rec": 0.5, "out": 0.5} for r in seen
    )


def test_a_zero_step_trains_like_no_rule(raw):
    """The gains reach the update: a rule whose change is scaled to zero trains as `none` does."""
    p = small_params(raw)
    setting = tiny_setting()
    hebb = Job("hebb", "", "hebb", None, None, p.confirm.draws, ["moons"], p.data, "projected", setting)
    none = dataclasses.replace(hebb, variant="none", rule="none")
    frozen = run_job(dataclasses.replace(hebb, gains=(0.0, 0.0, 0.0)))
    assert frozen.value.tolist() == pytest.approx(run_job(none).value.tolist())
    assert not run_job(hebb).value.equals(frozen.value)


def test_a_sweep_writes_modes_in_its_own_study(raw, tmp_path, monkeypatch):
    p = small_params(raw, batch_size=[16, 4], scaled=[False, True], references=["none"])
    monkeypatch.chdir(tmp_path)
    jobs = reference_jobs(p, tiny_setting(), TUNED)
    save_sweep(
        "references",
        jobs,
        RuntimeParams(threads=1, device="cpu", workers=1, scheduler=""),
        "schedule",
        COLUMN,
    )
    table = pd.read_csv("metrics/schedule/runs/references.csv")
    assert list(table.columns[:2]) == [COLUMN, "rule"] and list(dict.fromkeys(table[COLUMN])) == [
        "b16",
        "b4-scaled",
        INPUT,
    ]
    assert (tmp_path / "metrics/schedule/references.json").exists()
    assert (tmp_path / "metrics/schedule/timing/references.json").exists()
    first = run_sized(jobs[0]).drop(columns=["size", "rule"])
    mine = table[table[COLUMN] == "b16"].drop(columns=[COLUMN, "rule"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, first, check_dtype=False)


def test_the_section_tests_each_mode_against_the_references_in_that_mode():
    mine = _frame("v@tasks", "b1", 3, 0.8)
    codes = mine[mine.view == "last"].assign(score="codes", value=[4.0, 20.0] * 3)  # 3 of 6 networks < 10
    runs = pd.concat([mine, codes, _frame("none", "b1", 1, 0.6), _frame(RAW, INPUT, 1, 0.85)])
    text, frame = schedule_section(runs, [8], 32, 10)
    assert set(frame[COLUMN]) == {"b1"} and set(frame.against) == {RAW, "none"}
    assert "### Schedule" in text and "| mode | rule | target |" in text
    assert "| b1 | v@tasks | moons |" in text and "| 12.0 | 3 of 6 |" in text
    assert "- `v@tasks` at b1, last: beats the raw input at 8 labels on 0 of 1 targets (none)" in text


def _frame(rule: str, mode: str, runs: int, value: float) -> pd.DataFrame:
    """A run table of `runs` runs (one draw, two seeds) around `value`, in `mode`."""
    rng = np.random.default_rng(len(rule))
    values = value + 0.01 * rng.standard_normal((runs, 1, 2))
    return _runs(rule, mode, [f"seed{i}" for i in range(runs)] if runs > 1 else [""], values).rename(
        columns={"size": COLUMN}
    )
