"""The report's run-level section: every "beats" and "within 5 points" claim as a corrected test.

Two families, each Holm-corrected as a whole and printed in full:

- beats: every meta-trained variant x 2D dataset x label count x reference (`none`, `hebb` with the
  pipeline's settings, and an SVM on the raw 10D input), for one view of the network (the last
  state, or all states concatenated: co-primary, each its own family);
- within `margin` of the backprop RNN autoencoder at the largest label count (non-inferiority).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metahebb.inference import Comparison, family, paired_differences, run_scores

MARGIN = 0.05  # "within 5 points"
VIEWS = {"last": "the last state x_{T+1}", "concat": "all states concatenated"}


def beats_tests(
    runs: dict[str, pd.DataFrame], variants: list[str], fixed: list[str], raw: dict, datasets: list[str],
    labels: list[int], view: str,
) -> list[Comparison]:  # fmt: skip
    """The "beats" family of one view: variant - reference, per run, paired on network seeds."""
    tests = []
    for v in variants:
        for ds in datasets:
            for n in labels:
                score = f"svm_n{n}"
                mine = run_scores(runs[v], ds, score, view)
                for ref in fixed:
                    theirs = run_scores(runs[ref], ds, score, view)[0]  # a fixed rule: one "run"
                    tests.append(Comparison(v, ds, score, ref, paired_differences(mine, theirs)))
                tests.append(Comparison(v, ds, score, "raw input", paired_differences(mine, raw[ds][n])))
    return tests


def within_tests(
    runs: dict[str, pd.DataFrame], variants: list[str], backprop: dict, datasets: list[str], n: int, view: str
) -> list[Comparison]:
    return [
        Comparison(
            v,
            ds,
            f"svm_n{n}",
            "backprop RNN",
            paired_differences(run_scores(runs[v], ds, f"svm_n{n}", view), backprop[ds][n]),
            MARGIN,
        )
        for v in variants
        for ds in datasets
    ]


def _cell(row: pd.Series) -> str:
    return f"{row.mean_difference:+.3f} [{row.ci_low:+.3f}, {row.ci_high:+.3f}] p={row.p_holm:.2g}" + (
        " **yes**" if row.holds else ""
    )


def beats_markdown(frame: pd.DataFrame, view: str, datasets: list[str], labels: list[int]) -> list[str]:
    if frame.empty:
        return [
            f"**Beats, on {VIEWS[view]}**: nothing to test (no meta-trained variant judged on a 2D dataset)."
        ]
    refs = list(dict.fromkeys(frame.against))
    runs = sorted(set(frame.runs))
    lines = [
        f"**Beats, on {VIEWS[view]}** (one-sided paired t-test over meta-training runs; family of "
        f"{len(frame)} tests, Holm-corrected; {'/'.join(map(str, runs))} runs per variant). Cells: mean "
        "difference in test accuracy [95% interval over runs], Holm p; **yes** where it holds at 0.05.",
        "",
        f"| variant | dataset | labels | {' | '.join('vs ' + r for r in refs)} |",
        "|---|---|---|" + "---|" * len(refs),
    ]
    for (v, ds, score), rows in frame.groupby(["variant", "target", "score"], sort=False):
        cells = [_cell(rows[rows.against == r].iloc[0]) for r in refs]
        lines.append(f"| {v} | {ds} | {score.removeprefix('svm_n')} | {' | '.join(cells)} |")
    lines += ["", *verdict_lines(frame, datasets, labels)]
    return lines


def verdict_lines(frame: pd.DataFrame, datasets: list[str], labels: list[int]) -> list[str]:
    """Per variant: on how many datasets it beats every reference at every label count, corrected."""
    lines = []
    for v, rows in frame.groupby("variant", sort=False):
        won = [ds for ds in datasets if rows[rows.target == ds].holds.all()]
        lines.append(
            f"- `{v}` beats every reference at {' and '.join(map(str, labels))} labels on "
            f"{len(won)} of {len(datasets)} datasets ({', '.join(won) or 'none'})."
        )
    return lines


def within_markdown(frame: pd.DataFrame, n: int) -> list[str]:
    if frame.empty:
        return [f"**Within {MARGIN:.2f} of the backprop RNN**: nothing to test."]
    lines = [
        f"**Within {MARGIN:.2f} of the backprop RNN at {n} labels** (non-inferiority: one-sided t-test "
        f"of difference > -{MARGIN:.2f} over runs; family of {len(frame)}, Holm-corrected).",
        "",
        "| variant | dataset | difference [95% interval] | Holm p | holds |",
        "|---|---|---|---|---|",
    ]
    for _, r in frame.iterrows():
        lines.append(
            f"| {r.variant} | {r.target} | {r.mean_difference:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}] "
            f"| {r.p_holm:.2g} | {'yes' if r.holds else 'no'} |"
        )
    return lines


def run_level_section(
    runs: dict[str, pd.DataFrame], variants: list[str], fixed: list[str], raw: dict, backprop: dict,
    datasets: list[str], labels: list[int],
) -> tuple[str, pd.DataFrame]:  # fmt: skip
    """The section's Markdown and every test of both families as one table (committed as CSV)."""
    lines = [
        "### Run-level inference",
        "",
        "The unit is the meta-training run (`metrics/meta_compare/runs/`): each run's score is its "
        "mean over network seeds, and the tables above pool runs x seeds, which overstates the "
        "evidence (src/metahebb/inference.py says why).",
        "",
    ]
    frames = []
    for view in VIEWS:
        beats = family(beats_tests(runs, variants, fixed, raw, datasets, labels, view)).assign(
            view=view, claim="beats"
        )
        frames.append(beats)
        lines += [*beats_markdown(beats, view, datasets, labels), ""]
    within = family(within_tests(runs, variants, backprop, datasets, max(labels), "last")).assign(
        view="last", claim="within"
    )
    frames.append(within)
    lines += within_markdown(within, max(labels))
    return "\n".join(lines), pd.concat(frames, ignore_index=True)


def reference_accuracy(evaluate: dict, datasets: list[str], model: str, labels: list[int]) -> dict:
    """Mean SVM test accuracy of a reference model's first view per dataset and label count."""
    out = {}
    for ds in datasets:
        view = next(iter(evaluate[model][ds].values()))["svm_acc"]
        out[ds] = {n: np.float64(view[f"n{n}"]["mean"]) for n in labels}
    return out
