"""The one interface of a plasticity rule: neuron-local signals in, a change of every synapse out.

For each weight matrix ("in", "rec", "out") a rule sees a `Synapses` record: the firing
history of every pre-synaptic neuron j, (P,B,Sp,J), and of every post-synaptic neuron i,
(P,B,Sq,I), for P networks and B samples, and the current weights (P,I,J). It returns the change
of all P x I x J synapses at once, averaged over the batch; nothing loops over synapses or samples.

What each matrix's neurons see (`synapses_of`):

- "in":  pre = the input x_0 with its bias (real, one step); post = x_1..x_{T+1}.
- "rec": pre = x_1..x_T; post = x_2..x_{T+1}, so step s of pre drives step s of post.
- "out": pre = x_{T+1}; post = [error_i, target_i] of output neuron i, where
  error_i = x_i - output_i. Both are known at the output neuron itself (its own input
  component as a teaching signal, and its own activity), so the rule stays neuron-local.

Classical rules pair pre step s with post step s for s < min(Sp, Sq): M_in learns from
(x_0, x_1), M_rec from (x_t, x_{t+1}), and M_out from (x_{T+1}, error), i.e. the delta rule;
with the target instead, a Hebbian readout would grow without bound.

A rule with learned parameters also says what it learned: `tabulate` gives the change of one
synapse for every pair of (pre, post) histories, the heatmap `figures.rule_tables` draws. A fixed
rule (`none`, `hebb`, `oja`) is its formula and returns None.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import torch
from torch import nn

from metahebb.kcap_rnn import Network, Trace

MATRICES = ("in", "rec", "out")
BINARY = {"in": (False, True), "rec": (True, True), "out": (True, False)}  # (pre, post) binary, per matrix


@dataclass(frozen=True)
class Synapses:
    """Neuron-local signals of one matrix; `*_binary` says which sides are k-cap firing."""

    pre: torch.Tensor
    post: torch.Tensor
    weight: torch.Tensor
    pre_binary: bool
    post_binary: bool


def signal_steps(T: int) -> dict[str, tuple[int, int]]:
    """(Sp, Sq): history lengths of the pre and post side of each matrix."""
    return {"in": (1, T + 1), "rec": (T, T), "out": (1, 2)}


def synapses_of(net: Network, trace: Trace, x: torch.Tensor) -> dict[str, Synapses]:
    """The signals every rule reads, from one pass `trace` of inputs x (P,B,n)."""
    s = trace.states
    return {
        "in": Synapses(trace.x0[:, :, None, :], s, net.w_in, pre_binary=False, post_binary=True),
        "rec": Synapses(s[:, :, :-1], s[:, :, 1:], net.w_rec, pre_binary=True, post_binary=True),
        "out": Synapses(
            s[:, :, -1:],
            torch.stack([x - trace.output, x], dim=2),
            net.w_out,
            pre_binary=True,
            post_binary=False,
        ),
    }


def paired_hebb(s: Synapses) -> torch.Tensor:
    """sum_s post_s pre_s^T, averaged over the batch: the correlation term of classical rules."""
    steps, batch = min(s.pre.shape[2], s.post.shape[2]), s.pre.shape[1]
    total = torch.einsum("pbsi,pbsj->pij", s.post[:, :, :steps], s.pre[:, :, :steps])
    return total.div_(batch) if batch > 1 else total  # in place: a fresh (P,I,J) tensor


class RuleTable(TypedDict):
    """One matrix's synapse change per firing pattern: rows post histories, columns pre histories."""

    values: np.ndarray  # (len(post), len(pre)), float64
    pre: list[str]  # "1,0,1": a history, first step first
    post: list[str]


def histories(steps: int, binary: bool, real_values: tuple[float, ...]) -> torch.Tensor:
    """Every history of `steps` steps a table shows: all 0/1 patterns, or all combinations of `real_values`.

    (len, steps), first step most significant, as `learned.bit_patterns` orders them.
    """
    return torch.tensor(list(itertools.product((0.0, 1.0) if binary else real_values, repeat=steps)))


def table_histories(name: str, T: int, real_values: tuple[float, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """The (pre, post) `histories` of matrix `name`'s table, for RNNs unrolled T steps."""
    (sp, sq), (pre_binary, post_binary) = signal_steps(T)[name], BINARY[name]
    return histories(sp, pre_binary, real_values), histories(sq, post_binary, real_values)


def rule_table(values: torch.Tensor, pre: torch.Tensor, post: torch.Tensor) -> RuleTable:
    """A `RuleTable` from values (post, pre) and the histories (pre, steps), (post, steps) they are of."""

    def label(history: torch.Tensor) -> str:
        return ",".join(f"{v:g}" for v in history.tolist())

    return {
        "values": values.cpu().numpy().astype(np.float64),
        "pre": [label(p) for p in pre],
        "post": [label(q) for q in post],
    }


class Rule(nn.Module):
    """A plasticity rule; learned rules hold their theta as module parameters.

    A rule's deltas are fresh tensors the caller may overwrite. `changes_weights = False` says the
    rule never changes a weight (`none`), so training skips the update instead of adding zeros.
    """

    changes_weights: bool = True

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, synapses: dict[str, Synapses]) -> dict[str, torch.Tensor]:
        return {name: self.delta(name, s) for name, s in synapses.items()}

    def tabulate(self, name: str, real_values: tuple[float, ...] = (-1.0, 0.0, 1.0)) -> RuleTable | None:
        """Matrix `name`'s synapse change for every (pre, post) history, or None for a fixed rule.

        A binary side (k-cap firing) takes every 0/1 pattern, a real-valued side (the input x_0,
        the output error and target) every combination of `real_values`. Rules with learned
        parameters override this; a fixed rule has nothing learned to show.
        """
        return None
