"""One changed param reruns exactly the stages that read it (`dvc status` of the CI-sized run).

Too wide a `params:` list reruns hours of meta-training for nothing (editing `evaluate.svm_labels`
used to invalidate every meta_compare stage); too narrow a list leaves stale results. `report`
tracks the whole params.yaml (it quotes every value), so it is stale after any edit.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from metahebb.params import read_params

# (key, new value, prefixes of the stages it must invalidate; every other stage must stay clean)
CASES = [
    ("evaluate.svm_labels", [2, 8], ("evaluate_", "figures", "report")),
    ("meta_train.checkpoint_every", 7, ("report",)),
    ("runtime.workers", 3, ("report",)),
    ("runtime.threads", 2, ("report",)),
    (
        "es.generations",
        3,
        # baselines: the budget of its ES ablation is one ES meta-training's
        (
            "meta_train@",
            "generalisation",
            "meta_compare_es@",
            "meta_compare_loo_es@",
            "baselines",
            "meta_tasks@",
            "report",
        ),  # fmt: skip
    ),
    (
        "meta_train.lr",
        0.01,
        ("meta_train@", "generalisation", "meta_compare_gradient@", "meta_compare_loo_gradient@", "report"),
    ),
    (
        "evaluate.svm_c",
        2.0,
        (
            "evaluate_",
            "figures",
            "generalisation",
            "semi_supervised",
            "meta_compare_",
            "baselines",
            "confirm",
            "meta_tasks@",
            "task_validation@",
            "capacity",
            "schedule",
            "report",
        ),
    ),
    (
        "meta_compare.meta_seeds",
        [0],
        ("meta_compare_gradient@", "meta_compare_es@", "meta_compare_loo_", "meta_tasks@", "report"),
    ),
    (
        "data.noise",
        0.1,
        ("make_data@", "confirm", "meta_tasks@", "capacity", "schedule", "report"),
    ),  # they draw in memory
    ("baselines.lrs", [0.02], ("baselines", "report")),
    ("confirm.data_seeds", [102], ("confirm", "meta_tasks@", "capacity", "schedule", "report")),
    (
        "tasks.noise",
        0.3,
        ("meta_tasks@", "task_validation@", "report"),
    ),  # the distribution reruns nothing else
    ("tasks.held_out_tasks", 3, ("task_validation@", "report")),  # held-out tasks rerun no meta-training
    ("capacity.m", [16, 48], ("capacity", "report")),  # a code size reruns no meta-training
    ("schedule.batch_size", [32, 4], ("schedule", "report")),  # nor does a schedule
]


def _status(workdir) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "--json"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout))


def _stages(workdir) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-m", "dvc", "stage", "list", "--name-only"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


@pytest.mark.slow
def test_one_param_reruns_exactly_its_readers(ci_workspace):
    workdir = ci_workspace
    original = (workdir / "params.yaml").read_text()
    stages = _stages(workdir)
    assert any(s.startswith("meta_compare_fixed@") for s in stages)  # the case list covers every group
    assert not _status(workdir), "the CI-sized run must be up to date before the edits"
    try:
        for key, value, prefixes in CASES:
            params = read_params(workdir / "params.yaml")
            group, name = key.split(".")
            assert name in params[group], key
            params[group][name] = value
            (workdir / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            expected = {s for s in stages if s.startswith(prefixes)}
            stale = _status(workdir)
            assert stale == expected, (
                f"{key}: also {sorted(stale - expected)}; not {sorted(expected - stale)}"
            )
            (workdir / "params.yaml").write_text(original)
    finally:
        (workdir / "params.yaml").write_text(original)


@pytest.mark.slow
def test_a_new_variant_reruns_no_other_variant(ci_workspace):
    """`tasks.variants`, `capacity.variants` and `schedule.variants` are foreach lists that no stage
    tracks as a param."""
    workdir = ci_workspace
    original = (workdir / "params.yaml").read_text()
    params = read_params(workdir / "params.yaml")
    params["tasks"]["variants"].append("table-es-ridge")
    params["capacity"]["variants"].append("table-es-ridge")
    params["schedule"]["variants"].append("table-es-ridge")
    try:
        (workdir / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        stale = _status(workdir)
    finally:
        (workdir / "params.yaml").write_text(original)
    assert stale == {
        "meta_tasks@table-es-ridge",
        "task_validation@table-es-ridge",
        "capacity@table-es-ridge",
        "schedule@table-es-ridge",
        "report",
    }
