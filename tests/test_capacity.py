"""The capacity sweep (issue 15): frozen rules at other code sizes, and the report's tests of them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_compare import tiny_setting
from tiny import DATA, RNN, RULES

from metahebb.capacity import INPUT, RAW, at_size, reference_jobs, run_sized, summary, sweep, variant_jobs
from metahebb.capacity_report import capacity_family, capacity_section
from metahebb.confirm import run_job
from metahebb.fanout import Workers
from metahebb.inference import holm
from metahebb.params import parse_params
from metahebb.rules import make_rule


def small_params(raw: dict, **capacity):
    p = parse_params(raw)
    c = dataclasses.replace(
        p.capacity, m=[16, 24], k=[4, 3], references=["none", "hebb-tuned"], targets=["moons"]
    )
    return dataclasses.replace(
        p,
        capacity=dataclasses.replace(c, **capacity),
        confirm=dataclasses.replace(p.confirm, data_seeds=[101], projection_seeds=[201]),
        data=DATA,
    )


THETAS = {"table-es-labels_acc": {f"seed{i}": make_rule("table", RULES, RNN.T).state_dict() for i in (0, 1)}}
TUNED = {
    "hebb-tuned": {
        "chosen": {v: {"lr": 0.05, "homeostasis_rate": 0.2, "epochs": 1} for v in ("last", "concat")}
    }
}


def test_a_size_changes_only_m_and_k():
    setting = tiny_setting()
    sized = at_size(setting, 32, 2)
    assert (sized.rnn.m, sized.rnn.k) == (32, 2)
    assert dataclasses.replace(sized, rnn=setting.rnn) == setting


def test_every_run_and_reference_at_every_size_and_the_raw_input_once(raw):
    p = small_params(raw)
    variant = "table-es-labels_acc"
    runs = variant_jobs(p, tiny_setting(), variant, THETAS[variant])
    assert [(j.size, j.rule, j.job.run) for j in runs] == [
        (size, f"{variant}@tasks", run) for size in ("m16k4", "m24k3") for run in ("seed0", "seed1")
    ]
    assert runs[0].job.theta is THETAS[variant]["seed0"] and runs[-1].job.setting.rnn.m == 24
    refs = reference_jobs(p, tiny_setting(), TUNED)
    assert [(j.size, j.rule) for j in refs] == [
        *((size, ref) for size in ("m16k4", "m24k3") for ref in ("none", "hebb-tuned")),
        (INPUT, RAW),
    ]
    tuned = next(j for j in refs if j.rule == "hebb-tuned").job
    assert tuned.chosen["last"].homeostasis_rate == 0.2 and tuned.rule == "hebb"
    assert next(j for j in refs if j.rule == "none").job.chosen is None  # `none` has nothing to tune


def test_a_sized_job_is_confirms_job_at_that_size(raw):
    p = small_params(raw, m=[24], k=[3], references=[])
    job = variant_jobs(p, tiny_setting(), "table-es-labels_acc", THETAS["table-es-labels_acc"])[0]
    table = run_sized(job)
    assert list(table.columns[:2]) == ["size", "rule"] and set(table["size"]) == {"m24k3"}
    assert table.drop(columns=["size", "rule"]).equals(run_job(job.job))
    codes = table[(table.view == "last") & (table.score == "codes")].value
    assert codes.max() > 1 and codes.max() <= 24  # a code of the new size, not of RNN's m=16
    cell = summary(table)["m24k3"]["table-es-labels_acc@tasks"]["last"]["moons"]["codes"]
    assert cell["runs"] == 1 and cell["mean"] == pytest.approx(codes.mean())


def test_a_sweep_runs_the_largest_first_and_returns_rows_in_job_order(raw):
    p = small_params(raw, references=["none"])
    jobs = reference_jobs(p, tiny_setting(), TUNED)
    table = sweep(jobs, Workers(count=1), "test")
    order = table[["size", "rule"]].drop_duplicates()
    assert list(order.itertuples(index=False, name=None)) == [(j.size, j.rule) for j in jobs]


def _runs(rule: str, size: str, runs: list[str], values: np.ndarray) -> pd.DataFrame:
    """A run table: values (runs, draws, seeds) of svm_n8 on moons, last view."""
    rows = []
    for r, run in enumerate(runs):
        for d in range(values.shape[1]):
            for s in range(values.shape[2]):
                row = dict(size=size, rule=rule, run=run, draw=d, target="moons", score="svm_n8")
                rows += [
                    {**row, "view": view, "seed_index": s, "value": values[r, d, s]}
                    for view in ("last", "concat")
                ]
    return pd.DataFrame(rows)


def test_the_family_is_paired_run_level_one_sided_and_holm_corrected():
    rng = np.random.default_rng(0)
    mine = 0.8 + 0.05 * rng.standard_normal((4, 2, 3))
    none, raw_input = 0.6 + 0.01 * rng.standard_normal((1, 2, 3)), np.full((1, 2, 3), 0.85)
    runs = pd.concat(
        [
            _runs("v@tasks", "m64k8", ["seed0", "seed1", "seed2", "seed3"], mine),
            _runs("none", "m64k8", [""], none),
            _runs(RAW, INPUT, [""], raw_input),
        ]
    )
    frame = capacity_family(runs, [8])
    assert len(frame) == 2 * 2  # views x (raw, none)
    last = frame[frame.view == "last"].set_index("against")
    d_none = (mine - none).mean(axis=(1, 2))
    assert last.loc["none", "mean_difference"] == pytest.approx(d_none.mean())
    p_none = stats.ttest_1samp(d_none, 0.0, alternative="greater").pvalue
    p_raw = stats.ttest_1samp((mine - raw_input).mean(axis=(1, 2)), 0.0, alternative="greater").pvalue
    assert last.loc["none", "p"] == pytest.approx(p_none) and last.loc["raw", "p"] == pytest.approx(p_raw)
    assert frame.p_holm.tolist() == pytest.approx(holm(frame.p.tolist()))
    assert bool(last.loc["none", "holds"]) and not bool(last.loc["raw", "holds"])
    text, _ = capacity_section(runs, [8], 10)
    assert "one family of 4 tests" in text
    assert "- `v@tasks` at m64k8, last: beats the raw input at 8 labels on 0 of 1 targets (none)" in text
    assert "| input | raw | moons | 0.850 | 0.850 |  |  |" in text
