"""Held-out generated tasks (issue 15): the tasks rules judged on unseen tasks of their own distribution."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from test_compare import tiny_setting
from tiny import DATA, RNN, RULES

from metahebb.capacity import RAW
from metahebb.params import parse_params
from metahebb.rules import make_rule
from metahebb.task_validation import COLUMNS, START, TARGET, held_out_tasks, judge, summary, variant_jobs
from metahebb.task_validation_report import held_out_section

VARIANT = "table-es-labels_acc"


def small_params(raw: dict, **tasks):
    p = parse_params(raw)
    t = dataclasses.replace(p.tasks, n_samples=40, held_out_tasks=2, **tasks)
    return dataclasses.replace(p, tasks=t, data=DATA)


def test_the_held_out_tasks_are_a_function_of_their_own_seed(raw):
    p = small_params(raw)
    tasks = held_out_tasks(p)
    assert len(tasks) == 2 and all(t.x.shape == (40, DATA.ambient_dim) for t in tasks)
    assert all(t.is_test.sum() == round(40 * DATA.test_fraction) for t in tasks)
    again = held_out_tasks(dataclasses.replace(p, es=dataclasses.replace(p.es, seed=p.es.seed + 1)))
    assert all(
        np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y) for a, b in zip(tasks, again, strict=True)
    )
    other = held_out_tasks(small_params(raw, held_out_seed=p.tasks.held_out_seed + 1))
    assert not np.array_equal(tasks[0].x, other[0].x)


def test_each_run_is_judged_with_the_rule_it_started_from_and_the_raw_input_once(raw):
    p = small_params(raw)
    thetas = {"seed0": {"a": 0}, "seed3": {"a": 3}}
    jobs = variant_jobs(p, tiny_setting(), VARIANT, thetas)
    assert [(j.rule, j.run) for j in jobs] == [
        (f"{VARIANT}@tasks", "seed0"), (START, "seed0"), (f"{VARIANT}@tasks", "seed3"), (START, "seed3"), (RAW, RAW)
    ]  # fmt: skip
    assert jobs[2].theta is thetas["seed3"] and jobs[3].theta is None
    assert jobs[3].setting.rules.seed == tiny_setting().rules.seed + 3  # the run's own initialisation


def test_the_start_is_the_rules_initial_parameters_judged_on_every_task(raw):
    p = small_params(raw)
    setting = dataclasses.replace(tiny_setting(), rules=RULES, rnn=RNN)
    initial = make_rule("table", RULES, RNN.T).state_dict()
    jobs = variant_jobs(p, setting, VARIANT, {"seed0": initial})
    trained, start, raw_input = (judge(j) for j in (jobs[0], jobs[1], jobs[-1]))
    assert list(start.columns) == COLUMNS and set(start.draw) == {0, 1} and set(start.target) == {TARGET}
    assert set(start.view) == {"last", "concat"} and {"svm_n2", "codes"} <= set(start.score)
    pd.testing.assert_series_equal(trained.value, start.value)  # the same rule, networks and draws
    assert set(raw_input.rule) == {RAW} and "codes" not in set(raw_input.score)
    cell = summary(pd.concat([trained, start]))[START]["last"]["svm_n2"]
    assert 0.0 <= cell["mean"] <= 1.0 and list(cell["runs"]) == ["seed0"]


def _table(trained: float, start: float, raw_value: float, runs: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for rule, base in ((f"{VARIANT}@tasks", trained), (START, start), (RAW, raw_value)):
        for r in [RAW] if rule == RAW else [f"seed{i}" for i in range(runs)]:
            bump = 0.0 if rule == RAW else rng.normal(0, 0.005)
            for draw in range(3):
                for view in ("last", "concat"):
                    for n in (8, 32):
                        for seed in range(2):
                            rows.append((rule, r, draw, TARGET, view, f"svm_n{n}", seed, base + bump))
                    if rule != RAW and view == "last":  # a rule's networks count their distinct codes
                        rows += [(rule, r, draw, TARGET, view, "codes", seed, 30.0) for seed in range(2)]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_the_section_tests_every_view_and_label_count_against_the_start_and_the_raw_input():
    text, frame = held_out_section({VARIANT: _table(0.75, 0.65, 0.80)}, [8, 32])
    assert len(frame) == 2 * 2 * 2 and set(frame.against) == {START, RAW}
    assert frame[frame.against == START].holds.all() and not frame[frame.against == RAW].holds.any()
    assert frame[frame.against == RAW].mean_difference.round(2).eq(-0.05).all()
    assert "on 3 fresh tasks" in text and "| 30.0 -> 30.0 |" in text
    line = f"- `{VARIANT}@tasks`, last: beats the rule it started from at 8 and 32 labels, the raw input at no label count"
    assert line in text
    assert held_out_section({}, [8, 32])[0] == ""
