"""The ES ablation of the meta-trained table rule: CMA-ES over Hebb's step gains and homeostasis rate alone.

The `table` rule meta-trained by `es` starts exactly at Hebb with homeostasis, and ES moves two
kinds of parameter: the table's entries (what the rule does for each firing pattern) and one log
step gain per matrix. If its wins came from the gains alone, a Hebb rule whose three step gains
(M_in, M_rec, M_out) and homeostasis rate are searched the same way would match it. This search
asks that: four parameters, log scale, from Hebb at `rules.hebb_lr` and `stabilisers.homeostasis_rate`
(the table rule's start), with CMA-ES (`es.seed`), at the inner schedule every rule is judged with
(`train_hebbian.epochs`). A candidate is scored as a grid point of `baselines` is (the few-label SVM
on the validation split, on `baselines.seeds` search networks shared by every candidate), on the
mean of the two views; each view keeps its best candidate, as the grid keeps its best point. The
budget is one ES meta-training's: as many networks trained (candidates x search networks) as
`es` trains (generations x population x networks_per_dataset per dataset), in whole generations.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from metahebb.rules import MATRICES, Rule, Synapses

ABLATED = "hebb"  # the rule the table rule starts from
SIGMA = 1.0  # initial search step, in natural-log units of each gain and of the homeostasis rate
LOG_BOUNDS = (math.log(1e-3), math.log(1e3))  # of a gain; the homeostasis rate is at most 1
RATE_FLOOR = 1e-3  # the search starts here if homeostasis is configured at rate 0 (log scale has no 0)


class Scaled(Rule):
    """A rule whose change of each matrix is multiplied by that matrix's gain (a wrapper, not a named rule)."""

    def __init__(self, rule: Rule, gains: tuple[float, ...]) -> None:
        super().__init__()
        self.rule, self.gains = rule, dict(zip(MATRICES, gains, strict=True))
        self.changes_weights = rule.changes_weights

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        return self.rule.delta(name, s).mul_(self.gains[name])


def decode(x: np.ndarray) -> tuple[tuple[float, ...], float]:
    """(gains of M_in, M_rec, M_out; homeostasis rate) of a search point (log gains, log rate)."""
    low, high = LOG_BOUNDS
    gains = tuple(float(math.exp(min(max(v, low), high))) for v in x[:3])
    return gains, float(math.exp(min(x[3], 0.0)))


def start(homeostasis_rate: float) -> np.ndarray:
    """Hebb as configured: unit gains and the configured homeostasis rate (at least RATE_FLOOR)."""
    return np.array([0.0, 0.0, 0.0, math.log(max(homeostasis_rate, RATE_FLOOR))])


def generations(budget: int, popsize: int) -> int:
    """Whole generations of `popsize` candidates that spend at least `budget` evaluations."""
    return max(1, -(-budget // popsize))


def search(
    score: Callable[[tuple[float, ...], float], dict[str, float]],
    homeostasis_rate: float,
    budget: int,
    seed: int,
) -> list[dict]:
    """CMA-ES on the mean of `score`'s views: every candidate's row (generation, gains, rate, view, score)."""
    import cma  # imported here: only the stage that searches pays for it

    strategy = cma.CMAEvolutionStrategy(
        start(homeostasis_rate),
        SIGMA,
        # cma's seed 0 means "from the clock": offset, as outer/es.py does
        {"seed": seed + 1, "verbose": -9, "CMA_diagonal": False},
    )
    rows = []
    for generation in range(generations(budget, strategy.popsize)):
        points = strategy.ask()
        fitness = []
        for x in points:
            gains, rate = decode(x)
            views = score(gains, rate)
            fitness.append(-float(np.mean(list(views.values()))))
            for view, value in views.items():
                rows.append(
                    {
                        "generation": generation,
                        **{f"gain_{m}": g for m, g in zip(MATRICES, gains, strict=True)},
                        "homeostasis_rate": rate,
                        "view": view,
                        "score": value,
                    }
                )
        strategy.tell(points, fitness)
    return rows


def best(rows: list[dict], view: str) -> tuple[tuple[float, ...], float]:
    """The (gains, homeostasis rate) of the best candidate on `view` (the first of ties)."""
    top = max((r for r in rows if r["view"] == view), key=lambda r: r["score"])
    return tuple(top[f"gain_{m}"] for m in MATRICES), top["homeostasis_rate"]
