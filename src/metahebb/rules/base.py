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
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from metahebb.kcap_rnn import Network, Trace

MATRICES = ("in", "rec", "out")


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


class Rule(nn.Module):
    """A plasticity rule; learned rules hold their theta as module parameters.

    A rule's deltas are fresh tensors the caller may overwrite. `changes_weights = False` says the
    rule never changes a weight (`none`), so training skips the update instead of adding zeros.
    """

    meta_trained: bool = False
    changes_weights: bool = True

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, synapses: dict[str, Synapses]) -> dict[str, torch.Tensor]:
        return {name: self.delta(name, s) for name, s in synapses.items()}
