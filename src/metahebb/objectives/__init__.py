"""Meta-objectives: how a rule is judged after it has trained networks, behind one signature.

An objective is `score(trace, batch, params) -> (P,)`, lower is better, where `trace` is a pass of
the networks over `batch.x` (P,B,n) and the first `batch.fit` points of each network's batch are
the ones a closed-form readout is fitted on (the rest score it). Objectives that need labels read
`batch.y`, which callers fill only with labels of validation points of the training split: the
test points' labels never reach meta-training (tests/test_objectives.py shuffles them to check).

| objective  | labels | what it scores                                                        |
|------------|--------|-----------------------------------------------------------------------|
| paper      | no     | reconstruction of x by the rule's own readout M_out (the paper)       |
| ridge      | no     | reconstruction of x by a ridge map fitted on the code (label-free)    |
| both       | no     | paper + ridge                                                         |
| labels_ce  | yes    | cross-entropy of a ridge classifier fitted on `objective_labels` points |
| labels_acc | yes    | error rate of that classifier (not differentiable: `es` only)         |
| labels_kernel | yes | error rate of an RBF kernel classifier on all states, as the report judges (`es` only) |

A new objective is one function in a file here plus one line in `OBJECTIVES`, which says what
batch it scores (`batch`): "single" (the fresh batch), "halves" (a second fresh batch appended:
one half fits a readout, the other scores it) or "labelled" (validation points, the first
`objective_labels` of them labelled, then `batch_size` to score); and whether it has a gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from metahebb.kcap_rnn import Trace
from metahebb.objectives.kernel import labels_kernel
from metahebb.objectives.labels import labels_acc, labels_ce
from metahebb.objectives.reconstruction import both, paper, ridge
from metahebb.params import MetaParams


@dataclass(frozen=True)
class ObjectiveBatch:
    """Points (P,B,n) each network is scored on; labels (P,B) only for objectives that use them."""

    x: torch.Tensor
    fit: int
    y: torch.Tensor | None = None


BATCHES = ("single", "halves", "labelled")


@dataclass(frozen=True)
class Objective:
    score: Callable[[Trace, ObjectiveBatch, MetaParams], torch.Tensor]
    batch: str = "halves"  # one of BATCHES: what the optimiser draws for it to score
    differentiable: bool = True  # False: only a gradient-free optimiser (`es`) can use it

    @property
    def uses_labels(self) -> bool:
        return self.batch == "labelled"


OBJECTIVES: dict[str, Objective] = {
    "paper": Objective(paper, batch="single"),
    "ridge": Objective(ridge),
    "both": Objective(both),
    "labels_ce": Objective(labels_ce, batch="labelled"),
    "labels_acc": Objective(labels_acc, batch="labelled", differentiable=False),
    "labels_kernel": Objective(labels_kernel, batch="labelled", differentiable=False),
}


def objective_loss(name: str, trace: Trace, batch: ObjectiveBatch, params: MetaParams) -> torch.Tensor:
    """Per-network loss (P,) of objective `name`."""
    objective = OBJECTIVES[name]
    if objective.uses_labels and batch.y is None:
        raise ValueError(f"objective {name!r} needs labels and the batch has none")
    return objective.score(trace, batch, params)


__all__ = ["OBJECTIVES", "Objective", "ObjectiveBatch", "objective_loss"]
