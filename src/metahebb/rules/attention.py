"""`attention`: each post-synaptic neuron attends over the histories of its pre-synaptic neighbourhood.

The paper's proposal for a rule that sees more than one synapse: the change of synapse (i,j)
depends on the firing history of post neuron i and on those of all pre neurons j' that project
to i (the matrices are dense, so that is every pre neuron), not only on j's. Post neuron i forms
a query from its history, every pre neuron a key and a value from its own; content-based attention
over i's neighbourhood weighs how much synapse (i,j) moves, so a neuron can, e.g., strengthen the
input that best matches its own activity relative to the others rather than in absolute terms.

Per matrix, with a low rank d (`dim`):

    q_i = Wq post_i + bq,   k_j = Wk pre_j,   v_j = Wv pre_j + bv
    a_ij = softmax_j(q_i . k_j / sqrt(d)),   g_ij = (u * q_i) . v_j
    dW_ij = step * mean_b squash(J a_ij g_ij) + base_lr * paired_hebb

J a_ij is 1 under uniform attention, so the value keeps the scale of g whatever the width of the
neighbourhood. Still neuron-local in the sense that matters: row i reads post neuron i's signals
only, never another post neuron's (tested); what it adds over `learned` is the pre neighbourhood.

Conventions as in `learned` (`_step.SteppedRule`): the step is `max_step * sigmoid(a)` with a
tanh squash when `max_step` > 0 (computed as 2 sigmoid(2v) - 1, 10x faster on CPU), else learned
on a log scale; `base_lr` adds the `hebb` rule's exact update; `residual_gain` scales the init of the output
projection u (0 = start exactly at Hebb, bit for bit). Keys have no bias: softmax over j ignores a
term q_i . b_k shared by all of i's scores. With T=3, d=4 the rule has 115 parameters (in 36,
rec 48, out 28, three steps). Everything is batched (P,B,I,J) products; nothing loops over
synapses or samples, and it runs under `torch.func.vmap` (ES). `tabulate` shows a lone synapse
(its post neuron's one input takes all of the attention): the value the attention then weighs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from metahebb.rules._step import SteppedRule
from metahebb.rules.base import (
    BINARY,
    MATRICES,
    RuleTable,
    Synapses,
    paired_hebb,
    rule_table,
    table_histories,
)


class AttentionHead(nn.Module):
    """One matrix's attention: histories pre (P,B,Sp,J), post (P,B,Sq,I) -> each synapse's value (P,B,I,J)."""

    def __init__(self, n_pre: int, n_post: int, dim: int, generator: torch.Generator, gain: float) -> None:
        super().__init__()
        self.wq = nn.Parameter(torch.randn(dim, n_post, generator=generator) / math.sqrt(n_post))
        self.bq = nn.Parameter(torch.zeros(dim))
        # No key bias: it adds q_i . b_k to all of row i's scores, which softmax over j ignores.
        self.wk = nn.Parameter(torch.randn(dim, n_pre, generator=generator) / math.sqrt(n_pre))
        self.wv = nn.Parameter(torch.randn(dim, n_pre, generator=generator) / math.sqrt(n_pre))
        self.bv = nn.Parameter(torch.zeros(dim))
        self.u = nn.Parameter(gain * torch.randn(dim, generator=generator) / math.sqrt(dim))

    def forward(self, pre: torch.Tensor, post: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """scale * J a_ij g_ij; every constant is applied to the (P,B,I,d) side, not to (P,B,I,J)."""
        dim, n_pre = self.u.shape[-1], pre.shape[-1]
        q = torch.einsum("pbsi,ds->pbid", post, self.wq) + self.bq  # (P,B,I,d)
        k = torch.einsum("pbsj,ds->pbjd", pre, self.wk)  # (P,B,J,d)
        v = torch.einsum("pbsj,ds->pbjd", pre, self.wv) + self.bv
        scores = (q / math.sqrt(dim)) @ k.transpose(-1, -2)  # (P,B,I,J)
        g = (q * (self.u * (scale * n_pre))) @ v.transpose(-1, -2)
        # softmax over j, spelt out so the frozen-rule path can run it in place: fresh (P,B,I,J)
        # tensors cost page faults, and this path allocates two instead of five (2x faster on CPU).
        shift = scores.amax(dim=-1, keepdim=True).detach()  # softmax ignores the shift
        if torch.is_grad_enabled():
            weight = (scores - shift).exp()
            return g * weight / weight.sum(dim=-1, keepdim=True)
        weight = scores.sub_(shift).exp_()
        return g.mul_(weight).div_(weight.sum(dim=-1, keepdim=True))


class AttentionRule(SteppedRule):
    attends_to_all_pre = True  # synapse (i,j) reads every pre neuron of i, not only j (tests/test_rules.py)

    def __init__(self, T: int, dim: int, *rest: float, **named: float) -> None:
        """Rank `dim`; the `rest` as `SteppedRule`: init_step, seed, base_lr, max_step, residual_gain."""
        self.dim = dim  # read by `build`
        super().__init__(T, *rest, **named)

    def build(self, steps: dict[str, tuple[int, int]], generator: torch.Generator, gain: float) -> None:
        self.heads = nn.ModuleDict(
            {name: AttentionHead(*steps[name], self.dim, generator, gain) for name in MATRICES}
        )

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        head = self.heads[name]
        if self.max_step == 0:
            dw = head(s.pre, s.post).mean(dim=1)
        else:  # mean_b tanh(v) as 2 mean_b sigmoid(2v) - 1: equal, and tanh is 10x slower on CPU
            value = head(s.pre, s.post, scale=2.0)
            value = torch.sigmoid(value) if torch.is_grad_enabled() else value.sigmoid_()
            dw = 2 * value.mean(dim=1) - 1
        dw = self.step(name) * dw
        # residual_gain 0: dw is exactly 0, so the sum is the hebb rule's update bit for bit
        return dw + self.base_lr * paired_hebb(s) if self.base_lr else dw

    @torch.no_grad()
    def tabulate(self, name: str, real_values: tuple[float, ...] = (-1.0, 0.0, 1.0)) -> RuleTable:
        """`Rule.tabulate` for a post neuron with that one pre neuron: `delta` of a lone synapse.

        Alone, the pre neuron takes all of the attention (J a_ij = 1, as under uniform attention), so
        an entry is step * squash(g_ij) plus the base's Hebb term: the change before inputs compete.
        """
        pre, post = table_histories(name, self.T, real_values)
        # one network per (post, pre) pair, one sample, one neuron on each side, weight 0
        pairs = len(post) * len(pre)
        lone = Synapses(
            pre.repeat(len(post), 1).view(pairs, 1, pre.shape[1], 1),
            post.repeat_interleave(len(pre), dim=0).view(pairs, 1, post.shape[1], 1),
            torch.zeros(pairs, 1, 1),
            *BINARY[name],
        )
        return rule_table(self.delta(name, lone).view(len(post), len(pre)), pre, post)
