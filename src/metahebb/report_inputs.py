"""What `reports/report.md` is made of, read from the pipeline's outputs: metrics, the drawn rules,
the revision that produced them. Every path here is a DVC output the report stage lists as a dep.
"""

from __future__ import annotations

import subprocess
from importlib.metadata import version

import numpy as np
import pandas as pd

from metahebb.artifact_schemas import EVALUATE_KEYS, split_sizes
from metahebb.artifacts import load_arrays, load_json, load_table, load_theta
from metahebb.claims import Metrics
from metahebb.latents import load_latents
from metahebb.params import (
    CompareParams,
    GeneralisationParams,
    RuleParams,
    SemiSupervisedParams,
    parse_variant,
)
from metahebb.rules import MATRICES, make_rule
from metahebb.task_study import TASKS


def revision() -> str:
    """The git commit the run started from (marked when the working tree differed), and tool versions."""
    tools = f"DVC {version('dvc')}, torch {version('torch')}"
    git = ["git", "-c", "core.quotepath=off"]
    try:
        sha = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError):
        return f"no git revision; {tools}"
    changed = " + uncommitted changes" if dirty.stdout.strip() else ""
    return f"git {sha.stdout.strip()}{changed}; {tools}"


def load_metrics(
    datasets: list[str], models: list[str], semi: SemiSupervisedParams, general: GeneralisationParams
) -> Metrics:
    """Every metric the claims are judged on; `models` starts with `raw` and `true`, which train nothing."""
    return Metrics(
        datasets=datasets,
        evaluate={
            m: {ds: load_json(f"metrics/evaluate/{ds}/{m}.json", EVALUATE_KEYS) for ds in datasets}
            for m in models
        },
        train={m: {ds: load_json(f"metrics/train/{ds}/{m}.json") for ds in datasets} for m in models[2:]},
        semi={ds: load_json(f"metrics/semi_supervised/{ds}.json") for ds in datasets},
        matrix=load_json(
            "metrics/generalisation/matrix.json", tuple(f"*.{t}.svm_acc.mean" for t in general.targets)
        ),
        labels=general.labels,
        semi_labels=semi.labels,
        sources=general.sources,
    )


def load_semi_supervised(
    datasets: list[str], rule: str
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Figure 4's inputs per dataset: `rule`'s test codes (first seed), test labels, epochs, accuracy."""
    data = {ds: load_arrays(f"data/datasets/{ds}.npz", required=("y", "is_test")) for ds in datasets}
    codes = {
        ds: load_latents(f"data/latents/{ds}/{rule}.npz", split_sizes(data[ds]), ("last",))[0]["last"][1][0]
        for ds in datasets
    }
    labels = {ds: d["y"][d["is_test"]] for ds, d in data.items()}
    epochs = {ds: load_table(f"metrics/semi_supervised/{ds}_epochs.csv", ("epoch",)) for ds in datasets}
    accuracy = {
        ds: load_table(f"metrics/semi_supervised/{ds}_accuracy.csv", ("n_labels",)) for ds in datasets
    }
    return codes, labels, epochs, accuracy


def accuracy_grid(matrix: dict[str, dict[str, dict]], targets: list[str]) -> pd.DataFrame:
    """The generalisation matrix as rows x targets of mean SVM accuracy, the table a heatmap reads."""
    return pd.DataFrame(
        {t: {row: cells[t]["svm_acc"]["mean"] for row, cells in matrix.items()} for t in targets}
    )


def load_comparison(params: CompareParams) -> dict:
    """Every meta_compare variant's metrics, with its leave-one-dataset-out runs where it has them."""
    results = {v: load_json(f"metrics/meta_compare/{v}.json") for v in params.variants.names}
    for v in params.leave_one_out.names:
        results[v]["leave_one_out"] = load_json(f"metrics/meta_compare_loo/{v}.json", ("leave_one_out",))[
            "leave_one_out"
        ]
    return results


def backprop_accuracy(evaluate: dict, datasets: list[str]) -> dict:
    """The backprop RNN's SVM accuracy per dataset (primary view), the stretch target's reference."""
    return {ds: next(iter(evaluate["rnn"][ds].values()))["svm_acc"] for ds in datasets if "rnn" in evaluate}


def drawn_tables(params: CompareParams, rules: RuleParams, T: int) -> dict[str, dict]:
    """The first meta seed's rule of every `table` variant of meta_compare, tabulated per matrix."""
    seed = params.meta_seeds[0]
    return {
        v: _tabulated(f"data/meta_compare/{v}.pt", "table", rules, T, seed)
        for v in params.variants.names
        if v.startswith("table-")
    }


def drawn_tasks_rules(variants: list[str], rules: RuleParams, T: int, seed: int) -> dict[str, dict]:
    """The first meta seed's rule of every tasks variant (data/meta_tasks/, any rule family) as
    `<variant>@tasks`, tabulated per matrix: its response to every pre/post history."""
    return {
        f"{v}{TASKS}": _tabulated(f"data/meta_tasks/{v}.pt", parse_variant(v)[0], rules, T, seed)
        for v in variants
    }


def _tabulated(path: str, name: str, rules: RuleParams, T: int, seed: int) -> dict:
    rule = make_rule(name, rules, T)
    rule.load_state_dict(load_theta(path, rule.state_dict(), ("thetas", f"seed{seed}")))
    return {m: rule.tabulate(m) for m in MATRICES}


def reference_accuracy(evaluate: dict, datasets: list[str], model: str, labels: list[int]) -> dict:
    """Mean SVM test accuracy of a reference model's first view per dataset and label count."""
    out = {}
    for ds in datasets:
        view = next(iter(evaluate[model][ds].values()))["svm_acc"]
        out[ds] = {n: np.float64(view[f"n{n}"]["mean"]) for n in labels}
    return out
