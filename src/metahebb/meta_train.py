"""Meta-training (section 4.4): Adam on theta through the loss of networks after the rule's update.

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

Checkpoints (`checkpoint_every` > 0 and a `checkpoint` path): every N steps the whole state of
the loop (theta, Adam's state, the inner networks and their ages, the generator, the history)
is written atomically; a rerun with the same inputs resumes from it and ends with the same theta,
bit for bit on the CPU, as a run never interrupted. A checkpoint of other inputs is ignored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch

from metahebb.artifacts import save_torch
from metahebb.errors import DivergenceError, nonfinite_members
from metahebb.kcap import kcap, relaxed_kcap
from metahebb.kcap_rnn import Network, forward, init_network
from metahebb.meta_data import MetaData, split_data
from metahebb.objectives import OBJECTIVES, ObjectiveBatch, objective_loss
from metahebb.objectives.labels import labelled_first
from metahebb.params import KCapRNNParams, MetaParams, StabiliserParams
from metahebb.rules import Rule, synapses_of
from metahebb.runtime import generator
from metahebb.stabilisers import apply_update, prepare, update_thresholds

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
        trace = forward(cur, x, rnn, kcap if i == 0 else activation)
        if rule.changes_weights:
            cur = apply_update(cur, rule(synapses_of(cur, trace, x)), rnn, stab)
        cur = update_thresholds(cur, trace.states, rnn, stab)
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


def fingerprint(
    data: dict[str, np.ndarray], rule: Rule, rnn: KCapRNNParams, stab: StabiliserParams, params: MetaParams
) -> str:
    """Hash of everything that decides a run's theta, so a checkpoint resumes only its own run."""
    h = hashlib.sha256()
    loop = {k: v for k, v in dataclasses.asdict(params).items() if k != "checkpoint_every"}
    h.update(repr((loop, dataclasses.asdict(rnn), dataclasses.asdict(stab), type(rule).__name__)).encode())
    for name, x in data.items():
        h.update(name.encode() + repr(x.shape).encode() + np.ascontiguousarray(x).tobytes())
    for name, t in rule.state_dict().items():
        h.update(name.encode() + t.detach().cpu().numpy().tobytes())
    return h.hexdigest()


def load_checkpoint(path: Path, key: str) -> dict | None:
    """The saved state at `path` if it belongs to the run `key`; None (a fresh start) otherwise."""
    if not path.exists():
        return None
    try:
        state = torch.load(path, weights_only=True)
    except Exception as err:  # an unreadable checkpoint costs the steps since the start, nothing else
        log.warning("%s: unreadable (%s); starting from step 0", path, type(err).__name__)
        return None
    if state.get("fingerprint") != key:
        log.warning("%s: from other params or data; starting from step 0", path)
        return None
    log.info("%s: resuming after step %d", path, state["step"])
    return state


@dataclass(frozen=True)
class MetaResult:
    theta: dict[str, torch.Tensor]
    history: dict[str, np.ndarray]  # "meta_loss" and "meta_loss_<dataset>", one value per step
    summary: dict[str, float]


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
    names = list(data)
    pools = [torch.from_numpy(data[d]) for d in names]
    labelled = OBJECTIVES[params.objective].uses_labels
    if labelled:  # inner networks learn on the inner part; the objective's labels come from validation
        if labels is None:
            raise ValueError(f"meta_train: objective {params.objective!r} needs the training labels")
        parts = split_data(MetaData(data, labels), params.validation_fraction, params.seed)
        pools = parts.inner
    n = pools[0].shape[1]
    pop = params.population
    which = [p % len(names) for p in range(pop)]  # the dataset each inner network lives on
    gen = generator(params.seed)
    saving = checkpoint is not None and params.checkpoint_every > 0
    seen = {**data, **{f"labels_{d}": y for d, y in (labels or {}).items()}} if labelled else data
    key = fingerprint(seen, rule, rnn, stab, params) if saving else ""
    rule = rule.to(device)
    optimiser = torch.optim.Adam(rule.parameters(), lr=params.lr)

    def fresh(count: int) -> Network:
        return prepare(init_network(count, n, rnn, gen), rnn, stab).to(device)

    def draw() -> torch.Tensor:
        return torch.stack(
            [pools[d][torch.randint(len(pools[d]), (params.batch_size,), generator=gen)] for d in which]
        ).to(device)

    def draw_labelled() -> tuple[torch.Tensor, torch.Tensor]:
        """Per network: a balanced labelled draw (objective_labels points) and batch_size points to score."""
        size = params.objective_labels + params.batch_size
        orders = [labelled_first(parts.val_y[d], params.objective_labels, gen)[:size] for d in which]
        x = torch.stack([parts.val_x[d][o] for d, o in zip(which, orders, strict=True)])
        y = torch.stack([parts.val_y[d][o] for d, o in zip(which, orders, strict=True)])
        return x.to(device), y.to(device)

    net = fresh(pop)
    age = torch.tensor([p * params.reset_every // pop for p in range(pop)])
    history = {"meta_loss": [], **{f"meta_loss_{d}": [] for d in names}}
    first_step = 0
    state = load_checkpoint(Path(checkpoint), key) if saving else None
    if state is not None:
        rule.load_state_dict(state["theta"])
        optimiser.load_state_dict(state["optimiser"])
        net = Network(**state["networks"]).to(device)
        age = state["age"]
        gen.set_state(state["generator"])
        history = state["history"]
        first_step = state["step"]
    for step in range(first_step, params.steps):
        batches = [draw() for _ in range(params.lookahead + 1)]
        y, fit = None, None
        if labelled:
            batches[-1], y = draw_labelled()
            fit = params.objective_labels
        elif params.objective != "paper":
            batches[-1] = torch.cat([batches[-1], draw()], dim=1)  # two halves: ridge fit and score
        losses, stepped = meta_loss(rule, net, batches, rnn, stab, params, y, fit)
        per_dataset = {
            d: losses[[p for p in range(pop) if which[p] == i]].mean() for i, d in enumerate(names)
        }
        bad = nonfinite_members(
            losses.detach(), stepped.w_in.detach(), stepped.w_rec.detach(), stepped.w_out.detach()
        )
        if bad:
            what = "meta-loss" if not torch.isfinite(losses[bad[0]]) else "inner weights after the update"
            raise DivergenceError(
                f"meta_train: {what} not finite at step {step + 1} on dataset {names[which[bad[0]]]} "
                f"(inner network {bad[0]}, seed {params.seed})"
            )
        loss = losses.mean()
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(rule.parameters(), params.grad_clip)
        optimiser.step()
        for p in rule.parameters():
            if not torch.isfinite(p).all():
                raise DivergenceError(
                    f"meta_train: theta is not finite after step {step + 1} "
                    f"(datasets {', '.join(names)}, seed {params.seed})"
                )

        # Inner networks advance by the update they just made, and the oldest are reborn.
        net = stepped.detach()
        age += 1
        old = age >= params.reset_every
        if old.any():
            net = _rebirth(net, old.to(device), fresh(int(old.sum())))
            age[old] = 0
        history["meta_loss"].append(loss.item())
        for d, v in per_dataset.items():
            history[f"meta_loss_{d}"].append(v.item())
        if saving and (step + 1) % params.checkpoint_every == 0 and step + 1 < params.steps:
            save_torch(
                checkpoint,
                {
                    "fingerprint": key,
                    "step": step + 1,
                    "theta": {k: v.detach().cpu() for k, v in rule.state_dict().items()},
                    "optimiser": optimiser.state_dict(),
                    "networks": {f: getattr(net, f).cpu() for f in ("w_in", "w_rec", "w_out", "h")},
                    "age": age,
                    "generator": gen.get_state(),
                    "history": history,
                },
            )
        if log_every and (step + 1) % log_every == 0:
            log.info(
                "step %d/%d meta-loss %.4f",
                step + 1,
                params.steps,
                np.mean(history["meta_loss"][-log_every:]),
            )
    hist = {k: np.asarray(v) for k, v in history.items()}
    tail = max(1, params.steps // 10)
    summary = {
        "meta_loss_first": float(hist["meta_loss"][:tail].mean()),
        "meta_loss_final": float(hist["meta_loss"][-tail:].mean()),
        **{f"{k}_final": float(v[-tail:].mean()) for k, v in hist.items() if k != "meta_loss"},
    }
    for name in getattr(rule, "log_step", {}):
        summary[f"step_{name}"] = float(rule.step(name).item())
    theta = {k: v.detach().cpu().clone() for k, v in rule.state_dict().items()}
    return MetaResult(theta, hist, summary)
