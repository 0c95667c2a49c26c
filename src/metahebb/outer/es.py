"""`es`: CMA-ES over a rule's parameters, judged by networks trained from scratch by each candidate.

The paper's one-step objective judges a rule by one update of a fixed network. Here a candidate
theta trains fresh k-cap RNNs for the whole inner schedule (`es.epochs` passes over the inner,
unlabelled part of the training points), and its fitness is the meta-objective of the trained
networks on the validation part (never the test points). No gradient passes through training,
so the hard k-cap, long schedules and non-differentiable objectives (`labels_acc`) are all fine.

Why CMA-ES from the `cma` package: rules worth searching this way have ~10^2 parameters, where
CMA-ES learns the search distribution's covariance (scale and correlations of table entries and
log step sizes) that a plain antithetic ES would have to be tuned for by hand; the package is
maintained and seeded. The search starts at the rule's initial parameters (for `table`, exactly
Hebb with homeostasis) with one step size `sigma`.

Batched: a generation's C candidates x N inner networks (`networks_per_dataset` per meta-training
dataset) are one population of C*N networks; `CandidateRule` maps the rule over the candidates'
parameters (natively for `table`, else with vmap), so the hot loop has no Python loop over candidates
or networks, and each epoch's batches are gathered in one go. All candidates of a
generation share the same fresh networks, batch orders and labelled draws (common random numbers:
their differences are the rule's, not the draw's); each generation draws new ones from the seed.

The data are the meta-training datasets' split (the same every generation), or a task
distribution (`metahebb.tasks`) that draws fresh tasks for each generation from the same seed.

The returned theta is CMA-ES's final mean, not the best single evaluation, which is biased by the
luck of its draw. A candidate whose networks diverge (non-finite fitness) ranks last.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from metahebb.errors import DivergenceError
from metahebb.kcap_rnn import Network, forward, init_network
from metahebb.meta_data import FixedTasks, MetaData, SplitData, Tasks, split_data
from metahebb.objectives import OBJECTIVES, ObjectiveBatch, objective_loss
from metahebb.objectives.labels import labelled_first
from metahebb.outer.base import FromGroups, MetaResult
from metahebb.outer.population import CandidateRule, flatten, unflatten
from metahebb.params import ESParams, KCapRNNParams, MetaParams, StabiliserParams
from metahebb.plasticity import plastic_step
from metahebb.rules import Rule
from metahebb.runtime import generator
from metahebb.stabilisers import prepare

log = logging.getLogger("meta_train")

DIVERGED = 1e6  # fitness of a candidate whose networks' objective is not finite (ranks it last)


class Fitness:
    """Scores many candidate thetas of one rule at once: lower is better."""

    def __init__(
        self,
        rule: Rule,
        data: MetaData | Tasks,
        rnn: KCapRNNParams,
        stab: StabiliserParams,
        meta: MetaParams,
        es: ESParams,
        device: torch.device | str = "cpu",
    ) -> None:
        self.rule, self.rnn, self.stab, self.meta, self.es, self.device = rule, rnn, stab, meta, es, device
        fixed = isinstance(data, MetaData)
        self.tasks = FixedTasks(split_data(data, meta.validation_fraction, meta.seed)) if fixed else data
        self.objective = OBJECTIVES[meta.objective]
        if fixed:  # known now (benchmarks read them); a distribution's come with each draw
            self.parts = self.tasks.parts
            self._sizes(self.parts)

    def _sizes(self, parts: SplitData) -> None:
        datasets = len(parts.inner)
        self.which = [
            d for _ in range(self.es.networks_per_dataset) for d in range(datasets)
        ]  # network -> dataset
        self.inner_size = min(len(x) for x in parts.inner)
        self.val_size = min(len(x) for x in parts.val_x)
        self.batch = min(self.es.batch_size, self.inner_size)

    def fit_points(self) -> int:
        if self.objective.uses_labels:
            return self.meta.objective_labels
        return self.val_size // 2  # ridge: fit on one half, score on the other (`paper` ignores it)

    @torch.no_grad()
    def __call__(self, candidates: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Fitness (C,) of C parameter vectors (C, D); draws this round's networks and orders from `gen`."""
        self.parts = self.tasks.draw(gen)  # the same data every call, or fresh tasks (`metahebb.tasks`)
        self._sizes(self.parts)
        c, n = len(candidates), len(self.which)
        rule = CandidateRule(self.rule, unflatten(self.rule, candidates.to(self.device)), n)
        dims = self.parts.inner[0].shape[1]
        fresh = prepare(init_network(n, dims, self.rnn, gen), self.rnn, self.stab)
        net = Network(
            *(getattr(fresh, f).repeat(c, 1, 1).to(self.device) for f in ("w_in", "w_rec", "w_out", "h"))
        )
        steps = self.inner_size // self.batch
        for _ in range(self.es.epochs):
            orders = [torch.randperm(len(self.parts.inner[d]), generator=gen) for d in self.which]
            for x in self._epoch_batches(orders, steps, c):
                net, _ = plastic_step(net, x, rule, self.rnn, self.stab)
        orders = [self._score_order(d, gen) for d in self.which]
        x = torch.stack([self.parts.val_x[d][o] for d, o in zip(self.which, orders, strict=True)])
        y = torch.stack([self.parts.val_y[d][o] for d, o in zip(self.which, orders, strict=True)])
        batch = ObjectiveBatch(
            x.repeat(c, 1, 1).to(self.device),
            self.fit_points(),
            y.repeat(c, 1).to(self.device) if self.objective.uses_labels else None,
        )
        loss = objective_loss(self.meta.objective, forward(net, batch.x, self.rnn), batch, self.meta)
        loss = loss.reshape(c, n).mean(dim=1).double().cpu()
        return torch.where(torch.isfinite(loss), loss, torch.full_like(loss, DIVERGED))

    def _epoch_batches(self, orders: list[torch.Tensor], steps: int, candidates: int) -> torch.Tensor:
        """(steps, C*N, B, n): every batch of one epoch, gathered at once; [step] is contiguous.

        Batch `step` of network i is its points orders[i][step*B:(step+1)*B], the same for every
        candidate (network c*N + i), as a per-step stack of the networks' batches repeated C times.
        """
        used = steps * self.batch
        x = torch.stack([self.parts.inner[d][o[:used]] for d, o in zip(self.which, orders, strict=True)])
        x = x.view(len(self.which), steps, self.batch, -1).transpose(0, 1)  # (steps, N, B, n)
        return x.repeat(1, candidates, 1, 1).to(self.device)

    def _score_order(self, d: int, gen: torch.Generator) -> torch.Tensor:
        if self.objective.uses_labels:
            return labelled_first(self.parts.val_y[d], self.meta.objective_labels, gen)[: self.val_size]
        return torch.randperm(len(self.parts.val_y[d]), generator=gen)[: self.val_size]


def log_generation(done: int, total: int, history: dict[str, list[float]], elapsed: float) -> None:
    log.info(
        "generation %d/%d, median fitness %.4f, sigma %.4f, elapsed %.0fs, eta %.0fs",
        done,
        total,
        history["fitness_median"][-1],
        history["sigma"][-1],
        elapsed,
        elapsed / done * (total - done),  # mean seconds per generation so far
    )


def es_train(
    data: MetaData | Tasks,
    rule: Rule,
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    meta: MetaParams,
    es: ESParams,
    device: torch.device | str = "cpu",
    log_every: int = 25,
) -> MetaResult:
    """CMA-ES on the rule's parameters; reproducible from `es.seed` (CMA-ES's own draws included)."""
    import cma  # imported here: only the `es` optimiser needs it

    fitness = Fitness(rule, data, rnn, stab, meta, es, device)
    start = flatten(rule).numpy()
    strategy = cma.CMAEvolutionStrategy(
        start,
        es.sigma,
        # cma's seed 0 means "from the clock"; every seed here is offset so 0 is a seed like any other
        {"popsize": es.population, "seed": es.seed + 1, "verbose": -9, "CMA_diagonal": False},
    )
    gen = generator(es.seed)
    history: dict[str, list[float]] = {
        "fitness_mean": [],
        "fitness_best": [],
        "fitness_median": [],
        "sigma": [],
    }
    started = time.perf_counter()
    for g in range(es.generations):
        candidates = np.asarray(strategy.ask())
        values = fitness(torch.from_numpy(candidates), gen).numpy()
        strategy.tell(list(candidates), values.tolist())
        finite = values[values < DIVERGED]
        history["fitness_mean"].append(float(finite.mean()) if len(finite) else DIVERGED)
        history["fitness_best"].append(float(values.min()))
        history["fitness_median"].append(float(np.median(values)))
        history["sigma"].append(float(strategy.sigma))
        if log_every and ((g + 1) % log_every == 0 or g + 1 == es.generations):
            log_generation(g + 1, es.generations, history, time.perf_counter() - started)
    # Start and end judged on the same fresh draw, with more networks than a generation's.
    mean = torch.from_numpy(np.asarray(strategy.result.xfavorite))[None]
    judge = Fitness(
        rule, data, rnn, stab, meta, replace(es, networks_per_dataset=8 * es.networks_per_dataset), device
    )
    first, final = judge(torch.cat([torch.from_numpy(start)[None], mean]), generator(es.seed + 1)).tolist()
    if final >= DIVERGED:
        raise DivergenceError(f"meta_train es: the final rule's networks diverge (seed {es.seed})")
    theta = {k: v[0].detach().cpu().clone() for k, v in unflatten(rule, mean).items()}
    hist = {k: np.asarray(v) for k, v in history.items()}
    summary = {"fitness_start": first, "fitness_final": final, "sigma_final": float(strategy.sigma)}
    return MetaResult(theta, hist, summary)


@dataclass(frozen=True)
class ESOptimiser(FromGroups):
    """CMA-ES over whole inner trainings; reads `es`, and `meta_train`'s objective and split."""

    def train(self, rule: Rule, data: MetaData | Tasks, checkpoint: str | Path | None = None) -> MetaResult:
        """(No checkpoints: a run is minutes, and the fan-out reruns only the runs it lost.)"""
        g = self.groups
        return es_train(data, rule, g.rnn, g.stab, g.meta, g.es, self.device, self.log_every // 2)
