"""Run-level inference: the meta-training run is the unit of every claim about a rule.

A meta-trained variant is a random outcome of meta-training, so the sample is its R runs, not
its R x S (run, network seed) pairs: pooling those treats the S networks of one rule as
independent evidence about the rule (pseudo-replication). Each run's score is its mean over the
network seeds; a fixed rule (`none`, `hebb`) is scored on the same seeds, so the per-run
difference d_r = mean_s(variant_{r,s} - baseline_s) is paired on networks, shuffles and SVM draws.

- "beats": a one-sided one-sample t-test of d_r > 0 (scipy.stats.ttest_1samp, df = R - 1).
- "within `margin` of backprop": equivalence by two one-sided tests (TOST): d_r + margin > 0 and
  d_r - margin < 0, each a one-sided t-test, p = the larger of the two; d_r = variant_r - backprop
  RNN (its mean over its seeds on the same draw). The one-sided non-inferiority half is kept too.
- Holm's step-down correction over the whole family the report states (every variant x dataset x
  label count x baseline), so "some variant somewhere" is not a free win.

Without spread over runs (one run, or every run the same rule) there is no test and the claim
counts as not shown (p = 1). With R = 3 runs a t-test has 2 degrees of freedom: intervals are wide and p-values rarely small.
That is the honest size of the evidence, and the report prints R beside every verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


def holm(pvalues: list[float]) -> list[float]:
    """Holm-adjusted p-values (step-down, monotone, capped at 1), in the order given."""
    order = np.argsort(pvalues, kind="stable")
    m, adjusted, running = len(pvalues), np.empty(len(pvalues)), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted.tolist()


def run_scores(table: pd.DataFrame, target: str, score: str, view: str = "last") -> np.ndarray:
    """(R, S) scores of one variant's runs on one target, from a `compare.run_table` frame; with a
    `draw` column (the confirmatory tables) the columns are every (draw, network seed)."""
    rows = table[(table.target == target) & (table.score == score) & (table.view == view)]
    columns = ["draw", "seed_index"] if "draw" in rows.columns else "seed_index"
    wide = rows.pivot_table(index="run", columns=columns, values="value", aggfunc="first", sort=True)
    return wide.to_numpy(dtype=float)


@dataclass(frozen=True)
class Comparison:
    """One comparison of the family: the per-run differences and the one-sided t-test on them."""

    variant: str
    target: str
    score: str
    against: str
    differences: np.ndarray  # (R,): per run, mean over network seeds of variant - reference
    margin: float = 0.0  # > 0: within `margin` (equivalence by TOST; `p_noninferior`: the lower half)

    @property
    def mean(self) -> float:
        return float(self.differences.mean())

    @property
    def interval(self) -> tuple[float, float]:
        """Two-sided 95% t-interval of the mean difference over runs (a point with one run)."""
        d = self.differences
        if len(d) < 2:
            return float(d[0]), float(d[0])
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
        return float(d.mean() - half), float(d.mean() + half)

    @property
    def p(self) -> float:
        """Superiority (margin 0), or TOST equivalence: the larger p of the two one-sided tests."""
        if self.margin == 0:
            return one_sided(self.differences, "greater")
        return max(self.p_noninferior, one_sided(self.differences - self.margin, "less"))

    @property
    def p_noninferior(self) -> float:
        return one_sided(self.differences + self.margin, "greater")


def one_sided(d: np.ndarray, alternative: str) -> float:
    """scipy's one-sample t-test of mean(d) against 0; no spread (one run, or identical rules): no
    test, so nothing is shown (p = 1)."""
    if len(d) < 2 or np.allclose(d, d[0]):
        return 1.0
    return float(stats.ttest_1samp(d, 0.0, alternative=alternative).pvalue)


def paired_differences(variant: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per run: mean over network seeds of variant (R,S) minus reference (S,) or a scalar."""
    return (variant - reference).mean(axis=1)


def family(tests: list[Comparison], alpha: float = 0.05) -> pd.DataFrame:
    """The tests as rows with Holm-adjusted p-values over all of them and the verdict at `alpha`."""
    adjusted = holm([t.p for t in tests])
    columns = ["variant", "target", "score", "against", "runs", "mean_difference", "ci_low", "ci_high"]
    columns += ["margin", "p_noninferior", "p", "p_holm", "holds"]
    rows = [
        {
            "variant": t.variant,
            "target": t.target,
            "score": t.score,
            "against": t.against,
            "runs": len(t.differences),
            "mean_difference": t.mean,
            "ci_low": t.interval[0],
            "ci_high": t.interval[1],
            "margin": t.margin,
            "p_noninferior": t.p_noninferior,  # margin 0: the superiority test itself
            "p": t.p,
            "p_holm": q,
            "holds": bool(q < alpha),
        }
        for t, q in zip(tests, adjusted, strict=True)
    ]
    return pd.DataFrame(rows, columns=columns)
