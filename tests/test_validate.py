"""`python -m metahebb.validate`: every group and the cross-group checks, one line per problem."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys

import pytest
import yaml

from metahebb import validate
from metahebb.params import ParamError


def mutate(raw: dict, changes: dict) -> dict:
    """`changes` maps "group.key" (or a top-level name) to a value, or to DELETE."""
    out = copy.deepcopy(raw)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = out
        for p in parents:
            target = target[p]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return out


DELETE = object()

CASES = [
    # unknown and missing groups, malformed top level
    ({"extras": {"a": 1}}, "extras: unknown group; accepted groups are datasets, runtime"),
    ({"evaluate": DELETE}, "evaluate: missing group"),
    ({"datasets": "circles"}, "datasets='circles': expected a list of strings"),
    ({"kcap_rnn": [64, 8]}, "kcap_rnn: expected a mapping of keys, got list"),
    # keys YAML allows but no group has
    ({"data.1": 5}, "data.'1': unknown key"),
    ({"data.a\nb": 5}, "data.'a\\nb': unknown key"),
    # within a group
    ({"kcap_rnn.k": 64}, "kcap_rnn.k=64: must be < m=64"),
    ({"meta_train.lr": float("inf")}, "meta_train.lr=inf: expected a finite number"),
    ({"data.noise": float("nan")}, "data.noise=nan: expected a finite number"),
    ({"rules.seed": 2**40}, "rules.seed=1099511627776: accepted values are >= 0 and <= 4294967295"),
    ({"data.class_balance": 0.001}, "data.class_balance=0.001: leaves 1 and 999 points"),
    (
        {"train_hebbian.rules": ["hebb", "stdp"]},
        "train_hebbian.rules='stdp': accepted values are one of none",
    ),
    ({"meta_train.checkpoint_every": -1}, "meta_train.checkpoint_every=-1: accepted values are >= 0"),
    # datasets a later stage reads that make_data does not make
    ({"datasets": ["circles", "moons"]}, "meta_train.datasets='blobs': make_data does not make it"),
    ({"datasets": ["moons", "blobs"]}, "meta_train.datasets='circles': make_data does not make it"),
    (
        {"datasets": ["circles", "moons"], "meta_train.datasets": ["circles"]},
        "generalisation.sources='blobs': make_data does not make it",
    ),
    (
        {"datasets": ["circles", "moons"], "meta_train.datasets": ["circles"], "generalisation.sources": []},
        "generalisation.targets='blobs': make_data does not make it",
    ),
    (
        {"meta_train.datasets": ["circles"], "generalisation.sources": ["circles"]},
        "generalisation.leave_one_out=true: meta_train.datasets=['circles'] leaves nothing",
    ),
    (
        {"datasets": ["circles"], "meta_train.datasets": ["circles"], "generalisation.sources": []}
        | {"generalisation.targets": ["circles"]},
        "semi_supervised.readout_rule: 'meta' learns on the datasets other than",
    ),
    # rules a later stage reads that no stage trains
    ({"train_hebbian.rules": ["none", "hebb"], "semi_supervised.rule": "oja"}, "semi_supervised.rule='oja'"),
    ({"train_hebbian.rules": ["hebb", "oja"]}, "semi_supervised.baseline_rule='none': no rule of"),
    (
        {"meta_train.rules": ["learned_extended"], "semi_supervised.rule": "hebb"},
        "generalisation.rule='learned': meta_train does not train it",
    ),
    # label counts above the training split (100 points, 30 test: 70 training)
    (
        {"data.n_samples": 100},
        "evaluate.svm_labels: 128 labels requested but the training split of circles has 70",
    ),
    (
        {"data.n_samples": 100, "evaluate.svm_labels": [2, 64, "all"]},
        "semi_supervised.labels: 128 labels requested but the training split of circles has 70",
    ),
    (
        {"data.n_samples": 40, "evaluate.svm_labels": [2], "semi_supervised.labels": [2, 16]}
        | {"semi_supervised.curve_labels": 16},
        "generalisation.labels: 32 labels requested but the training split of circles has 28",
    ),
    (
        {"data.n_samples": 5000, "generalisation.labels": 2000},
        "generalisation.labels: 2000 labels requested but the training split of digits has 1258",
    ),
    ({"meta_compare.targets": ["circles", "spirals"]}, "meta_compare.targets='spirals'"),
    (
        {
            "meta_compare.variants": {"fixed": [], "gradient": ["table-gradient-labels_acc"], "es": []},
            "meta_compare.leave_one_out": {"fixed": [], "gradient": [], "es": []},
        },
        "has no gradient",
    ),
    (
        {"meta_train.objective_labels": 500, "meta_train.objective": "labels_ce"},
        "meta_train.objective_labels=500",
    ),
    ({"meta_train.datasets": ["circles"]}, "meta_compare.leave_one_out"),
    # what the report reads, found by running accepted params (tests/test_params_fuzz.py)
    ({"backprop.architectures": ["mlp"]}, "backprop.architectures=['mlp']: the report's claims compare"),
    ({"train_hebbian.rules": ["none", "oja"]}, "train_hebbian.rules=['none', 'oja']: the report's claims"),
    ({"generalisation.references": ["hebb"]}, "generalisation.references=['hebb']: the report's claims"),
    ({"generalisation.labels": 12}, "generalisation.labels=12: the report judges evaluate's SVM accuracy"),
    (
        {"meta_compare.leave_one_out": {"fixed": [], "gradient": [], "es": []}},
        "meta_compare.leave_one_out: every list is empty, but the report stage depends on",
    ),
    # the task distribution (issue 15)
    (
        {"tasks.variants": ["table-gradient-paper"]},
        "tasks.variants: 'table-gradient-paper'; accepted: <rule>-es-",
    ),
    ({"tasks.variants": ["hebb"]}, "tasks.variants: 'hebb'; accepted: <rule>-es-<objective>"),
    ({"tasks.families": ["mixture", "moons"]}, "tasks.families"),
    ({"tasks.n_samples": 30}, "tasks.n_samples=30: its validation part"),
    ({"tasks.nonlinear": 1.5}, "tasks.nonlinear"),
    ({"tasks.held_out_tasks": 0}, "tasks.held_out_tasks=0"),
    ({"tasks.held_out_seed": -1}, "tasks.held_out_seed=-1"),
    # the capacity sweep (issue 15)
    ({"capacity.k": [8, 8, 32]}, "capacity.k: 3 given for 4 m; accepted: one k per m"),
    ({"capacity.k": [8, 8, 32, 1024]}, "capacity.k=1024: must be < its m=1024"),
    (
        {"capacity.m": [64, 64, 256, 1024]},
        "capacity: (m, k) pairs [(64, 8), (64, 8), (256, 32), (1024, 128)] repeat",
    ),
    ({"capacity.m": [64, 256, 256, 8192]}, "capacity.m=8192: accepted values are >= 2 and <= 4096"),
    (
        {"capacity.references": ["oja-tuned"], "baselines.rules": ["hebb"]},
        "capacity.references: 'oja-tuned' is not tuned by the baselines stage",
    ),
    ({"capacity.m": [64, 256, 256, 4096]}, "capacity.m=[64, 256, 256, 4096]: accepted values are <= 2048"),
    ({"capacity.references": ["hebb"]}, "capacity.references"),
    ({"capacity.targets": []}, "capacity.targets"),
    (
        {"capacity.variants": ["table-es-ridge"]},
        "capacity.variants: 'table-es-ridge' is not meta-trained on tasks; accepted: entries of tasks.variants",
    ),
    # the schedule sweep (issue 15)
    (
        {"schedule.scaled": [False, True]},
        "schedule.scaled: 2 given for 3 batch_size; accepted: one per batch size",
    ),
    (
        {"schedule.batch_size": [32, 1, 1], "schedule.scaled": [False, True, True]},
        "schedule: (batch_size, scaled) pairs [(32, False), (1, True), (1, True)] repeat",
    ),
    ({"schedule.batch_size": [32, 0, 1]}, "schedule.batch_size"),
    ({"schedule.scaled": [False, 1, True]}, "schedule.scaled"),
    (
        {"schedule.scaled": [True, False, True]},
        "schedule.scaled: true at batch_size=32, train_hebbian.batch_size itself, scales by 1",
    ),
    (
        {"schedule.variants": ["table-es-ridge"]},
        "schedule.variants: 'table-es-ridge' is not meta-trained on tasks; accepted: entries of tasks.variants",
    ),
    (
        {"schedule.references": ["oja-tuned"], "baselines.rules": ["hebb"]},
        "schedule.references: 'oja-tuned' is not tuned by the baselines stage",
    ),
    ({"schedule.targets": []}, "schedule.targets"),
]


@pytest.mark.parametrize("changes, needle", CASES, ids=[next(iter(c)) for c, _ in CASES])
def test_each_bad_input_is_one_line_naming_the_key(raw, changes, needle):
    found = validate.problems(mutate(raw, changes))
    assert found, "accepted"
    assert any(needle in line for line in found), found  # one change may break several stages' params
    assert all("\n" not in line for line in found)
    with pytest.raises(ParamError):
        validate.check_raw(mutate(raw, changes))


def test_the_default_params_are_valid_with_and_without_the_data(raw):
    assert validate.problems(raw) == []
    assert validate.problems(raw, with_data=True) == []


def test_label_counts_are_checked_per_class_against_the_drawn_labels(raw):
    # 20% of 200 points in class 0: about 28 training points of that class, and 64 labels need 32
    bad = mutate(raw, {"data.n_samples": 200, "data.class_balance": 0.2, "evaluate.svm_labels": [2, 32, 64]})
    bad = mutate(bad, {"semi_supervised.labels": [2, 8], "semi_supervised.curve_labels": 8})
    assert validate.problems(bad) == []  # the total (140) fits; the class needs the labels
    (line,) = validate.problems(bad, with_data=True)
    assert line.startswith(
        "evaluate.svm_labels: 64 labels need 32 points per class but the training split of"
    )


def test_digits_labels_are_checked_per_class(raw):
    # digits has ~180 points per class, ~125 of them training points
    bad = mutate(raw, {"data.n_samples": 5000, "generalisation.labels": 500})  # 50 per class
    bad = mutate(bad, {"evaluate.svm_labels": [2, 500, 1200]})  # the report reads evaluate's at 500
    assert validate.problems(bad, with_data=True) == []
    bad = mutate(bad, {"generalisation.labels": 1200})  # 120 per class
    (line,) = validate.problems(bad, with_data=True)
    assert "120 points per class but the training split of digits has 115" in line


def _command(args: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "metahebb.validate", *args], cwd=cwd, capture_output=True, text=True
    )


def test_command_prints_valid_or_one_line_per_problem(raw, tmp_path):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    ok = _command([], tmp_path)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "params.yaml: valid\n", "")
    bad = {**raw, "extras": 1}
    bad = mutate(
        bad, {"kcap_rnn.k": 99, "meta_train.rules": ["learned_extended"], "semi_supervised.rule": "hebb"}
    )
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    result = _command(["bad.yaml"], tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: extras: unknown group; accepted groups are datasets, runtime, data, backprop, evaluate, "
        "kcap_rnn, stabilisers, rules, meta_train, es, train_hebbian, semi_supervised, generalisation, meta_compare, "
        "baselines, confirm, tasks, capacity, schedule",
        "error: kcap_rnn.k=99: must be < m=64 (and >= 1)",
        "error: generalisation.rule='learned': meta_train does not train it; accepted values are one of "
        "learned_extended",
        "error: meta_train.rules=['learned_extended']: the report's claims compare learned, "
        "learned_extended; add 'learned'",
    ]
    for text, expected in [
        ("a: [b\n", "not valid YAML"),
        ("- 1\n", "expected a mapping of parameter groups"),
    ]:
        (tmp_path / "broken.yaml").write_text(text)
        result = _command(["broken.yaml"], tmp_path)
        assert result.returncode == 1 and len(result.stderr.splitlines()) == 1 and expected in result.stderr
    missing = _command(["nope.yaml"], tmp_path)
    assert missing.returncode == 1 and "nope.yaml: file not found" in missing.stderr


def test_a_stage_refuses_a_cross_group_problem_before_writing(raw, repo, tmp_path):
    shutil.copytree(repo / "stages", tmp_path / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "params.yaml").write_text(
        yaml.safe_dump(
            mutate(raw, {"meta_train.rules": ["learned_extended"], "semi_supervised.rule": "hebb"})
        )
    )
    result = subprocess.run(
        [sys.executable, "stages/make_data.py", "circles"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: generalisation.rule='learned': meta_train does not train it")
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "data").exists()
