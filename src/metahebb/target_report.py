"""The report's scoreboard of issue 15's targets: how far the rules meta-trained on generated tasks got.

Nothing is tested anew here: every line is read off tests the report already makes, each
Holm-corrected within its own section's family, on the confirmatory draws. The rule-family tests
(the rules as meta-trained: `kcap_rnn`'s size, `train_hebbian`'s batch) are joined by the capacity
sweep's (one setting per code size) and the schedule sweep's (one per mode), so a target counts as
reached if any tasks variant reaches it in any setting and view, and otherwise the closest one is
named with its difference and p. The hand-designed references (SoftHebb, Krotov-Hopfield) and the
held-out digits are only in the rule-family tests, so those targets are judged there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from metahebb.task_study import TASKS

SHAPES = ("circles", "moons", "blobs")  # the 2D targets of the issue
SHAPES_NEEDED = 2  # beat the raw input on at least this many of them
REFERENCES = ("none", "hebb-tuned", "softhebb-tuned", "krotov-tuned")  # to beat at every label count
HELD_OUT = "digits"  # beat the raw projected input at the most labels
STRETCH = "circles"  # within the margin of the backprop RNN autoencoder at the most labels
BACKPROP = "backprop RNN"


@dataclass(frozen=True)
class SizeAndMode:
    """Where a sweep's tests were made: the code size and the training schedule, e.g. `m64k8, b32`."""

    size: str
    mode: str

    def __str__(self) -> str:
        return f"{self.size}, {self.mode}"


def tried_tests(
    families: pd.DataFrame, capacity: pd.DataFrame, schedule: pd.DataFrame, own: SizeAndMode
) -> pd.DataFrame:
    """The tasks variants' confirmatory "beats" tests of every section, with a `setting` column;
    `own`: the size and schedule the rules were meta-trained at (the rule-family tests')."""
    rows = families[
        (families.draw == "confirmatory") & (families.claim == "beats") & families.variant.str.endswith(TASKS)
    ]
    parts = [rows.assign(setting=str(own), section="rule families")]
    if len(capacity):
        parts.append(
            capacity.assign(
                setting=[str(SizeAndMode(s, own.mode)) for s in capacity["size"]], section="capacity"
            )
        )
    if len(schedule):
        parts.append(
            schedule.assign(
                setting=[str(SizeAndMode(own.size, m)) for m in schedule["mode"]], section="schedule"
            )
        )
    columns = ["variant", "setting", "view", "target", "score", "against", "mean_difference", "ci_low",
               "ci_high", "p_holm", "holds", "section"]  # fmt: skip
    return pd.concat([p[columns] for p in parts], ignore_index=True)


def _closest(rows: pd.DataFrame) -> list[str]:
    """Cells of the row with the largest difference (the first of a tie: rule families come first)."""
    if rows.empty:
        return ["not tested", "", ""]
    best = rows.loc[rows.mean_difference.idxmax()]
    return [
        f"{best.variant}, {best.setting}, {best.view}",
        f"{best.mean_difference:+.3f} [{best.ci_low:+.3f}, {best.ci_high:+.3f}]",
        f"{best.p_holm:.2g} ({best.section})",
    ]


def _reached(holds: bool) -> str:
    return "**yes**" if holds else "no"


def scoreboard(tried: pd.DataFrame, families: pd.DataFrame, labels: list[int], own: SizeAndMode) -> list[str]:
    """The Markdown table: one row per target (and per shape for the raw-input target); `own`: the
    setting of the rule-family tests, the only ones with every reference, digits and the backprop RNN."""
    fewest, most = f"svm_n{min(labels)}", f"svm_n{max(labels)}"
    raw = tried[(tried.against == "raw") & (tried.score == fewest) & tried.target.isin(SHAPES)]
    won = raw[raw.holds].groupby(["variant", "setting", "view"]).target.nunique()
    top = int(won.max()) if len(won) else 0
    lines = [
        "| target | reached | closest: variant, setting, view | difference [95% interval] | Holm p (family) |",
        "|---|---|---|---|---|",
        f"| beats the raw input at {min(labels)} labels on >= {SHAPES_NEEDED} of {', '.join(SHAPES)} | "
        f"{_reached(top >= SHAPES_NEEDED)}: at most {top} of {len(SHAPES)} (the best variant, setting and view) | | | |",
    ]
    for shape in SHAPES:
        rows = raw[raw.target == shape]
        lines.append(f"| - {shape} | {_reached(rows.holds.any())} | {' | '.join(_closest(rows))} |")

    confirm = tried[tried.section == "rule families"]
    cells = confirm[confirm.against.isin(REFERENCES) & confirm.target.isin(SHAPES)]
    count = cells.groupby(["variant", "view"]).holds.agg(["sum", "size"])
    if len(count):
        variant, view = count["sum"].idxmax()
        reached = bool((count["sum"] == count["size"]).any())
        mine = cells[(cells.variant == variant) & (cells.view == view)].groupby("against", sort=False).holds
        per_reference = ", ".join(f"{r} {n}" for r, n in mine.sum().items())
        lines.append(
            f"| beats {', '.join(REFERENCES)} at {' and '.join(map(str, labels))} labels on all of "
            f"{', '.join(SHAPES)} | {_reached(reached)}: at most {count['sum'].max()} of {count['size'].max()} "
            f"tests | {variant}, {own}, {view} | tests won of {mine.size().iloc[0]} per "
            f"reference: {per_reference} | |"
        )

    digits = confirm[(confirm.against == "raw") & (confirm.score == most) & (confirm.target == HELD_OUT)]
    lines.append(
        f"| {HELD_OUT} (held out): beats the raw input at {max(labels)} labels | "
        f"{_reached(digits.holds.any())} | {' | '.join(_closest(digits))} |"
    )

    within = families[
        (families.draw == "confirmatory")
        & (families.claim == "within")
        & families.variant.str.endswith(TASKS)
    ]
    within = within[(within.target == STRETCH) & (within.score == most)].assign(
        setting=str(own), section="rule families"
    )
    lines.append(
        f"| stretch: {STRETCH} within 5 points of the {BACKPROP} autoencoder at {max(labels)} labels | "
        f"{_reached(within.holds.any())} | {' | '.join(_closest(within))} |"
    )
    return lines


def tried_line(tried: pd.DataFrame) -> str:
    """What the scoreboard's best-of is over: every variant, setting and view tested."""
    variants = ", ".join(f"`{v}`" for v in dict.fromkeys(tried.variant))
    settings = "; ".join(dict.fromkeys(tried.setting))
    views = ", ".join(dict.fromkeys(tried.view))
    return f"Over the tasks variants {variants}; the settings {settings}; the views {views}."


def held_out_line(held_out: pd.DataFrame, labels: list[int], own: SizeAndMode) -> list[str]:
    """Context, not a target: the closest any variant came to the raw input on held-out generated tasks."""
    if held_out.empty:
        return []
    rows = held_out[(held_out.against == "raw") & (held_out.score == f"svm_n{min(labels)}")]
    rows = rows.assign(setting=str(own), section="held-out tasks")
    return [
        f"| context, not a target: on held-out generated tasks (the rules' own distribution), beats the raw "
        f"input at {min(labels)} labels | {_reached(rows.holds.any())} | {' | '.join(_closest(rows))} |"
    ]


def target_section(
    families: pd.DataFrame,
    capacity: pd.DataFrame,
    schedule: pd.DataFrame,
    labels: list[int],
    own: SizeAndMode,
    held_out: pd.DataFrame | None = None,
) -> str:
    """The section's Markdown; `families`, `capacity`, `schedule`, `held_out`: the run-level, capacity,
    schedule and held-out-tasks tests (metrics/inference/tests.csv, capacity.csv, schedule.csv,
    task_validation.csv)."""
    tried = tried_tests(families, capacity, schedule, own)
    if tried.empty:
        return ""
    lines = [
        "### Issue 15's targets: how far the rules meta-trained on generated tasks got (confirmatory draws)",
        "",
        "Read off the tests of the sections above, each Holm-corrected within its own family (named in "
        "the last column). A target is reached if any variant reaches it in any setting (code size, "
        "schedule) and view; otherwise the row names the closest and its mean difference over "
        "meta-training runs. " + tried_line(tried),
        "",
        *scoreboard(tried, families, labels, own),
        *held_out_line(pd.DataFrame() if held_out is None else held_out, labels, own),
    ]
    return "\n".join(lines)


__all__ = ["SizeAndMode", "scoreboard", "target_section", "tried_tests"]
