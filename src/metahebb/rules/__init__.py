"""Registry of plasticity rules: a new rule is one file plus one line here.

rule = make_rule("learned", rule_params, T=3)
delta = rule(synapses_of(net, trace, x))   # {"in": dW_in, "rec": dW_rec, "out": dW_out}
"""

from __future__ import annotations

from collections.abc import Callable

from metahebb.artifacts import load_theta
from metahebb.params import RuleParams
from metahebb.rules.attention import AttentionRule
from metahebb.rules.base import MATRICES, Rule, Synapses, synapses_of
from metahebb.rules.hebb import HebbRule
from metahebb.rules.krotov import KrotovRule
from metahebb.rules.learned import LearnedRule
from metahebb.rules.none import NoRule
from metahebb.rules.oja import OjaRule
from metahebb.rules.softhebb import SoftHebbRule
from metahebb.rules.table import TableRule


def _learned(p: RuleParams, T: int, neighbours: int) -> LearnedRule:
    base_lr = p.hebb_lr if p.base == "hebb" else 0.0
    return LearnedRule(T, p.hidden, p.init_step, neighbours, p.seed, base_lr, p.max_step, p.residual_gain)


RULES: dict[str, Callable[[RuleParams, int], Rule]] = {
    "none": lambda p, T: NoRule(),
    "hebb": lambda p, T: HebbRule(p.hebb_lr),
    "oja": lambda p, T: OjaRule(p.oja_lr),
    "softhebb": lambda p, T: SoftHebbRule(p.softhebb_lr),
    "krotov": lambda p, T: KrotovRule(p.krotov_lr, p.krotov_delta),
    "learned": lambda p, T: _learned(p, T, neighbours=0),
    "learned_extended": lambda p, T: _learned(p, T, neighbours=p.neighbours),
    "table": lambda p, T: TableRule(T, p.hebb_lr),
    "attention": lambda p, T: AttentionRule(
        T,
        p.attention_dim,
        p.init_step,
        p.seed,
        p.hebb_lr if p.base == "hebb" else 0.0,
        p.max_step,
        p.residual_gain,
    ),
}
# Rules whose theta comes from meta-training (the meta_train stage); the others are fixed.
META_TRAINED = ("learned", "learned_extended", "table", "attention")


def make_rule(name: str, params: RuleParams, T: int, theta: dict | None = None) -> Rule:
    """A rule for RNNs unrolled T steps; a learned rule takes its meta-trained `theta` if given."""
    if name not in RULES:
        raise ValueError(f"unknown rule {name!r}; registered: {', '.join(RULES)}")
    rule = RULES[name](params, T)
    if theta is not None:
        rule.load_state_dict(theta)
    return rule


def load_rule(name: str, params: RuleParams, T: int) -> Rule:
    """A rule ready to train networks: a meta-trained one with the meta_train stage's theta, checked
    against the rule as configured (other params or a bad file: one line naming it)."""
    rule = make_rule(name, params, T)
    if name in META_TRAINED:
        rule.load_state_dict(load_theta(f"data/rules/{name}.pt", rule.state_dict()))
    return rule


__all__ = ["MATRICES", "META_TRAINED", "RULES", "Rule", "Synapses", "load_rule", "make_rule", "synapses_of"]
