"""Frozen-rule training: fresh k-cap RNNs learn from unlabelled points by a plasticity rule alone.

One network per seed; the seeds run side by side as a population, each on its own shuffle of
the training points. Networks and shuffles are drawn on the CPU from per-seed generators and
then moved to the device, so a seed's run does not depend on the other seeds or the device's
random number generator (on CUDA the arithmetic, not the draws, may differ in the last bits). Nothing here computes a gradient: the loop runs under `torch.no_grad()`.
Batch size 1 is the paper's per-sample mode; larger batches average the rule's change over
the batch, as meta-training does, so the default matches the meta-training batch.

Inputs are standardised with training-set statistics (`plasticity.standardise`), as in
meta-training; each update is `plasticity.plastic_step`, the step every loop shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from metahebb.errors import DivergenceError, nonfinite_members
from metahebb.kcap_rnn import Network, Trace, forward, init_network, reconstruction_loss
from metahebb.latents import Views
from metahebb.params import HebbianParams, KCapRNNParams, StabiliserParams
from metahebb.plasticity import plastic_step, standardise
from metahebb.rules import Rule
from metahebb.runtime import generator
from metahebb.stabilisers import prepare


def encode(net: Network, x: torch.Tensor, rnn: KCapRNNParams) -> Trace:
    """Hard k-cap pass of the same points (N,n) through every network."""
    return forward(net, x.expand(net.h.shape[0], *x.shape), rnn)


def collapse_stats(states: np.ndarray, collapse_codes: int) -> dict[str, float]:
    """How many distinct codes a network uses over a point set (N,T+1,m), and how many neurons fire."""
    last = states[:, -1]
    return {
        "distinct_codes_last": float(len(np.unique(last, axis=0))),
        "distinct_codes_concat": float(len(np.unique(states.reshape(len(states), -1), axis=0))),
        "active_fraction_last": float((last.max(axis=0) > 0).mean()),
        "active_fraction_any": float((states.max(axis=(0, 1)) > 0).mean()),
        "collapsed": float(len(np.unique(last, axis=0)) < collapse_codes),
    }


@dataclass(frozen=True)
class HebbianResult:
    loss: np.ndarray  # (epochs + 1, S): training-set MSE per seed, before training and after each epoch
    views: Views  # "last" and "concat": (train (S,N,H), test (S,N,H))
    collapse: list[dict[str, float]]  # per seed, on the test points
    network: Network


@torch.no_grad()
def train_hebbian(
    x: np.ndarray,
    is_test: np.ndarray,
    rule: Rule,
    rnn: KCapRNNParams,
    stab: StabiliserParams,
    params: HebbianParams,
    name: str = "",
    device: torch.device | str = "cpu",
) -> HebbianResult:
    """Train one fresh network per seed on the training points of x (N,n) with the frozen `rule`.

    Runs on `device` (the rule is moved there); the returned network is on the CPU.
    """
    x = torch.from_numpy(standardise(x, is_test)).to(device)
    test_mask = torch.from_numpy(is_test).to(device)
    train, test = x[~test_mask], x[test_mask]
    n_train, n = train.shape
    nets = [init_network(1, n, rnn, generator(seed)) for seed in params.seeds]
    net = prepare(Network.cat(nets), rnn, stab).to(device)
    rule = rule.to(device)
    shufflers = [generator(10_000 + seed) for seed in params.seeds]
    batch = min(params.batch_size, n_train)
    losses = [reconstruction_loss(encode(net, train, rnn).output, train)]
    for epoch in range(params.epochs):
        order = torch.stack([torch.randperm(n_train, generator=g) for g in shufflers]).to(device)  # (S, N)
        for step, start in enumerate(range(0, n_train - batch + 1, batch)):
            net, _ = plastic_step(net, train[order[:, start : start + batch]], rule, rnn, stab)
            bad = nonfinite_members(net.w_in, net.w_rec, net.w_out, net.h)
            if bad:  # a rule's NaN passes clipping and normalisation, so it shows in the weights
                raise DivergenceError(
                    f"train_hebbian {name}: weights not finite after update {step + 1} of epoch "
                    f"{epoch + 1}, seed {params.seeds[bad[0]]}"
                )
        losses.append(reconstruction_loss(encode(net, train, rnn).output, train))
        bad = [s for s, v in zip(params.seeds, losses[-1].tolist(), strict=True) if not np.isfinite(v)]
        if bad:
            raise DivergenceError(
                f"train_hebbian {name}: loss is not finite at epoch {epoch + 1}, seed {bad[0]}"
            )
    states = {
        split: encode(net, pts, rnn).states.cpu().numpy() for split, pts in (("train", train), ("test", test))
    }
    views = {
        "last": (states["train"][:, :, -1], states["test"][:, :, -1]),
        "concat": tuple(s.reshape(*s.shape[:2], -1) for s in (states["train"], states["test"])),
    }
    collapse = [collapse_stats(s, params.collapse_codes) for s in states["test"]]
    return HebbianResult(torch.stack(losses).cpu().numpy(), views, collapse, net.to("cpu"))


def train_summary(result: HebbianResult, seeds: list[int]) -> dict:
    """Final loss and collapse statistics: aggregated for `dvc metrics diff`, then per seed."""
    stats = result.collapse
    return {
        "final_loss": float(result.loss[-1].mean()),
        "collapsed_runs": int(sum(s["collapsed"] for s in stats)),
        "distinct_codes_last": float(np.mean([s["distinct_codes_last"] for s in stats])),
        "active_fraction_last": float(np.mean([s["active_fraction_last"] for s in stats])),
        "seeds": {str(seed): s for seed, s in zip(seeds, stats, strict=True)},
    }
