"""`learned` and `learned_extended`: the paper's meta-learned rule f_theta (sections 4.4, 5.2).

One small MLP per matrix maps a synapse's neuron-local signals, [pre history, post history],
to that synapse's change; `learned_extended` also shows it the pre-synaptic neighbours
j-r..j+r (circularly), the "extended field" of section 5.2. The two are one class: r is a param.

Update scale: the change is `step * f_theta(...)` with a learned per-matrix step size that
starts small (`init_step`). A rule left free to choose its scale saturates (updates ~100x a
Hebbian step that rewrite M_rec every batch), after which the one-step objective has almost no
signal for M_in and M_rec. With `max_step` > 0 the step is `max_step * sigmoid(a)` and the MLP's
output passes through tanh, so no synapse moves by more than `max_step` per update from the
learned part; with `max_step` = 0 the step is learned on an unbounded log scale (paper's form).

Base (`base`): with `hebb` the rule is plain Hebb (`hebb_lr`, the `hebb` rule's exact update)
plus the learned residual, so meta-training starts from a rule known not to collapse under
homeostasis and learns a correction; `residual_gain` scales the MLP's initial output layer
(0 = start exactly at Hebb). With `none` f_theta is the whole rule, as in the paper.

Speed: firing is binary, so at least one side of every synapse takes one of 2^F patterns.
The MLP is evaluated on those patterns only, and a one-hot of the actual firing picks the value
for each synapse and sample (built from the pattern's integer for hard firing; a multilinear
one-hot, differentiable through a k-cap relaxation, where the firing carries a gradient).
When both sides are binary (M_rec) f_theta is a small table, which is also what `tabulate` draws.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from metahebb.rules._step import SteppedRule
from metahebb.rules.base import BINARY, MATRICES, RuleTable, Synapses, histories, paired_hebb, rule_table

MAX_TABLE_BITS = 12


def bit_patterns(bits: int) -> torch.Tensor:
    """All 2^bits binary patterns, (2^bits, bits), first bit most significant."""
    return histories(bits, True, ())


def pattern_weights(x: torch.Tensor, patterns: torch.Tensor) -> torch.Tensor:
    """One-hot (..., F) -> (..., 2^F) of binary firing x over `patterns` (as made by `bit_patterns`).

    Hard firing (no gradient) is read as an integer, 30x faster than the product. Firing that carries
    a gradient (a k-cap relaxation in meta-training) takes the multilinear extension instead: equal
    on binary x, and differentiable, also where a soft relaxation makes x non-binary.
    """
    if not x.requires_grad:
        place = 2.0 ** torch.arange(x.shape[-1] - 1, -1, -1, dtype=x.dtype, device=x.device)
        index = (x @ place).long()  # first bit most significant, as in bit_patterns
        return F.one_hot(index, len(patterns)).to(x.dtype)  # out of place: works under vmap (ES)
    x = x[..., None, :]
    return (patterns * x + (1 - patterns) * (1 - x)).prod(dim=-1)


def neighbourhood(pre: torch.Tensor, r: int) -> torch.Tensor:
    """(P,B,S,J) -> (P,B,J,S*(2r+1)): each pre neuron's history and its neighbours' j-r..j+r."""
    shifted = [torch.roll(pre, shifts=-o, dims=-1) for o in range(-r, r + 1)]
    feats = torch.stack(shifted, dim=-1)  # (P,B,S,J,2r+1)
    return feats.permute(0, 1, 3, 4, 2).flatten(-2)  # ordered neighbour-major, step-minor


class SynapseMLP(nn.Module):
    """f(pre features, post features) -> one number, with ReLU hidden units and a linear output."""

    def __init__(
        self, n_pre: int, n_post: int, hidden: int, generator: torch.Generator, gain: float = 1.0
    ) -> None:
        super().__init__()
        n_in = n_pre + n_post
        self.n_pre = n_pre
        self.w1 = nn.Parameter(torch.randn(hidden, n_in, generator=generator) / math.sqrt(n_in))
        self.b1 = nn.Parameter(torch.zeros(hidden))
        self.w2 = nn.Parameter(gain * torch.randn(hidden, generator=generator) / math.sqrt(hidden))
        self.b2 = nn.Parameter(torch.zeros(()))

    def pre_part(self, pre: torch.Tensor) -> torch.Tensor:
        return pre @ self.w1[:, : self.n_pre].T

    def post_part(self, post: torch.Tensor) -> torch.Tensor:
        return post @ self.w1[:, self.n_pre :].T

    def head(self, per_synapse: torch.Tensor, per_pattern: torch.Tensor) -> torch.Tensor:
        """Output from the two halves of the first layer; the bias joins the (few) patterns."""
        return torch.relu(per_synapse + (per_pattern + self.b1)) @ self.w2 + self.b2


class LearnedRule(SteppedRule):
    def __init__(
        self, T: int, hidden: int, init_step: float, neighbours: int, seed: int, *rest: float, **named: float
    ) -> None:
        """MLPs `hidden` wide that see `neighbours` r; the `rest`: SteppedRule's base_lr, max_step, residual_gain."""
        self.hidden, self.neighbours = hidden, neighbours  # read by `build`
        super().__init__(T, init_step, seed, *rest, **named)

    def build(self, steps: dict[str, tuple[int, int]], generator: torch.Generator, gain: float) -> None:
        width = 2 * self.neighbours + 1
        self.mlps = nn.ModuleDict(
            {
                name: SynapseMLP(steps[name][0] * width, steps[name][1], self.hidden, generator, gain)
                for name in MATRICES
            }
        )

    def squash(self, f: torch.Tensor) -> torch.Tensor:
        return f if self.max_step == 0 else torch.tanh(f)

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        mlp = self.mlps[name]
        pre = neighbourhood(s.pre, self.neighbours)  # (P,B,J,Fp)
        post = s.post.transpose(2, 3)  # (P,B,I,Fq)
        fp, fq = pre.shape[-1], post.shape[-1]
        batch = pre.shape[1]
        if s.pre_binary and s.post_binary and fp + fq <= MAX_TABLE_BITS:
            pp, qp = bit_patterns(fp).to(pre), bit_patterns(fq).to(pre)
            table = self.squash(mlp.head(mlp.post_part(qp)[:, None, :], mlp.pre_part(pp)[None, :, :]))
            pre_w = pattern_weights(pre, pp)
            dw = torch.einsum("pbia,ac,pbjc->pij", pattern_weights(post, qp), table, pre_w)
        elif s.post_binary:  # enumerate the post patterns for every pre neuron
            qp = bit_patterns(fq).to(pre)
            out = self.squash(mlp.head(mlp.pre_part(pre)[..., None, :], mlp.post_part(qp)))  # (P,B,J,2^Fq)
            dw = torch.einsum("pbia,pbja->pij", pattern_weights(post, qp), out)
        elif s.pre_binary:  # enumerate the pre patterns for every post neuron
            pp = bit_patterns(fp).to(pre)
            out = self.squash(mlp.head(mlp.post_part(post)[..., None, :], mlp.pre_part(pp)))  # (P,B,I,2^Fp)
            dw = torch.einsum("pbic,pbjc->pij", out, pattern_weights(pre, pp))
        else:
            raise ValueError(f"matrix {name}: a learned rule needs binary firing on one side")
        if torch.is_grad_enabled():
            dw = self.step(name) * dw / batch
            return dw + self.base_lr * paired_hebb(s) if self.base_lr else dw
        # The same arithmetic in place (frozen-rule training): no pass allocates a (P,I,J) tensor.
        dw = dw.mul_(self.step(name)).div_(batch) if batch > 1 else dw.mul_(self.step(name))
        return dw.add_(paired_hebb(s).mul_(self.base_lr)) if self.base_lr else dw

    @torch.no_grad()
    def tabulate(self, name: str, real_values: tuple[float, ...] = (-1.0, 0.0, 1.0)) -> RuleTable:
        """`Rule.tabulate`, with the pre neuron's neighbours held silent."""
        mlp = self.mlps[name]
        width = 2 * self.neighbours + 1
        fp, fq = mlp.n_pre // width, mlp.w1.shape[1] - mlp.n_pre
        pre_binary, post_binary = BINARY[name]
        pre = histories(fp, pre_binary, real_values).to(mlp.w1)
        post = histories(fq, post_binary, real_values).to(mlp.w1)
        pre_full = torch.zeros(len(pre), mlp.n_pre).to(mlp.w1)
        pre_full[:, self.neighbours * fp : (self.neighbours + 1) * fp] = pre  # centre neuron only
        values = self.step(name) * self.squash(
            mlp.head(mlp.post_part(post)[:, None, :], mlp.pre_part(pre_full)[None, :, :])
        )
        steps = min(fp, fq)  # the base's paired products, as in `paired_hebb`
        values = values + self.base_lr * torch.einsum("qs,ps->qp", post[:, :steps], pre[:, :steps])
        return rule_table(values, pre, post)
