"""Many parameter vectors of one rule at once: candidate c's theta drives networks c*N..(c+1)*N-1.

An evolution strategy scores a whole generation of candidates, each on several inner networks,
as one population. Rules are written for one theta; `CandidateRule` maps a rule over a leading
candidate dimension of its parameters with `torch.func.vmap`, so every registered rule works
here unchanged (no Python loop over candidates or networks) as long as it avoids in-place ops on
tensors not derived from its inputs (tests/test_outer.py checks each meta-trained rule).

A rule may also take the candidate dimension natively (`candidate_forward` / `candidate_delta`,
as `table` does): without a gradient, `CandidateRule` then calls that instead of `vmap`, which
is the ES hot loop's main cost otherwise. It must give bitwise the values of the `vmap` path
(`VmapCandidateRule`, kept for that comparison; tests/test_es_speed.py).
"""

from __future__ import annotations

import torch
from torch.func import functional_call, vmap

from metahebb.rules.base import Rule, Synapses


def parameter_shapes(rule: Rule) -> dict[str, torch.Size]:
    return {name: p.shape for name, p in rule.named_parameters()}


def flatten(rule: Rule) -> torch.Tensor:
    """The rule's parameters as one float64 vector (the search space of an evolution strategy)."""
    return torch.cat([p.detach().reshape(-1) for p in rule.parameters()]).double()


def unflatten(rule: Rule, vectors: torch.Tensor) -> dict[str, torch.Tensor]:
    """(C, D) vectors -> {name: (C, *shape)} float32 parameters of C copies of the rule."""
    shapes = parameter_shapes(rule)
    total = sum(shape.numel() for shape in shapes.values())
    if total != vectors.shape[1]:
        raise ValueError(f"expected vectors of {total} parameters, got {vectors.shape[1]}")
    out, start = {}, 0
    for name, shape in shapes.items():
        size = shape.numel()
        out[name] = vectors[:, start : start + size].reshape(len(vectors), *shape).float()
        start += size
    return out


class VmapCandidateRule(Rule):
    """A rule whose parameters have a leading candidate dimension C, each shared by N networks: `vmap`."""

    def __init__(self, rule: Rule, params: dict[str, torch.Tensor], networks: int) -> None:
        super().__init__()
        self.rule = rule
        self.params = params
        self.networks = networks
        self.changes_weights = rule.changes_weights

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        candidates = next(iter(self.params.values())).shape[0]

        def one(params: dict, pre: torch.Tensor, post: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
            synapses = {name: Synapses(pre, post, weight, s.pre_binary, s.post_binary)}
            return functional_call(self.rule, params, (synapses,))[name]

        split = [t.reshape(candidates, self.networks, *t.shape[1:]) for t in (s.pre, s.post, s.weight)]
        return vmap(one)(self.params, *split).reshape(s.weight.shape)


class CandidateRule(VmapCandidateRule):
    """A rule whose parameters have a leading candidate dimension C, each shared by N networks.

    A rule with a `candidate_delta(name, s, params, networks)` method (`table`) computes all
    candidates natively where no gradient is recorded (the ES hot loop): the same values as the
    `vmap` path, without its per-call overhead and copies. Any other rule goes through `vmap`.
    """

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        native = getattr(self.rule, "candidate_delta", None)
        if native is not None and not torch.is_grad_enabled():
            return native(name, s, self.params, self.networks)
        return super().delta(name, s)

    def forward(self, synapses: dict[str, Synapses]) -> dict[str, torch.Tensor]:
        native = getattr(self.rule, "candidate_forward", None)
        if native is not None and not torch.is_grad_enabled():
            return native(synapses, self.params, self.networks)
        return super().forward(synapses)
