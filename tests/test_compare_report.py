"""The comparison table and the issue's target lines are computed from metrics, never hand-written."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from tiny import META

from metahebb.compare_report import (
    beats_fixed,
    comparison_markdown,
    default_variant,
    leave_one_out_markdown,
    table_markdown,
    targets_markdown,
)
from metahebb.report import MissingMetricError

DATASETS = ["circles", "moons", "blobs"]
LABELS = [8, 32]


def _s(mean: float, ci95: float = 0.01) -> dict:
    return {"mean": mean, "std": ci95, "ci95": ci95, "run_min": mean - 0.01, "run_max": mean + 0.01}


def _cells(acc: dict[str, float]) -> dict:
    return {
        t: {"svm_n8": _s(a - 0.1), "svm_n32": _s(a), "emd": _s(0.5), "codes": _s(40.0)}
        for t, a in acc.items()
    }


def _results() -> dict:
    base = {"circles": 0.6, "moons": 0.7, "blobs": 0.7, "digits": 0.3}
    return {
        "none": {"meta_runs": 0, "targets": _cells({t: a - 0.05 for t, a in base.items()})},
        "hebb": {"meta_runs": 0, "targets": _cells(base)},
        # beats both on moons and blobs by far more than the intervals, not on circles
        "table-es-labels_ce": {
            "meta_runs": 3,
            "targets": _cells({"circles": 0.6, "moons": 0.92, "blobs": 0.95, "digits": 0.5}),
            "leave_one_out": _cells({"circles": 0.55, "moons": 0.85, "blobs": 0.9}),
        },
        "table-gradient-paper": {"meta_runs": 3, "targets": _cells(base)},
    }


BACKPROP = {t: {"n8": _s(0.9), "n32": _s(0.96)} for t in DATASETS}


def test_beats_fixed_needs_every_label_count_and_both_references():
    results = _results()
    assert beats_fixed(results, "table-es-labels_ce", "moons", LABELS)
    assert not beats_fixed(results, "table-es-labels_ce", "circles", LABELS)
    assert not beats_fixed(results, "table-gradient-paper", "moons", LABELS)  # equal to hebb is no win
    assert beats_fixed(results, "table-es-labels_ce", "blobs", LABELS, "leave_one_out")


def test_target_lines_say_plainly_what_was_met():
    lines = targets_markdown(_results(), BACKPROP, DATASETS, LABELS)
    assert (
        lines[0].startswith("- Main target") and "**met** by `table-es-labels_ce` (moons, blobs)" in lines[0]
    )
    assert "Stretch target" in lines[1] and "**met** by `table-es-labels_ce` (moons, blobs)" in lines[1]
    # held out: digits beaten; without each dataset it still wins where it won (moons, blobs)
    assert "digits beats" in lines[2] and "2 of 3 datasets (moons, blobs)" in lines[2]
    assert lines[2].endswith("(the issue's test): **yes**.")


def test_a_win_lost_without_the_dataset_fails_the_held_out_test():
    results = _results()
    results["table-es-labels_ce"]["leave_one_out"]["moons"] = _cells({"moons": 0.7})["moons"]  # = hebb
    lines = targets_markdown(results, BACKPROP, DATASETS, LABELS)
    assert "loses its win on moons" in lines[2] and lines[2].endswith("**no**.")


def test_main_target_not_met_is_said():
    results = _results()
    results.pop("table-es-labels_ce")
    lines = targets_markdown(results, BACKPROP, DATASETS, LABELS)
    assert "**not met**" in lines[0] and "**not met**" in lines[1] and len(lines) == 2


def test_table_has_a_line_per_target_and_variant_plus_backprop():
    results = _results()
    timing = {v: {"meta_train_seconds": _s(12.0)} for v in results}
    text = table_markdown(results, timing, BACKPROP, ["circles", "digits"], LABELS)
    rows = [line for line in text.splitlines()[2:]]
    assert len(rows) == 2 * len(results) + 1  # backprop only where it was trained (not digits)
    assert "| circles | backprop RNN | 0.900 ± 0.010 | 0.960 ± 0.010 |" in text
    assert "| digits | none |" in text and "| 12 |" in text
    loo = leave_one_out_markdown(results, LABELS)
    assert "| table-es-labels_ce | moons |" in loo and loo.count("| yes |") == 2


def test_missing_metric_fails_loudly():
    results = _results()
    del results["hebb"]["targets"]["moons"]["svm_n32"]
    with pytest.raises(MissingMetricError, match="hebb/targets/moons/svm_n32"):
        targets_markdown(results, BACKPROP, DATASETS, LABELS)


def test_default_is_kept_unless_a_variant_beats_it():
    results = _results()
    lines = targets_markdown(results, BACKPROP, DATASETS, LABELS, default="table-gradient-paper")
    assert lines[-1] == (
        "- Against the pipeline's own rule (`table-gradient-paper`): beaten at every label count on at least "
        "two datasets by `table-es-labels_ce`."
    )
    lines = targets_markdown(results, BACKPROP, DATASETS, LABELS, default="table-es-labels_ce")
    assert "so it stays the default" in lines[-1]


def test_comparison_section_adds_leave_one_out_and_the_drawn_rules_where_there_are_any():
    params = SimpleNamespace(
        targets=["moons", "blobs", "circles"], labels=LABELS
    )  # datasets keep their order
    text = comparison_markdown(_results(), BACKPROP, DATASETS, params, table_figure=True)
    assert text.startswith("\n".join(targets_markdown(_results(), BACKPROP, DATASETS, LABELS)) + "\n")
    assert "| table-es-labels_ce | moons |" in text and text.endswith(
        "\n![table rules](report/table_rules.png)"
    )
    results = _results()
    del results["table-es-labels_ce"]["leave_one_out"]
    plain = comparison_markdown(results, BACKPROP, DATASETS, params)
    assert "Leave-one-dataset-out" not in plain and "table_rules" not in plain


def test_the_default_variant_is_the_first_meta_trained_rule_as_configured():
    meta = dataclasses.replace(META, rules=["table", "learned"], optimizer="es", objective="ridge")
    assert default_variant(meta) == "table-es-ridge"
