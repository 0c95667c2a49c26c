"""The report's capacity section: the frozen tasks rules at every code size, as corrected tests.

One family, Holm-corrected as a whole: every tasks variant x size x view x target x label count x
reference at the same size (`none` with and without homeostasis, the tuned fixed rules), and the
raw input, which has no size. As in the run-level section, the unit is the meta-training run and
each difference is paired on network seeds and data draws (`metahebb.inference`).
"""

from __future__ import annotations

import pandas as pd

from metahebb.capacity import INPUT, RAW
from metahebb.inference import Comparison, family, paired_differences, run_scores
from metahebb.inference_report import VIEWS
from metahebb.inference_report import _cell as cell  # the run-level section's cells, alike
from metahebb.task_study import TASKS


def _table(runs: pd.DataFrame, size: str, rule: str, column: str = "size") -> pd.DataFrame:
    return runs[(runs[column] == size) & (runs.rule == rule)]


def capacity_family(runs: pd.DataFrame, labels: list[int], column: str = "size") -> pd.DataFrame:
    """Every test of the section (the run tables of metrics/capacity/runs/ in, one row per test out).

    `column` names the setting a rule is swept over: `size` here, `mode` in the schedule section."""
    sizes, variants, references = _ordered(runs, column)
    raw = _table(runs, INPUT, RAW, column)
    tests, where = [], []
    for v in variants:
        for size in sizes:
            mine = _table(runs, size, v, column)
            theirs = {RAW: raw} | {r: _table(runs, size, r, column) for r in references}
            for view in VIEWS:
                for target in dict.fromkeys(mine.target):
                    for n in labels:
                        score = f"svm_n{n}"
                        scores = run_scores(mine, target, score, view)
                        for ref, table in theirs.items():
                            reference = run_scores(table, target, score, view)[0]
                            tests.append(
                                Comparison(v, target, score, ref, paired_differences(scores, reference))
                            )
                            where.append((size, view))
    frame = family(tests)
    return frame.assign(**{column: [s for s, _ in where]}, view=[v for _, v in where])


def _ordered(runs: pd.DataFrame, column: str) -> tuple[list[str], list[str], list[str]]:
    """Sizes (the raw input's aside), tasks variants and references, in the order they appear."""
    sizes = [s for s in dict.fromkeys(runs[column]) if s != INPUT]
    variants = [r for r in dict.fromkeys(runs.rule) if r.endswith(TASKS)]
    references = [r for r in dict.fromkeys(runs.rule) if r not in variants and r != RAW]
    return sizes, variants, references


def means(runs: pd.DataFrame, labels: list[int], collapse_codes: int, column: str = "size") -> list[str]:
    """The Markdown table of means per setting (`column`), rule and target, the raw input last; and
    how many networks collapsed (fewer than `collapse_codes` distinct codes of the last state)."""
    columns = [(view, n) for view in VIEWS for n in labels]
    lines = [
        f"| {column} | rule | target | "
        + " | ".join(f"{view} {n}" for view, n in columns)
        + " | codes | collapsed |",
        "|---|---|---|" + "---|" * (len(columns) + 2),
    ]
    sizes, variants, references = _ordered(runs, column)
    cells = [(size, rule) for size in sizes for rule in variants + references] + [(INPUT, RAW)]
    for size, rule in cells:
        table = _table(runs, size, rule, column)
        for target, rows in table.groupby("target", sort=False):
            means = [
                rows[(rows.view == view) & (rows.score == f"svm_n{n}")].value.mean() for view, n in columns
            ]
            codes = rows[(rows.view == "last") & (rows.score == "codes")].value
            collapsed = f"{(codes < collapse_codes).sum()} of {len(codes)}"
            tail = f"{codes.mean():.1f} | {collapsed}" if len(codes) else " | "
            lines.append(f"| {size} | {rule} | {target} | {' | '.join(f'{v:.3f}' for v in means)} | {tail} |")
    return lines


def verdicts(frame: pd.DataFrame, labels: list[int], column: str = "size") -> list[str]:
    """Per variant, size (or `column`) and view: the targets where it beats the raw input at the
    fewest labels, and those where it beats every reference at every label count."""
    fewest = f"svm_n{min(labels)}"
    lines = []
    for (v, size, view), rows in frame.groupby(["variant", column, "view"], sort=False):
        targets = list(dict.fromkeys(rows.target))
        raw = rows[(rows.against == RAW) & (rows.score == fewest)]
        over_raw = [t for t in targets if raw[raw.target == t].holds.all()]
        every = [t for t in targets if rows[rows.target == t].holds.all()]
        lines.append(
            f"- `{v}` at {size}, {view}: beats the raw input at {min(labels)} labels on {len(over_raw)} of "
            f"{len(targets)} targets ({', '.join(over_raw) or 'none'}); beats every reference at every label "
            f"count on {len(every)} ({', '.join(every) or 'none'})."
        )
    return lines


def capacity_section(runs: pd.DataFrame, labels: list[int], collapse_codes: int) -> tuple[str, pd.DataFrame]:
    """The section's Markdown and its tests (committed as metrics/inference/capacity.csv)."""
    frame = capacity_family(runs, labels)
    lines = [
        "### Capacity: the tasks rules at other code sizes (confirmatory draws)",
        "",
        "Every frozen tasks run and every reference trains fresh networks of m neurons of which k fire "
        "(stages `capacity@<variant>` and `capacity_references`, src/metahebb/capacity.py), on confirm's draws; nothing was meta-trained or "
        "tuned again at a new size, so a size tests transfer as much as capacity. Means over runs, draws "
        "and network seeds (`metrics/capacity/<variant>.json`, `metrics/capacity/references.json`); codes: "
        f"distinct codes of the last state; collapsed: networks with fewer than {collapse_codes} "
        "(train_hebbian.collapse_codes).",
        "",
        *means(runs, labels, collapse_codes),
        "",
        f"**Beats, at each size** (one-sided paired t-test over meta-training runs; one family of {len(frame)} "
        "tests over variants x sizes x views x targets x label counts x references, Holm-corrected; "
        f"references at the variant's size, the raw input once). Cells as in the run-level section.",
        "",
        *tests_table(frame),
    ]
    lines += ["", *verdicts(frame, labels)]
    return "\n".join(lines), frame


def tests_table(frame: pd.DataFrame, column: str = "size") -> list[str]:
    """The family's tests as Markdown: one row per variant, setting, view, target and label count."""
    refs = list(dict.fromkeys(frame.against))
    lines = [
        f"| variant | {column} | view | dataset | labels | {' | '.join('vs ' + r for r in refs)} |",
        "|---|---|---|---|---|" + "---|" * len(refs),
    ]
    for (v, size, view, ds, score), rows in frame.groupby(
        ["variant", column, "view", "target", "score"], sort=False
    ):
        cells = [cell(rows[rows.against == r].iloc[0]) for r in refs]
        lines.append(
            f"| {v} | {size} | {view} | {ds} | {score.removeprefix('svm_n')} | {' | '.join(cells)} |"
        )
    return lines


__all__ = ["capacity_family", "capacity_section", "means", "tests_table", "verdicts"]
