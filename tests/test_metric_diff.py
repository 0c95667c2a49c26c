"""The CI metric diff: params overrides, flattening, tolerances, flags and the Markdown table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from metahebb.ci_workspace import OVERRIDES, CIError, ci_params, merge_overrides, reproduce_together
from metahebb.metric_diff import (
    BASELINE,
    TOLERANCES,
    Tolerance,
    compare,
    flatten,
    load_metrics,
    load_tolerances,
    main,
    markdown,
    match,
)

TOLS = [
    Tolerance("*.std", "ignore", 0.0),
    Tolerance("evaluate/*/learned.json:last.svm_acc.n8.mean", "higher", 0.02),
    Tolerance("*emd.mean", "lower", 0.1),
    Tolerance("evaluate/*/raw.json:*", "any", 0.0),
]


def test_overrides_merge_key_by_key_and_replace_lists():
    params = {"data": {"n_samples": 1000, "noise": 0.08}, "backprop": {"seeds": [0, 1, 2]}, "datasets": ["a"]}
    merged = merge_overrides(params, {"data": {"n_samples": 120}, "backprop": {"seeds": [0]}})
    assert merged == {
        "data": {"n_samples": 120, "noise": 0.08},
        "backprop": {"seeds": [0]},
        "datasets": ["a"],
    }
    assert params["data"]["n_samples"] == 1000  # the input is untouched


def test_an_override_of_a_key_params_yaml_lacks_is_an_error():
    with pytest.raises(CIError, match=r"data\.n_sample is not a key of params.yaml"):
        merge_overrides({"data": {"n_samples": 1}}, {"data": {"n_sample": 2}})


def test_the_committed_overrides_fit_params_yaml(repo):
    params = ci_params(repo / "params.yaml", repo / OVERRIDES)
    assert (
        params["data"]["n_samples"] < yaml.safe_load((repo / "params.yaml").read_text())["data"]["n_samples"]
    )


def test_flatten_keys_every_number_by_its_dotted_path():
    value = {"last": {"emd": {"mean": 0.5}, "svm_acc": {"n8": {"mean": 0.75}}}, "seeds": [1, 2], "name": "x"}
    assert flatten(value) == {
        "last.emd.mean": 0.5,
        "last.svm_acc.n8.mean": 0.75,
        "seeds.0": 1.0,
        "seeds.1": 2.0,
    }


def test_the_first_matching_tolerance_wins_and_unmatched_metrics_are_ignored():
    assert match(TOLS, "evaluate/moons/learned.json", "last.emd.std").better == "ignore"
    assert match(TOLS, "evaluate/moons/learned.json", "last.svm_acc.n8.mean").limit == 0.02
    assert match(TOLS, "evaluate/moons/learned.json", "last.svm_acc.n2.mean").better == "ignore"


@pytest.mark.parametrize(
    "file, key, old, new, flag",
    [
        ("evaluate/c/learned.json", "last.svm_acc.n8.mean", 0.80, 0.79, ""),  # within tolerance
        ("evaluate/c/learned.json", "last.svm_acc.n8.mean", 0.80, 0.77, "worse"),
        ("evaluate/c/learned.json", "last.svm_acc.n8.mean", 0.80, 0.95, ""),  # better is never flagged
        ("evaluate/c/learned.json", "last.emd.mean", 0.50, 0.65, "worse"),  # lower is better
        ("evaluate/c/learned.json", "last.emd.mean", 0.50, 0.20, ""),
        ("evaluate/c/raw.json", "x.svm_acc.n8.mean", 0.80, 0.81, "worse"),  # either direction
        ("evaluate/c/learned.json", "last.emd.std", 0.1, 9.0, ""),
        ("evaluate/c/learned.json", "last.emd.mean", 0.5, None, "missing"),
        ("evaluate/c/learned.json", "last.emd.mean", None, 0.5, ""),  # new metric
    ],
)
def test_flags_only_moves_beyond_tolerance_in_the_bad_direction(file, key, old, new, flag):
    before = {file: {key: old}} if old is not None else {file: {}}
    after = {file: {key: new}} if new is not None else {file: {}}
    (row,) = compare(before, after, TOLS)
    assert row.flag == flag


def test_markdown_lists_changed_metrics_flagged_first():
    old = {
        "evaluate/c/learned.json": {"last.svm_acc.n8.mean": 0.8, "last.emd.mean": 0.5, "last.emd.std": 0.1}
    }
    new = {
        "evaluate/c/learned.json": {"last.svm_acc.n8.mean": 0.7, "last.emd.mean": 0.4, "last.emd.std": 0.1}
    }
    table = markdown(compare(old, new, TOLS)).splitlines()
    assert table[0] == "| path | metric | old | new | change | tolerance | flag |"
    assert table[2].startswith(
        "| evaluate/c/learned.json | last.svm_acc.n8.mean | 0.8 | 0.7 | -0.1 | ≥ -0.02 |"
    )
    assert table[2].endswith("| **worse** |") and "last.emd.mean" in table[3] and len(table) == 6
    assert "No metric changed" in markdown(compare(old, old, TOLS))


def _write(root: Path, file: str, value: dict) -> None:
    (root / file).parent.mkdir(parents=True, exist_ok=True)
    (root / file).write_text(json.dumps(value))


def test_compare_command_exits_non_zero_with_a_clear_message_on_a_degradation(tmp_path, capsys):
    tolerances = tmp_path / "tolerances.yaml"
    entries = [{"pattern": t.pattern, "better": t.better, "tolerance": t.limit} for t in TOLS]
    tolerances.write_text(yaml.safe_dump({"rules": entries}))
    _write(tmp_path / "old", "evaluate/c/learned.json", {"last": {"svm_acc": {"n8": {"mean": 0.8}}}})
    _write(tmp_path / "new", "evaluate/c/learned.json", {"last": {"svm_acc": {"n8": {"mean": 0.7}}}})
    args = ["--tolerances", str(tolerances), "compare", str(tmp_path / "old"), str(tmp_path / "new")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("FAILED: 1 metric(s) degraded")
        and "evaluate/c/learned.json:last.svm_acc.n8.mean" in err
    )
    assert main([*args[:3], str(tmp_path / "old"), str(tmp_path / "old")]) == 0


def test_a_bad_tolerance_entry_is_one_line(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({"rules": [{"pattern": "*", "better": "up", "tolerance": 0.1}]}))
    with pytest.raises(CIError, match=r"rules\[0\] \(\*\): better must be one of higher, lower, any, ignore"):
        load_tolerances(path)


def test_every_committed_tolerance_matches_a_baseline_metric(repo):
    tolerances = load_tolerances(repo / TOLERANCES)
    metrics = load_metrics(repo / BASELINE)
    names = [f"{file}:{key}" for file, flat in metrics.items() for key in flat]
    assert "evaluate/circles/learned.json:last.svm_acc.n8.mean" in names
    unused = [t.pattern for t in tolerances if not any(match([t], *n.split(":", 1)) is t for n in names)]
    assert not unused, f"{TOLERANCES}: tolerances that match no metric of {BASELINE}: {unused}"


def test_side_by_side_runs_wait_for_every_run_and_name_the_one_that_failed(tmp_path):
    good = tmp_path / "good"
    bad = tmp_path / "bad"  # not a git + DVC repository: `dvc repro` fails there
    for workspace in (good, bad):
        workspace.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=good, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=good, check=True)
    (good / "dvc.yaml").write_text("stages:\n  hello:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n")
    with pytest.raises(CIError, match=r"dvc repro failed in .*bad \(full log: .*bad\.log\)"):
        reproduce_together([good, bad])
    assert (good / "out.txt").read_text().strip() == "hi"  # the other run was waited for, not killed
    assert (tmp_path / "good.log").exists() and (tmp_path / "bad.log").exists()
