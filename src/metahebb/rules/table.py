"""`table`: a plasticity rule that is a lookup table over firing histories.

Firing is binary, so whatever a neuron-local rule computes from the T-step histories of a pre and a
post neuron is a function on 2^T x 2^T patterns: a table. Learning the table directly, rather than
an MLP that fills it (`learned`), leaves no architecture to choose and every entry is readable in
the heatmap `tabulate` draws. M_in has a real pre side (the input x_0), so its rule is one
coefficient per post history times x0_j; M_out has a binary pre side (x_{T+1}) and a real post side
([error_i, target_i]), so its rule is one coefficient per pre bit and post channel.

The table starts exactly at plain Hebb with learning rate `lr`: the rec entry for (post, pre)
patterns is the number of steps where both fire (`paired_hebb` pairs step s of pre with step s of
post), the in coefficient is the first post bit (Hebb pairs x_0 with x_1 only), and the out table
keeps the error channel for a firing pre neuron (the delta rule). The init is bit-for-bit the `hebb`
rule's update: the sums are of integers, exact in float32, and the scaling mirrors `HebbRule`'s
order (sum, divide by the batch, times lr, then times the learned gain, which starts at exactly 1).

Every parameter is O(1) (entries are counts, the gain is a log), so an evolution strategy can
search them all with one sigma; the step is `lr * exp(log_gain)` per matrix. The update works under
`torch.func.vmap` over candidate parameter vectors: no in-place op touches a tensor that is not
derived from the batched inputs or parameters.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn

from metahebb.rules.base import MATRICES, Rule, Synapses
from metahebb.rules.learned import bit_patterns, pattern_weights


def _label(pattern: torch.Tensor) -> str:
    return ",".join(f"{v:g}" for v in pattern.tolist())


def lookup(history: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """table[pattern of each neuron's history]: (P,B,S,N), (2^S, ...) -> (P,B,N, ...).

    Hard firing indexes the table (no one-hot, 2-10x faster); firing that carries a gradient takes
    the multilinear one-hot of `pattern_weights`. Both are exact on binary firing.
    """
    if not history.requires_grad:
        place = 2.0 ** torch.arange(history.shape[2] - 1, -1, -1, dtype=history.dtype, device=history.device)
        return table[torch.einsum("pbsn,s->pbn", history, place).long()]  # first step most significant
    weights = pattern_weights(history.transpose(2, 3), bit_patterns(history.shape[2]).to(history))
    return torch.tensordot(weights, table, dims=1)


class TableRule(Rule):
    meta_trained = True

    def __init__(self, T: int, lr: float) -> None:
        super().__init__()
        self.T = T
        self.lr = lr
        history = bit_patterns(T)
        out = torch.tensor([[0.0, 0.0], [1.0, 0.0]])  # rows: pre x_{T+1} = 0, 1; cols: error, target
        self.tables = nn.ParameterDict(
            {
                "in": nn.Parameter(bit_patterns(T + 1)[:, 0].clone()),  # post x_1..x_{T+1} -> its x_1
                "rec": nn.Parameter(history @ history.T),  # (post, pre) -> steps where both fire
                "out": nn.Parameter(out),
            }
        )
        self.log_gain = nn.ParameterDict({name: nn.Parameter(torch.zeros(())) for name in MATRICES})

    def summed(self, name: str, s: Synapses) -> torch.Tensor:
        """sum_b of the table's value on every synapse, (P,I,J), before the batch mean and the step."""
        table = self.tables[name]
        if name == "rec":  # the post side looks up its table row, the pre side picks the column
            pre = s.pre.transpose(2, 3)  # (P,B,J,T)
            columns = pattern_weights(pre, bit_patterns(pre.shape[-1]).to(pre))
            return torch.einsum("pbic,pbjc->pij", lookup(s.post, table), columns)
        if name == "in":
            return torch.einsum("pbi,pbj->pij", lookup(s.post, table), s.pre[:, :, 0])
        if name == "out":
            coefficient = lookup(s.pre, table)  # (P,B,J,channel)
            # One product per channel, summed after: the error channel alone is then Hebb's exact sum.
            total = torch.einsum("pbi,pbj->pij", s.post[:, :, 0], coefficient[..., 0])
            for channel in range(1, s.post.shape[2]):
                total = total + torch.einsum("pbi,pbj->pij", s.post[:, :, channel], coefficient[..., channel])
            return total
        raise ValueError(f"unknown matrix {name!r}")

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        batch = s.pre.shape[1]
        dw = self.summed(name, s)
        gain = self.log_gain[name].exp()  # exp(0) == 1 exactly: times lr first keeps the init == hebb
        if torch.is_grad_enabled():
            dw = dw / batch if batch > 1 else dw
            return dw * self.lr * gain
        # The same arithmetic in place (frozen-rule training): dw is fresh, derived from the inputs.
        dw = dw.div_(batch) if batch > 1 else dw
        return dw.mul_(self.lr).mul_(gain)

    @torch.no_grad()
    def tabulate(self, name: str, real_values: tuple[float, ...] = (-1.0, 0.0, 1.0)) -> dict:
        """The synapse change (step included) on every firing pattern, for a heatmap.

        Rows are post patterns, columns pre patterns, as in `LearnedRule.tabulate`; a real-valued
        side (the input x_0, the output error and target) takes every combination of `real_values`.
        """
        table = self.tables[name]
        step = self.lr * self.log_gain[name].exp()
        reals = torch.tensor(real_values).to(table)
        if name == "rec":
            pre = post = bit_patterns(self.T).to(table)
            values = table
        elif name == "in":
            pre, post = reals[:, None], bit_patterns(self.T + 1).to(table)
            values = table[:, None] * reals[None, :]
        elif name == "out":
            pre = bit_patterns(1).to(table)
            post = torch.tensor(list(itertools.product(real_values, repeat=table.shape[1]))).to(table)
            values = post @ table.T  # (post [error, target], pre bit)
        else:
            raise ValueError(f"unknown matrix {name!r}")
        return {
            "values": (step * values).cpu().numpy().astype(np.float64),
            "pre": [_label(p) for p in pre],
            "post": [_label(q) for q in post],
        }
