"""The report's held-out-tasks section: the tasks rules on unseen tasks of their own distribution.

One family, Holm-corrected as a whole: every tasks variant x view x label count, against the rule
each run started from (paired run by run: the same networks, tasks and labelled draws) and against
the raw input. The unit is the meta-training run, as in the run-level section.
"""

from __future__ import annotations

import pandas as pd

from metahebb.capacity import RAW
from metahebb.inference import Comparison, family, paired_differences, run_scores
from metahebb.inference_report import VIEWS
from metahebb.inference_report import _cell as cell
from metahebb.task_study import TASKS
from metahebb.task_validation import START, TARGET


def _rows(table: pd.DataFrame, rule: str) -> pd.DataFrame:
    return table[table.rule == rule]


def held_out_family(tables: dict[str, pd.DataFrame], labels: list[int]) -> pd.DataFrame:
    """Every test of the section; `tables`: per variant, its run table (metrics/task_validation/runs/)."""
    tests, views = [], []
    for variant, table in tables.items():
        mine, start, raw = (_rows(table, r) for r in (variant + TASKS, START, RAW))
        for view in VIEWS:
            for n in labels:
                score = f"svm_n{n}"
                scores = run_scores(mine, TARGET, score, view)
                from_start = (scores - run_scores(start, TARGET, score, view)).mean(axis=1)
                over_raw = paired_differences(scores, run_scores(raw, TARGET, score, view)[0])
                tests += [
                    Comparison(variant + TASKS, TARGET, score, START, from_start),
                    Comparison(variant + TASKS, TARGET, score, RAW, over_raw),
                ]
                views += [view, view]
    return family(tests).assign(view=views)


def means(tables: dict[str, pd.DataFrame], labels: list[int]) -> list[str]:
    """Mean accuracy per variant and view of the starting rule, the trained rule and the raw input."""
    head = " | ".join(f"{who} {n}" for n in labels for who in ("start", "trained", "raw"))
    lines = [
        f"| variant | view | {head} | codes (start -> trained) |",
        "|---|---|" + "---|" * (3 * len(labels) + 1),
    ]
    for variant, table in tables.items():
        rules = (START, variant + TASKS, RAW)
        mean = table.groupby(["view", "rule", "score"]).value.mean()  # over runs, tasks and seeds
        for view in VIEWS:
            cells = [f"{mean[view, r, f'svm_n{n}']:.3f}" for n in labels for r in rules]
            tail = (
                f"{mean[view, START, 'codes']:.1f} -> {mean[view, rules[1], 'codes']:.1f}"
                if view == "last"
                else ""
            )
            lines.append(f"| {variant} | {view} | {' | '.join(cells)} | {tail} |")
    return lines


def verdicts(frame: pd.DataFrame, labels: list[int]) -> list[str]:
    """Per variant and view: where meta-training helped (beats its start) and where it beats the raw input."""
    lines = []
    for (variant, view), rows in frame.groupby(["variant", "view"], sort=False):
        won = {
            who: [s.removeprefix("svm_n") for s in rows[(rows.against == who) & rows.holds].score]
            for who in (START, RAW)
        }
        at = {who: f"at {' and '.join(n)} labels" if n else "at no label count" for who, n in won.items()}
        lines.append(
            f"- `{variant}`, {view}: beats the rule it started from {at[START]}, the raw input {at[RAW]} "
            f"(of {', '.join(map(str, labels))})."
        )
    return lines


def held_out_section(tables: dict[str, pd.DataFrame], labels: list[int]) -> tuple[str, pd.DataFrame]:
    """The section's Markdown and its tests (committed as metrics/inference/task_validation.csv)."""
    if not tables:
        return "", pd.DataFrame()
    frame = held_out_family(tables, labels)
    tasks = next(iter(tables.values())).draw.nunique()
    lines = [
        "### Held-out generated tasks: the tasks rules on their own distribution",
        "",
        "Does a tasks rule fall short of the raw input only on the targets, which no generated task "
        f"resembles, or on its own distribution too? Every run's rule, the rule that run started from "
        "(CMA-ES's first mean: for `table`, Hebb with homeostasis) and the raw input are judged as the "
        f"targets are, on {tasks} fresh tasks of the meta-training distribution drawn from "
        "`tasks.held_out_seed` (stage `task_validation@<variant>`, src/metahebb/task_validation.py). "
        "Means over runs, tasks and network seeds; codes: distinct codes of the last state.",
        "",
        *means(tables, labels),
        "",
        f"**Beats** (one-sided paired t-test over meta-training runs; one family of {len(frame)} tests, "
        "Holm-corrected; against the start, each run is paired with its own start).",
        "",
        "| variant | view | labels | vs start | vs raw |",
        "|---|---|---|---|---|",
    ]
    for (variant, view, score), rows in frame.groupby(["variant", "view", "score"], sort=False):
        cells = [cell(rows[rows.against == who].iloc[0]) for who in (START, RAW)]
        lines.append(f"| {variant} | {view} | {score.removeprefix('svm_n')} | {' | '.join(cells)} |")
    lines += ["", *verdicts(frame, labels)]
    return "\n".join(lines), frame


__all__ = ["held_out_family", "held_out_section"]
