"""End to end: the real pipeline with tiny params in a temporary git + DVC repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from metahebb.ci_workspace import OVERRIDES, ci_params
from metahebb.claims import CLAIMS
from metahebb.params import read_params


def tiny_params(repo: Path) -> dict:
    """params.yaml with the CI-sized overrides merged in (the same params CI runs)."""
    return ci_params(repo / "params.yaml", repo / OVERRIDES)


def _env() -> dict:
    env = dict(
        os.environ, DVC_NO_ANALYTICS="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t"
    )
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `python` in dvc.yaml is ours
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True)


def _ok(args: list[str], cwd: Path) -> str:
    result = _run(args, cwd)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture
def workdir(repo, tmp_path) -> Path:
    for name in ("dvc.yaml", ".dvcignore", ".gitignore"):
        shutil.copy(repo / name, tmp_path / name)
    for name in ("stages", "src"):
        shutil.copytree(
            repo / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
        )
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params(repo), sort_keys=False))
    return tmp_path


def dvc(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


@pytest.mark.slow
def test_tiny_pipeline_runs_and_is_up_to_date(ci_workspace):
    workdir = ci_workspace  # `dvc repro` of the CI-sized params in a clean git + DVC copy (conftest)
    params = read_params(workdir / "params.yaml")
    rules = params["train_hebbian"]["rules"] + params["meta_train"]["rules"]
    for ds in params["datasets"]:
        for model in ["raw", "true", *params["backprop"]["architectures"], *rules]:
            scores = json.loads((workdir / f"metrics/evaluate/{ds}/{model}.json").read_text())
            for view in scores.values():
                assert 0.0 <= view["emd"]["mean"] < 10.0 and 0.0 <= view["emd_scale"]["mean"] < 10.0
                assert all(
                    0.0 <= view["neighbourhood"][k]["mean"] <= 1.0 for k in ("trustworthiness", "continuity")
                )
                assert set(view["svm_acc"]) == {"n2", "n8", "nall"}
                assert all(0.0 <= v["mean"] <= 1.0 for v in view["svm_acc"].values())
        for arch in params["backprop"]["architectures"]:
            train = json.loads((workdir / f"metrics/train/{ds}/{arch}.json").read_text())
            assert set(train["plateau"]) == {"0", "1"}
        for rule in rules:
            train = json.loads((workdir / f"metrics/train/{ds}/{rule}.json").read_text())
            assert set(train["seeds"]) == {"0", "1"} and 0 <= train["collapsed_runs"] <= 2
            assert 1 <= train["distinct_codes_last"] <= 36  # at most the test points of 120
    for rule in params["meta_train"]["rules"]:
        meta = json.loads((workdir / f"metrics/meta_train/{rule}.json").read_text())
        assert all(isinstance(v, int | float) for v in meta.values())
    assert (workdir / "reports/results.md").read_text().startswith("# Results")
    for figure in (
        "backprop_latents",
        "backprop_svm_accuracy",
        "hebbian_latents",
        "meta_loss",
        "rule_tables",
    ):
        assert (workdir / f"reports/figures/{figure}.png").stat().st_size > 10_000
    assert "k-cap RNNs trained by a frozen rule" in (workdir / "reports/results.md").read_text()
    for ds in params["datasets"]:
        semi = json.loads((workdir / f"metrics/semi_supervised/{ds}.json").read_text())
        assert 0.0 <= semi["readout_reuse"]["n8"]["mean"] <= 1.0 and "mlp_raw" in semi
    matrix = json.loads((workdir / "metrics/generalisation/matrix.json").read_text())
    assert {"circles", "all", "all_but_circles", "none", "hebb"} <= set(matrix)
    assert "emd" not in matrix["circles"]["digits"] and "emd" in matrix["circles"]["moons"]
    compare = params["meta_compare"]
    for variant in [v for names in compare["variants"].values() for v in names]:
        scores = json.loads((workdir / f"metrics/meta_compare/{variant}.json").read_text())
        assert set(scores["targets"]) == set(compare["targets"])
        for target, cell in scores["targets"].items():
            assert {f"svm_n{n}" for n in compare["labels"]} | {"codes"} <= set(cell)
            assert all(0.0 <= cell[f"svm_n{n}"]["mean"] <= 1.0 for n in compare["labels"])
            assert ("emd" in cell) == (target != "digits")
        timing = json.loads((workdir / f"metrics/meta_compare/timing/{variant}.json").read_text())
        assert timing["meta_train_seconds"]["mean"] >= 0.0
    for variant in [v for names in compare["leave_one_out"].values() for v in names]:
        held = json.loads((workdir / f"metrics/meta_compare_loo/{variant}.json").read_text())["leave_one_out"]
        assert set(held) == set(params["meta_train"]["datasets"]) & set(compare["targets"])
        assert all(
            0.0 <= cell[f"svm_n{n}"]["mean"] <= 1.0 for cell in held.values() for n in compare["labels"]
        )
    baselines = json.loads((workdir / "metrics/baselines.json").read_text())
    tuned = {*(f"{r}-tuned" for r in params["baselines"]["rules"])}
    assert set(baselines) == {*tuned, "hebb-es", "none-static", "raw"}
    assert set(baselines["hebb-tuned"]["chosen"]) == set(baselines["hebb-es"]["chosen"]) == {"last", "concat"}
    assert len(baselines["hebb-es"]["chosen"]["last"]["gains"]) == 3
    confirm = json.loads((workdir / "metrics/confirm.json").read_text())
    assert {"backprop-rnn", "raw", *(f"loo/{v}" for v in compare["leave_one_out"]["es"])} <= set(confirm)
    draws = len(params["confirm"]["data_seeds"])
    assert all(len(s["draws"]) == draws for s in confirm["raw"]["last"]["circles"].values())
    for variant in params["tasks"]["variants"]:
        tasks = json.loads((workdir / f"metrics/meta_tasks/{variant}.json").read_text())
        assert tasks["meta_runs"] == len(compare["meta_seeds"]) and tasks["labels_seen_per_run"] > 0
        assert set(tasks["targets"]) == set(compare["targets"])  # judged on every target
        assert all(
            0.0 <= c[f"svm_n{n}"]["mean"] <= 1.0 for c in tasks["targets"].values() for n in compare["labels"]
        )
        assert (workdir / f"data/meta_tasks/{variant}.pt").exists()
    capacity = params["capacity"]
    sizes = [f"m{m}k{k}" for m, k in zip(capacity["m"], capacity["k"], strict=True)]
    assert list(json.loads((workdir / "metrics/capacity/references.json").read_text())) == [*sizes, "input"]
    # at kcap_rnn's own size the sweep gives meta_tasks' confirmatory rows exactly
    own = f"m{params['kcap_rnn']['m']}k{params['kcap_rnn']['k']}"
    assert own in sizes
    for variant in capacity["variants"]:
        assert list(json.loads((workdir / f"metrics/capacity/{variant}.json").read_text())) == sizes
        swept = pd.read_csv(workdir / f"metrics/capacity/runs/{variant}.csv")
        mine = swept[swept["size"] == own].drop(columns=["size", "rule"])
        theirs = pd.read_csv(workdir / f"metrics/meta_tasks/confirm/{variant}.csv")
        theirs = theirs[theirs.target.isin(capacity["targets"])]
        assert len(mine) > 0 and mine.reset_index(drop=True).equals(theirs.reset_index(drop=True))
    schedule = params["schedule"]
    modes = [
        f"b{b}" + ("-scaled" if s else "")
        for b, s in zip(schedule["batch_size"], schedule["scaled"], strict=True)
    ]
    assert list(json.loads((workdir / "metrics/schedule/references.json").read_text())) == [*modes, "input"]
    # in the schedule the rules were meta-trained for, the sweep gives meta_tasks' confirmatory rows exactly
    own = f"b{params['train_hebbian']['batch_size']}"
    assert own in modes
    for variant in schedule["variants"]:
        swept = pd.read_csv(workdir / f"metrics/schedule/runs/{variant}.csv")
        assert list(dict.fromkeys(swept["mode"])) == modes
        mine = swept[swept["mode"] == own].drop(columns=["mode", "rule"])
        theirs = pd.read_csv(workdir / f"metrics/meta_tasks/confirm/{variant}.csv")
        theirs = theirs[theirs.target.isin(schedule["targets"])]
        assert len(mine) > 0 and mine.reset_index(drop=True).equals(theirs.reset_index(drop=True))
        per_sample = swept[swept["mode"] != own]
        assert not per_sample.value.reset_index(drop=True).equals(mine.value.reset_index(drop=True))
    report = (workdir / "reports/report.md").read_text()
    assert "### Capacity" in report and "beats the raw input at" in report
    assert "### Schedule" in report and "at b1-scaled, last: beats the raw input" in report
    assert "### Rule families meta-trained on generated tasks" in report and "![tasks rules]" in report
    assert "### Issue 15's targets" in report and "| - circles |" in report
    assert "### Held-out generated tasks" in report
    for variant in params["tasks"]["variants"]:
        held_out = pd.read_csv(workdir / f"metrics/task_validation/runs/{variant}.csv")
        assert list(dict.fromkeys(held_out.rule)) == [f"{variant}@tasks", "start", "raw"]
        assert held_out.draw.nunique() == params["tasks"]["held_out_tasks"]
    assert all(f"| {v}@tasks | digits |" in report for v in params["tasks"]["variants"])
    assert "#### Confirmatory" in report and "labelled validation points" in report
    assert report.count("| **") == len(CLAIMS) and "## Parameters" in report  # one verdict per claim
    assert "- Main target" in report and "| circles | table-es-labels_ce |" in report
    for figure in ("semi_supervised", "generalisation", "table_rules", "tasks_rules"):
        assert (workdir / f"reports/report/{figure}.png").stat().st_size > 10_000
    assert "up to date" in _ok(dvc("status"), workdir)

    # a param invalidates exactly the stages that read it (the shared workspace is put back after)
    original = (workdir / "params.yaml").read_text()
    params["evaluate"]["svm_c"] = 2.0
    (workdir / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        stale = set(json.loads(_ok(dvc("status", "--json"), workdir)))
    finally:
        (workdir / "params.yaml").write_text(original)
    # the SVM's C is read by evaluate and by the stages that fit the same SVM as a reference
    readers = (
        "evaluate_",
        "figures",
        "generalisation",
        "semi_supervised",
        "meta_compare",
        "baselines",
        "confirm",
        "meta_tasks",
        "task_validation",
        "capacity",
        "schedule",
    )
    readers += ("report",)
    assert any(s.startswith("evaluate_") for s in stale) and all(s.startswith(readers) for s in stale), stale


@pytest.mark.parametrize(
    "group, key, value, expected",
    [
        ("data", "noise", -1.0, "error: data.noise=-1.0: accepted values are >= 0.0"),
        ("data", "ambient_dim", 1, "error: data.ambient_dim=1: accepted values are >= 2"),
        ("data", "missing", None, "error: data.missing: unknown key"),
    ],
)
def test_bad_params_stop_a_stage_with_one_line_and_no_output(workdir, group, key, value, expected):
    params = read_params(workdir / "params.yaml")
    params[group][key] = value
    (workdir / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = _run([sys.executable, "stages/make_data.py", "circles"], workdir)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(expected) and len(result.stderr.strip().splitlines()) == 1
    assert not (workdir / "data").exists()


def test_unknown_dataset_argument_is_one_line(workdir):
    result = _run([sys.executable, "stages/make_data.py", "spirals"], workdir)
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "error: dataset='spirals': accepted values are one of circles, moons, blobs"
    )
