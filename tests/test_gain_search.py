"""The ES ablation's parts: a gain per matrix, the search space, and CMA-ES reproducible from its seed."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import torch
from test_compare import tiny_data, tiny_setting

from metahebb import baselines, gain_search
from metahebb.baselines import Config, built, config_of
from metahebb.kcap_rnn import forward, init_network
from metahebb.rules import make_rule, synapses_of
from metahebb.runtime import generator


def test_each_matrix_changes_by_its_own_gain():
    setting = tiny_setting()
    hebb = make_rule("hebb", setting.rules, setting.rnn.T)
    scaled = gain_search.Scaled(hebb, (0.5, 2.0, 0.0))
    net = init_network(2, 5, setting.rnn, generator(0))
    x = torch.randn(2, 8, 5, generator=generator(1))
    synapses = synapses_of(net, forward(net, x, setting.rnn), x)
    plain, changed = hebb(synapses), scaled(synapses)
    for name, gain in zip(("in", "rec", "out"), (0.5, 2.0, 0.0), strict=True):
        assert torch.allclose(changed[name], gain * plain[name]) and plain[name].abs().sum() > 0


def test_unit_gains_are_the_rule_itself_and_other_gains_wrap_it():
    setting = tiny_setting()
    rule, run = built("hebb", Config(0.02, 0.1, 3), setting)
    assert not isinstance(rule, gain_search.Scaled) and run.rules.hebb_lr == 0.02
    rule, run = built("hebb", Config(0.02, 0.1, 3, (1.0, 3.0, 1.0)), setting)
    assert rule.gains == {"in": 1.0, "rec": 3.0, "out": 1.0} and run.stab.homeostasis_rate == 0.1


def test_the_search_space_is_log_gains_and_a_log_rate_at_most_one():
    gains, rate = gain_search.decode(gain_search.start(0.05))
    assert gains == (1.0, 1.0, 1.0) and math.isclose(rate, 0.05)
    gains, rate = gain_search.decode(np.array([100.0, -100.0, math.log(2.0), 3.0]))
    assert np.allclose(gains, (1e3, 1e-3, 2.0)) and rate == 1.0
    _, rate = gain_search.decode(gain_search.start(0.0))  # homeostasis at rate 0: start at the floor
    assert math.isclose(rate, gain_search.RATE_FLOOR)
    assert gain_search.generations(40, 8) == 5 and gain_search.generations(41, 8) == 6
    assert gain_search.generations(1, 8) == 1


def test_the_search_climbs_a_known_optimum_reproducibly_within_its_budget():
    def score(gains, rate):  # best at gains (2, 1, 1) and rate 0.1
        miss = sum(math.log(g / t) ** 2 for g, t in zip(gains, (2.0, 1.0, 1.0), strict=True))
        return {"last": -miss - math.log(rate / 0.1) ** 2, "concat": 0.0}

    rows = gain_search.search(score, 0.05, budget=160, seed=3)
    assert rows == gain_search.search(score, 0.05, budget=160, seed=3)
    candidates = len(rows) // 2
    assert 160 <= candidates < 160 + 8 and rows[0]["generation"] == 0
    gains, rate = gain_search.best(rows, "last")
    first = gain_search.best([r for r in rows if r["generation"] == 0], "last")
    assert score(gains, rate)["last"] > score(*first)["last"] and abs(math.log(gains[0] / 2.0)) < 0.5
    assert rows != gain_search.search(score, 0.05, budget=160, seed=4)


def test_a_chosen_config_survives_its_json_form():
    config = Config(0.01, 0.2, 10, (1.5, 0.5, 2.0))
    assert config_of(json.loads(json.dumps(dataclasses.asdict(config)))) == config
    assert config_of({"lr": 0.1, "homeostasis_rate": 0.0, "epochs": 3}) == Config(0.1, 0.0, 3)


def test_the_ablation_is_scored_like_a_grid_point(monkeypatch):
    data, _ = tiny_data()
    seen = []
    real = baselines.validation_score
    monkeypatch.setattr(baselines, "validation_score", lambda *a: seen.append(a[1]) or real(*a))
    setting = tiny_setting()
    rows, chosen = baselines.searched(
        data, setting, baselines.BaselinesParams(["hebb"], [0.1], [0.0], [1], [0])
    )
    assert len(seen) == len(rows) // 2 and all(c.epochs == setting.hebbian.epochs for c in seen)
    assert chosen["last"] in seen and chosen["concat"] in seen
