"""`gradient` (section 4.4): Adam on theta through the loss of networks after the rule's update.

    loss(theta) = || (M + f_theta(signals of M on batch a))(x) - x ||^2   on a fresh batch x

The inner weights M are constants (the paper's one-step objective); only the update carries
theta. `lookahead` K > 1 applies K updates before the loss, differentiating through all of them.
k-cap enters the gradient through a relaxation (straight-through by default). The first update
reads the hard k-cap codes of the constant network; later lookahead updates read relaxed ones
(binary for `ste`, soft for `soft`) so the gradient also flows through what the rule sees.

The rule must improve networks from scratch, not one network: a population of inner networks,
spread over the meta-training datasets, is trained by the current rule alongside theta, and each
is re-initialised every `reset_every` updates, at staggered times so all ages are present.

Objectives (`objective`, src/metahebb/objectives/): `paper` scores the rule's own readout M_out.
It gives M_in and M_rec little signal (a delta rule for M_out already lowers it), so `ridge`
instead scores the hidden code itself: a closed-form ridge readout of x from [x_{T+1}, 1] fitted
on one half of the fresh batch and scored on the other (differentiable in the code). `both` adds
the two. `labels_ce` scores a ridge classifier fitted on a few labelled validation points; then
the inner networks learn on the inner part of the training points only (`meta_data.py`).

Collapse penalty (`collapse_penalty` > 0, added to any objective): the squared deviation of each
neuron's firing rate over the fresh batch from k/m, at every step, after the update, normalised
so a uniform code scores 0 and one fixed code scores 1. Inner networks are rolled forward by the
rule for up to `reset_every` real updates, so the penalty judges the states the rule leads to,
not only its first step: the one-step objectives alone reward rules that collapse over time.

Checkpoints (`checkpoint_every` > 0 and a `checkpoint` path): the whole state of the loop is saved
every N steps and a rerun resumes from it, bit for bit (`checkpoint.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch

from metahebb.errors import DivergenceError, nonfinite_members
from metahebb.kcap import kcap, relaxed_kcap
from metahebb.kcap_rnn import Network, forward, init_network
from metahebb.meta_data import MetaData, split_data
from metahebb.objectives import OBJECTIVES, ObjectiveBatch, objective_loss
from metahebb.objectives.labels import labelled_first
from metahebb.outer.base import FromGroups, MetaResult
from metahebb.outer.checkpoint import fingerprint, resume, save
from metahebb.params import KCapRNNParams, MetaParams, StabiliserParams
from metahebb.plasticity import plastic_step
from metahebb.rules import Rule
from metahebb.runtime import generator
from metahebb.stabilisers import prepare

log = logging.getLogger("meta_train")


def collapse_penalty(states: torch.Tensor, k: int) -> torch.Tensor:
    """Per network (P,): mean over neurons and steps of (rate - k/m)^2 / (k/m (1 - k/m)), in [0, 1]."""
    q = k / states.shape[-1]
    rate = states.mean(dim=1)  # (P, T+1, m): firing rate over the batch
    return ((rate - q) ** 2).mean(dim=(1, 2)) / (q * (1 - q))


def meta_loss(
    rule: Rule,
    net: Network,
    batches: list[torch.Tensor],
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    params: MetaParams,
    labels: torch.Tensor | None = None,
    fit: int | None = None,
) -> tuple[torch.Tensor, Network]:
    """Per-network loss (P,) after K = len(batches) - 1 rule updates, and the network after the first.

    The objective `params.objective` scores the last batch; its first `fit` points (default: half)
    fit the objective's readout, and `labels` (P,B) are that batch's labels where it needs them.
    """
    activation = partial(relaxed_kcap, mode=params.relaxation, temperature=params.temperature)
    cur, first = net, None
    for i, x in enumerate(batches[:-1]):
        # The first update reads the constant network, so its signals are the hard k-cap's.
        cur, _ = plastic_step(cur, x, rule, rnn, stab, kcap if i == 0 else activation)
        first = cur if first is None else first
    x = batches[-1]
    trace = forward(cur, x, rnn, activation)
    fit = x.shape[1] // 2 if fit is None else fit
    loss = objective_loss(params.objective, trace, ObjectiveBatch(x, fit, labels), params)
    if params.collapse_penalty > 0:
        loss = loss + params.collapse_penalty * collapse_penalty(trace.states, rnn.k)
    return loss, first


def _rebirth(net: Network, old: torch.Tensor, new: Network) -> Network:
    fields = {}
    for f in ("w_in", "w_rec", "w_out", "h"):
        a = getattr(net, f).clone()
        a[old] = getattr(new, f)
        fields[f] = a
    return Network(**fields)


class Loop:
    """The state of one meta-training run: theta and Adam's state, the inner networks and their
    ages, the one generator every draw comes from, and the history (`checkpoint.py` saves it)."""

    def __init__(self, data, rule, rnn, stab, params, device, labels) -> None:
        self.names, self.rnn, self.stab, self.params, self.device = list(data), rnn, stab, params, device
        self.pools = [torch.from_numpy(data[d]) for d in self.names]
        self.labelled = OBJECTIVES[params.objective].uses_labels
        if self.labelled:  # inner networks learn on the inner part; the objective's labels: validation
            if labels is None:
                raise ValueError(f"meta_train: objective {params.objective!r} needs the training labels")
            self.parts = split_data(MetaData(data, labels), params.validation_fraction, params.seed)
            self.pools = self.parts.inner
        pop = params.population
        self.which = [p % len(self.names) for p in range(pop)]  # the dataset each inner network lives on
        self.gen = generator(params.seed)
        self.rule = rule.to(device)
        self.optimiser = torch.optim.Adam(self.rule.parameters(), lr=params.lr)
        self.net = self.fresh(pop)
        self.age = torch.tensor([p * params.reset_every // pop for p in range(pop)])
        self.history = {"meta_loss": [], **{f"meta_loss_{d}": [] for d in self.names}}
        self.step = 0

    def fresh(self, count: int) -> Network:
        n = self.pools[0].shape[1]
        return prepare(init_network(count, n, self.rnn, self.gen), self.rnn, self.stab).to(self.device)

    def draw(self) -> torch.Tensor:
        size, pools = (self.params.batch_size,), self.pools
        return torch.stack(
            [pools[d][torch.randint(len(pools[d]), size, generator=self.gen)] for d in self.which]
        ).to(self.device)

    def draw_labelled(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per network: a balanced labelled draw (objective_labels points) and batch_size points to score."""
        p, parts = self.params, self.parts
        size = p.objective_labels + p.batch_size
        orders = [labelled_first(parts.val_y[d], p.objective_labels, self.gen)[:size] for d in self.which]
        x = torch.stack([parts.val_x[d][o] for d, o in zip(self.which, orders, strict=True)])
        y = torch.stack([parts.val_y[d][o] for d, o in zip(self.which, orders, strict=True)])
        return x.to(self.device), y.to(self.device)

    def batches(self) -> tuple[list[torch.Tensor], torch.Tensor | None, int | None]:
        """K+1 fresh batches, the last one scored as the objective asks (`Objective.batch`); its
        labels and the number of points its readout is fitted on (None: the objective's default)."""
        batches = [self.draw() for _ in range(self.params.lookahead + 1)]
        if self.labelled:
            batches[-1], y = self.draw_labelled()
            return batches, y, self.params.objective_labels
        if OBJECTIVES[self.params.objective].batch == "halves":
            batches[-1] = torch.cat([batches[-1], self.draw()], dim=1)  # two halves: readout fit and score
        return batches, None, None

    def advance(self) -> None:
        """One Adam step on theta; the inner networks take the update they made, the oldest are reborn."""
        p, step = self.params, self.step + 1
        batches, y, fit = self.batches()
        losses, stepped = meta_loss(self.rule, self.net, batches, self.rnn, self.stab, p, y, fit)
        bad = nonfinite_members(
            losses.detach(), stepped.w_in.detach(), stepped.w_rec.detach(), stepped.w_out.detach()
        )
        if bad:
            what = "meta-loss" if not torch.isfinite(losses[bad[0]]) else "inner weights after the update"
            raise DivergenceError(
                f"meta_train: {what} not finite at step {step} on dataset {self.names[self.which[bad[0]]]} "
                f"(inner network {bad[0]}, seed {p.seed})"
            )
        loss = losses.mean()
        self.optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.rule.parameters(), p.grad_clip)
        self.optimiser.step()
        if not all(torch.isfinite(t).all() for t in self.rule.parameters()):
            raise DivergenceError(
                f"meta_train: theta is not finite after step {step} (datasets {', '.join(self.names)}, seed {p.seed})"
            )
        self.net = stepped.detach()
        self.age += 1
        old = self.age >= p.reset_every
        if old.any():
            self.net = _rebirth(self.net, old.to(self.device), self.fresh(int(old.sum())))
            self.age[old] = 0
        self.history["meta_loss"].append(loss.item())
        for i, d in enumerate(self.names):
            self.history[f"meta_loss_{d}"].append(
                losses[[q for q, w in enumerate(self.which) if w == i]].mean().item()
            )
        self.step = step


def summarise_history(history: dict[str, list[float]], steps: int, rule: Rule) -> dict[str, float]:
    """Mean meta-loss over the first and last tenth of the steps (per dataset too), and step sizes."""
    hist = {k: np.asarray(v) for k, v in history.items()}
    tail = max(1, steps // 10)
    summary = {
        "meta_loss_first": float(hist["meta_loss"][:tail].mean()),
        "meta_loss_final": float(hist["meta_loss"][-tail:].mean()),
        **{f"{k}_final": float(v[-tail:].mean()) for k, v in hist.items() if k != "meta_loss"},
    }
    for name in getattr(rule, "log_step", {}):
        summary[f"step_{name}"] = float(rule.step(name).item())
    return summary


def meta_train(
    data: dict[str, np.ndarray],
    rule: Rule,
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    params: MetaParams,
    log_every: int = 50,
    device: torch.device | str = "cpu",
    checkpoint: str | Path | None = None,
    labels: dict[str, np.ndarray] | None = None,
) -> MetaResult:
    """Train the rule's theta on the standardised training inputs of each dataset in `data`.

    Runs on `device` (the rule is moved there); every random draw (networks, batches) is made on
    the CPU from the one seeded generator and moved, so CPU runs are bit-for-bit reproducible and
    CUDA runs see the same networks and batches. The returned theta is on the CPU.
    With a `checkpoint` path and `params.checkpoint_every` > 0 the run saves and resumes there
    (see the module docstring); the caller deletes the file once the outputs are written.
    `labels` (the training points' labels, per dataset) are read only by label objectives, and only
    on the validation part of each dataset (`meta_train.validation_fraction`).
    """
    loop = Loop(data, rule, rnn, stab, params, device, labels)
    saving = checkpoint is not None and params.checkpoint_every > 0
    if saving:
        seen = {**data, **{f"labels_{d}": y for d, y in (labels or {}).items()}} if loop.labelled else data
        key = fingerprint(seen, rule, rnn, stab, params)
        resume(loop, Path(checkpoint), key)
    while loop.step < params.steps:
        loop.advance()
        if saving and loop.step % params.checkpoint_every == 0 and loop.step < params.steps:
            save(loop, checkpoint, key)
        if log_every and loop.step % log_every == 0:
            recent = np.mean(loop.history["meta_loss"][-log_every:])
            log.info("step %d/%d meta-loss %.4f", loop.step, params.steps, recent)
    theta = {k: v.detach().cpu().clone() for k, v in loop.rule.state_dict().items()}
    hist = {k: np.asarray(v) for k, v in loop.history.items()}
    return MetaResult(theta, hist, summarise_history(loop.history, params.steps, loop.rule))


@dataclass(frozen=True)
class GradientOptimiser(FromGroups):
    """Adam through the rule's updates; reads `meta_train` (and the inner model's groups)."""

    def train(self, rule: Rule, data: MetaData, checkpoint: str | Path | None = None) -> MetaResult:
        g = self.groups
        return meta_train(
            data.x, rule, g.rnn, g.stab, g.meta, self.log_every, self.device, checkpoint, labels=data.y
        )
