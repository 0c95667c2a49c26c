"""The report's rule-family table: each rule family meta-trained on generated tasks, side by side.

Per tasks variant (`<rule>-es-<objective>`): how many parameters CMA-ES searched, its meta-training
seconds per run, its confirmatory means, and on how many targets the run-level family (Holm-
corrected, `metahebb.inference_report`) says it beats the raw input and every reference.
"""

from __future__ import annotations

import pandas as pd

from metahebb.artifacts import load_json, load_torch
from metahebb.inference_report import VIEWS
from metahebb.params import Params, parse_variant
from metahebb.task_study import TASKS


def parameters(theta: dict) -> int:
    """Entries of one run's theta: what the outer loop searched."""
    return int(sum(t.numel() for t in theta.values()))


def _won(tests: pd.DataFrame, variant: str, view: str, against: str | None, score: str | None) -> list[str]:
    rows = tests[(tests.variant == variant + TASKS) & (tests.view == view) & (tests.claim == "beats")]
    rows = rows[rows.draw == "confirmatory"]
    if against is not None:
        rows = rows[(rows.against == against) & (rows.score == score)]
    return [t for t, r in rows.groupby("target", sort=False) if r.holds.all()]


def family_markdown(p: Params, tests: pd.DataFrame, figure: str | None = None) -> str:
    """The table and a line on how to read it; `tests`: the run-level tests (metrics/inference/tests.csv);
    `figure`: the drawing of each variant's first rule (`figures.rule_tables`), if there is one."""
    fewest, targets = min(p.meta_compare.labels), p.meta_compare.targets
    lines = [
        "### Rule families meta-trained on generated tasks (confirmatory draws)",
        "",
        f"Mean SVM test accuracy at {fewest} labels over runs, draws and network seeds (last state / all "
        "states concatenated), and the targets where the Holm-corrected run-level tests above say the "
        f"variant beats the raw input at {fewest} labels, and every reference at every label count.",
        "",
        f"| variant | rule | parameters | s per run | {' | '.join(targets)} | view | beats raw at {fewest} | "
        "beats every reference |",
        "|---|---|---|---|" + "---|" * len(targets) + "---|---|---|",
    ]
    for v in p.tasks.variants:
        thetas = load_torch(f"data/meta_tasks/{v}.pt", required=("thetas",))["thetas"]
        seconds = load_json(f"metrics/meta_tasks/timing/{v}.json", ("meta_train_seconds.mean",))
        confirm = load_json(f"metrics/meta_tasks/{v}.json", ("confirm",))["confirm"]
        cells = [
            " / ".join(f"{confirm[view][t][f'svm_n{fewest}']['mean']:.3f}" for view in VIEWS) for t in targets
        ]
        for view in VIEWS:
            over_raw = _won(tests, v, view, "raw", f"svm_n{fewest}")
            every = _won(tests, v, view, None, None)
            head = (
                [v, parse_variant(v)[0], str(parameters(next(iter(thetas.values())))),
                 f"{seconds['meta_train_seconds']['mean']:.0f}", *cells]
                if view == "last" else ["", "", "", "", *[""] * len(targets)]
            )  # fmt: skip
            lines.append(
                f"| {' | '.join(head)} | {view} | {', '.join(over_raw) or 'none'} | {', '.join(every) or 'none'} |"
            )
    if figure:
        lines += [
            "",
            "What each family's rule does (first meta seed): its change of a lone synapse for every "
            "pre/post history, the learned and attention rules' with the neighbours silent.",
            "",
            f"![tasks rules]({figure})",
        ]
    return "\n".join(lines)


__all__ = ["family_markdown", "parameters"]
