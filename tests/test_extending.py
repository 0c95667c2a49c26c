"""The three newcomer tasks of README "Extending", each done here the way the README says.

A registry entry is all the schema needs: params take their accepted names from the registries
(`metahebb.names`), so a new rule, objective or optimiser is usable from params at once.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from tiny import DATA, ES, META, RNN, RULES, STAB

from metahebb import objectives, outer, rules
from metahebb.datasets import make_dataset
from metahebb.hebbian_train import train_hebbian
from metahebb.meta_data import MetaData, training_points
from metahebb.outer import Groups, MetaResult, make_optimiser, meta_learn
from metahebb.params import HebbianParams, MetaParams, ParamError, parse_group
from metahebb.rules.base import Rule, paired_hebb


class AntiHebbRule(Rule):
    """The file a newcomer writes (here inline): dw = -eta * post pre^T."""

    def delta(self, name, s):
        return paired_hebb(s).mul_(-0.01)


def as_raw(group) -> dict:
    return dataclasses.asdict(group)


def data() -> MetaData:
    arrays = {d: make_dataset(d, DATA).arrays() for d in ("circles", "moons")}
    points = {d: training_points(a) for d, a in arrays.items()}
    return MetaData({d: x for d, (x, _) in points.items()}, {d: y for d, (_, y) in points.items()})


def test_a_fixed_rule_is_one_file_and_one_registry_line(monkeypatch):
    monkeypatch.setitem(rules.RULES, "anti_hebb", lambda p, T: AntiHebbRule())
    raw = {"rules": ["anti_hebb"], "epochs": 1, "batch_size": 8, "seeds": [0], "collapse_codes": 10}
    hebbian = parse_group(HebbianParams, raw, "train_hebbian")  # the schema accepts the new name
    rule = rules.load_rule("anti_hebb", RULES, RNN.T)  # fixed: no theta file
    ds = make_dataset("moons", DATA)
    result = train_hebbian(ds.x, ds.is_test, rule, RNN, STAB, hebbian)
    assert np.isfinite(result.loss).all()
    monkeypatch.delitem(rules.RULES, "anti_hebb")
    with pytest.raises(ParamError, match="anti_hebb"):
        parse_group(HebbianParams, raw, "train_hebbian")


def test_a_meta_objective_is_one_function_and_one_registry_line(monkeypatch):
    def mse(trace, batch, params):  # the function a newcomer writes: the readout's plain MSE
        return (trace.output - batch.x).pow(2).mean(dim=(1, 2))

    monkeypatch.setitem(objectives.OBJECTIVES, "mse", objectives.Objective(mse, batch="single"))
    meta = parse_group(MetaParams, {**as_raw(META), "objective": "mse", "steps": 3}, "meta_train")
    result = meta_learn(
        rules.make_rule("learned", RULES, RNN.T), data(), make_optimiser(Groups(RNN, STAB, meta, ES))
    )
    assert len(result.history["meta_loss"]) == 3 and np.isfinite(result.history["meta_loss"]).all()


@dataclasses.dataclass(frozen=True)
class RandomSearch:
    """An outer optimiser a newcomer writes: keep the best of a few random thetas (its params: `es`'s
    seed and population here; a real one adds its own group)."""

    meta: MetaParams
    population: int
    seed: int

    @classmethod
    def from_groups(cls, groups: Groups, device="cpu", log_every=50):
        return cls(groups.meta, groups.es.population, groups.es.seed)

    def train(self, rule, data, checkpoint=None) -> MetaResult:
        gen = torch.Generator().manual_seed(self.seed)
        theta = {k: v + 0.01 * torch.randn(v.shape, generator=gen) for k, v in rule.state_dict().items()}
        return MetaResult(theta, {"fitness": np.zeros(self.population)}, {"fitness_final": 0.0})


def test_an_outer_optimiser_is_one_class_and_one_registry_line(monkeypatch):
    monkeypatch.setitem(outer.OPTIMIZERS, "random", RandomSearch)
    meta = parse_group(MetaParams, {**as_raw(META), "optimizer": "random"}, "meta_train")
    rule = rules.make_rule("table", RULES, RNN.T)
    result = meta_learn(rule, data(), make_optimiser(Groups(RNN, STAB, meta, ES)))
    assert set(result.theta) == set(rule.state_dict())
    rules.make_rule("table", RULES, RNN.T, theta=result.theta)  # a theta the rule accepts
    monkeypatch.delitem(outer.OPTIMIZERS, "random")
    with pytest.raises(ParamError, match="optimizer"):
        parse_group(MetaParams, as_raw(meta), "meta_train")
