"""Run-level tests: the arithmetic against scipy on fixed inputs, the pairing, Holm, the section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from metahebb.inference import Comparison, family, holm, paired_differences, run_scores
from metahebb.inference_report import Evidence, beats_tests, run_level_section, within_tests


def test_holm_matches_the_step_down_definition_on_fixed_inputs():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == [1.0, 1.0]  # capped at 1, and never below an earlier step
    assert holm([0.2]) == [0.2]


def test_the_t_test_and_interval_are_scipys():
    d = np.array([0.04, 0.01, 0.07])
    t = Comparison("v", "moons", "svm_n8", "hebb", d)
    expected = stats.ttest_1samp(d, 0.0, alternative="greater")
    assert t.p == pytest.approx(expected.pvalue)
    low, high = stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
    assert t.interval == pytest.approx((low, high))
    within = Comparison("v", "moons", "svm_n32", "backprop RNN", d - 0.08, margin=0.05)
    assert within.p == pytest.approx(stats.ttest_1samp(d - 0.08 + 0.05, 0.0, alternative="greater").pvalue)


def test_no_spread_over_runs_shows_nothing():
    assert Comparison("v", "m", "s", "r", np.array([0.1, 0.1, 0.1])).p == 1.0
    assert Comparison("v", "m", "s", "r", np.array([0.1])).p == 1.0


def test_differences_are_paired_on_network_seeds():
    variant = np.array([[0.7, 0.9], [0.6, 0.8]])  # (runs, seeds)
    reference = np.array([0.5, 0.9])  # the same seeds' networks of a fixed rule
    assert paired_differences(variant, reference) == pytest.approx([0.1, 0.0])
    assert paired_differences(variant, 0.5) == pytest.approx([0.3, 0.2])


def table(runs: dict[str, list[list[float]]], target: str = "moons") -> pd.DataFrame:
    rows = [
        (run, target, view, score, s, value)
        for run, values in runs.items()
        for view in ("last", "concat")
        for score in ("svm_n8", "svm_n32")
        for s, value in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["run", "target", "view", "score", "seed_index", "value"])


def test_run_scores_reads_runs_by_seeds():
    frame = table({"seed0": [0.7, 0.8], "seed1": [0.6, 0.9]})
    np.testing.assert_array_equal(run_scores(frame, "moons", "svm_n8"), [[0.7, 0.8], [0.6, 0.9]])


def test_tost_is_the_larger_of_scipys_two_one_sided_tests():
    d = np.array([-0.02, 0.01, -0.005, 0.0])
    t = Comparison("v", "moons", "svm_n32", "backprop RNN", d, margin=0.05)
    lower = stats.ttest_1samp(d + 0.05, 0.0, alternative="greater").pvalue
    upper = stats.ttest_1samp(d - 0.05, 0.0, alternative="less").pvalue
    assert t.p_noninferior == pytest.approx(lower)
    assert t.p == pytest.approx(max(lower, upper))
    far_above = Comparison("v", "moons", "svm_n32", "backprop RNN", d + 0.2, margin=0.05)
    assert far_above.p_noninferior < 0.01 and far_above.p > 0.99  # better by far is not "within"


def test_confirmatory_tables_pair_on_draws_and_seeds():
    rows = [
        (run, d, "moons", "last", "svm_n8", s, v)
        for run, values in {"seed0": [0.7, 0.8, 0.6, 0.9], "seed1": [0.5, 0.6, 0.7, 0.8]}.items()
        for (d, s), v in zip([(0, 0), (0, 1), (1, 0), (1, 1)], values, strict=True)
    ]
    frame = pd.DataFrame(rows, columns=["run", "draw", "target", "view", "score", "seed_index", "value"])
    np.testing.assert_array_equal(
        run_scores(frame, "moons", "svm_n8"), [[0.7, 0.8, 0.6, 0.9], [0.5, 0.6, 0.7, 0.8]]
    )


def evidence(variants: dict, references: dict, backprop=None) -> Evidence:
    return Evidence(variants, references, backprop, [8, 32])


def test_family_is_corrected_as_a_whole_and_the_section_prints_it():
    good = table({"seed0": [0.95, 0.96], "seed1": [0.93, 0.97], "seed2": [0.94, 0.95]})
    refs = {"hebb-tuned": table({"hebb": [0.80, 0.82]}), "raw": table({"raw": [0.85, 0.85]})}
    backprop = table({"mean": [0.97]})
    ev = evidence({"good": {"moons": good}}, refs, backprop)
    frame = family(beats_tests(ev, "last"))
    assert len(frame) == 4 and frame.p_holm.tolist() == pytest.approx(holm(frame.p.tolist()))
    assert frame.holds.all()  # ~14 points over hebb and ~10 over the raw input in every run
    within = family(within_tests(ev, ["moons"]))
    assert within.mean_difference.iloc[0] == pytest.approx(np.mean([0.955, 0.95, 0.945]) - 0.97)
    assert within.holds.iloc[0]  # -1.7 points, tightly: within 5 both ways
    text, every = run_level_section(ev, ev, ["moons"], ["- `good`: 0 labels."])
    assert (
        "family of 4 tests" in text
        and "`good` beats every reference at every label count on 1 of its 1" in text
    )
    assert "#### Confirmatory" in text and "#### Exploratory" in text and "- `good`: 0 labels." in text
    assert set(every.claim) == {"beats", "within"} and set(every.view) == {"last", "concat"}
    assert set(every.draw) == {"confirmatory", "development"}
    assert np.isfinite(every.select_dtypes("number").to_numpy(dtype=float)).all()


def test_an_empty_family_gives_a_line_not_a_traceback():
    text, every = run_level_section(evidence({}, {}), None, ["moons"], [])
    assert "nothing to test" in text and every.empty
