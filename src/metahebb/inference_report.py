"""The report's run-level section: every "beats" and "within 5 points" claim as a corrected test.

Families, each Holm-corrected as a whole and printed in full:

- beats: every meta-trained variant x target x label count x reference, for one view of the
  network (the last state, or all states concatenated: co-primary, each its own family). The
  references are the fair ones (`metahebb.baselines`): `none` with and without homeostasis, the
  tuned fixed rules and an SVM on the raw input. A variant whose meta-training saw labels is
  judged on the 2D datasets only by its leave-one-dataset-out runs (and on digits, never
  meta-trained on); without such runs it is judged on digits alone. A variant meta-trained on
  generated tasks only (`<variant>@tasks`, `metahebb.tasks`) is judged on every target;
- within `margin` of the backprop RNN autoencoder at the largest label count (TOST).

The same families are built twice: on the development draw (exploratory: settings were chosen
looking at it) and on the confirmatory draws (`metahebb.confirm`), on which the verdicts rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from metahebb.inference import Comparison, family, paired_differences, run_scores

MARGIN = 0.05  # "within 5 points"
VIEWS = {"last": "the last state x_{T+1}", "concat": "all states concatenated"}


@dataclass(frozen=True)
class Evidence:
    """What one family is judged on: per variant, the run table of each target it is judged on;
    per reference, its table (one "run") covering every target; the backprop RNN's, if any."""

    variants: dict[str, dict[str, pd.DataFrame]]
    references: dict[str, pd.DataFrame]
    backprop: pd.DataFrame | None
    labels: list[int]


def beats_tests(evidence: Evidence, view: str) -> list[Comparison]:
    """The "beats" family of one view: variant - reference, per run, paired on networks (and draws)."""
    tests = []
    for v, by_target in evidence.variants.items():
        for ds, table in by_target.items():
            for n in evidence.labels:
                score = f"svm_n{n}"
                mine = run_scores(table, ds, score, view)
                for ref, theirs in evidence.references.items():
                    reference = run_scores(theirs, ds, score, view)[0]  # a fixed rule: one "run"
                    tests.append(Comparison(v, ds, score, ref, paired_differences(mine, reference)))
    return tests


def within_tests(evidence: Evidence, datasets: list[str], view: str = "last") -> list[Comparison]:
    if evidence.backprop is None:
        return []
    score = f"svm_n{max(evidence.labels)}"
    return [
        Comparison(
            v,
            ds,
            score,
            "backprop RNN",
            paired_differences(
                run_scores(table, ds, score, view), run_scores(evidence.backprop, ds, score, view)[0]
            ),
            MARGIN,
        )
        for v, by_target in evidence.variants.items()
        for ds, table in by_target.items()
        if ds in datasets
    ]


def _cell(row: pd.Series) -> str:
    return f"{row.mean_difference:+.3f} [{row.ci_low:+.3f}, {row.ci_high:+.3f}] p={row.p_holm:.2g}" + (
        " **yes**" if row.holds else ""
    )


def beats_markdown(frame: pd.DataFrame, view: str) -> list[str]:
    if frame.empty:
        return [f"**Beats, on {VIEWS[view]}**: nothing to test."]
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
    return [*lines, "", *verdict_lines(frame)]


def verdict_lines(frame: pd.DataFrame) -> list[str]:
    """Per variant: the targets on which it beats every reference at every label count, corrected."""
    lines = []
    for v, rows in frame.groupby("variant", sort=False):
        targets = list(dict.fromkeys(rows.target))
        won = [ds for ds in targets if rows[rows.target == ds].holds.all()]
        lines.append(
            f"- `{v}` beats every reference at every label count on {len(won)} of its {len(targets)} "
            f"targets ({', '.join(won) or 'none'})."
        )
    return lines


def within_markdown(frame: pd.DataFrame) -> list[str]:
    if frame.empty:
        return [f"**Within {MARGIN:.2f} of the backprop RNN**: nothing to test."]
    lines = [
        f"**Within {MARGIN:.2f} of the backprop RNN at {frame.score.iloc[0].removeprefix('svm_n')} labels** "
        f"(equivalence, TOST: both one-sided t-tests of -{MARGIN:.2f} < difference < {MARGIN:.2f} over "
        f"runs; family of {len(frame)}, Holm-corrected; also the non-inferiority half alone, uncorrected).",
        "",
        "| variant | dataset | difference [95% interval] | non-inferiority p | TOST Holm p | holds |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in frame.iterrows():
        lines.append(
            f"| {r.variant} | {r.target} | {r.mean_difference:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}] "
            f"| {r.p_noninferior:.2g} | {r.p_holm:.2g} | {'yes' if r.holds else 'no'} |"
        )
    return lines


def families(evidence: Evidence, datasets: list[str], draw: str) -> tuple[list[str], pd.DataFrame]:
    """Both views' beats families and the within family, as Markdown and one table."""
    lines, frames = [], []
    for view in VIEWS:
        beats = family(beats_tests(evidence, view)).assign(view=view, claim="beats", draw=draw)
        frames.append(beats)
        lines += [*beats_markdown(beats, view), ""]
    within = family(within_tests(evidence, datasets)).assign(view="last", claim="within", draw=draw)
    frames.append(within)
    lines += within_markdown(within)
    return lines, pd.concat(frames, ignore_index=True)


def run_level_section(
    development: Evidence, confirmatory: Evidence | None, datasets: list[str], budgets: list[str]
) -> tuple[str, pd.DataFrame]:
    """The section's Markdown and every test of every family as one table (committed as CSV)."""
    lines = [
        "### Run-level inference",
        "",
        "The unit is the meta-training run (`metrics/meta_compare/runs/`): each run's score is its "
        "mean over network seeds (and data draws), and the tables above pool runs x seeds, which "
        "overstates the evidence (src/metahebb/inference.py says why). References: "
        "src/metahebb/baselines.py. Labels each variant's meta-training saw:",
        "",
        *budgets,
        "",
    ]
    frames = []
    if confirmatory is not None:
        confirm_lines, confirm = families(confirmatory, datasets, "confirmatory")
        lines += ["#### Confirmatory: fresh data draws (the verdicts)", "", *confirm_lines, ""]
        frames.append(confirm)
    dev_lines, dev = families(development, datasets, "development")
    lines += ["#### Exploratory: the development draw", "", *dev_lines]
    frames.append(dev)
    return "\n".join(lines), pd.concat(frames, ignore_index=True)
