"""The report's schedule section: the frozen tasks rules in the paper's per-sample mode, as corrected tests.

The capacity section's tables and family (`capacity_report`) over modes instead of sizes: every
tasks variant x mode x view x target x label count x reference in the same mode, and the raw
input, Holm-corrected as one family; the unit is the meta-training run.
"""

from __future__ import annotations

import pandas as pd

from metahebb.capacity_report import capacity_family, means, tests_table, verdicts
from metahebb.schedule import COLUMN


def schedule_section(
    runs: pd.DataFrame, labels: list[int], batch_size: int, collapse_codes: int
) -> tuple[str, pd.DataFrame]:
    """The section's Markdown and its tests (committed as metrics/inference/schedule.csv);
    `batch_size`: train_hebbian's, the batch every rule was meta-trained and tuned at."""
    frame = capacity_family(runs, labels, COLUMN)
    lines = [
        "### Schedule: the tasks rules in the paper's per-sample mode (confirmatory draws)",
        "",
        f"Every rule was meta-trained or tuned with its change averaged over batches of {batch_size}. "
        "Mode `b<B>` trains fresh networks with batches of B points (`b1`: the paper's per-sample "
        "updates, ~B times as many per epoch); `-scaled` also multiplies the rule's change and the "
        f"homeostasis rate by B/{batch_size}, so an epoch moves the weights and thresholds as far as in "
        "the schedule the rule was made for (stages `schedule@<variant>` and `schedule_references`, "
        "src/metahebb/schedule.py). Nothing was meta-trained or tuned again for a mode. Means over runs, "
        "draws and network seeds (`metrics/schedule/<variant>.json`, `metrics/schedule/references.json`); "
        f"codes: distinct codes of the last state; collapsed: networks with fewer than {collapse_codes}.",
        "",
        *means(runs, labels, collapse_codes, COLUMN),
        "",
        f"**Beats, in each mode** (one-sided paired t-test over meta-training runs; one family of {len(frame)} "
        "tests over variants x modes x views x targets x label counts x references, Holm-corrected; "
        "references in the variant's mode, the raw input once). Cells as in the run-level section.",
        "",
        *tests_table(frame, COLUMN),
        "",
        *verdicts(frame, labels, COLUMN),
    ]
    return "\n".join(lines), frame


__all__ = ["schedule_section"]
