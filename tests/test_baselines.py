"""The fair references: the grid, the validation split they are tuned on, the choice per view, the
untuned ones, and that each is judged on the same networks and draws as a variant."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_compare import tiny_data, tiny_setting

from metahebb import baselines
from metahebb.baselines import (
    Config,
    Job,
    best,
    configured,
    grid,
    reference_names,
    run_job,
    validation_targets,
)
from metahebb.params import BaselinesParams, ParamError, parse_group

PARAMS = BaselinesParams(
    rules=["hebb"], lrs=[0.01, 0.05], homeostasis_rates=[0.0, 0.05], epochs=[1, 2], seeds=[0]
)


def test_the_grid_is_every_combination_in_order():
    points = grid(PARAMS)
    assert len(points) == 8 and points[0] == Config(0.01, 0.0, 1) and points[-1] == Config(0.05, 0.05, 2)


def test_a_config_sets_the_rules_rate_homeostasis_and_epochs():
    setting = tiny_setting()
    off = configured(setting, "hebb", Config(0.05, 0.0, 7), seeds=[3])
    assert off.rules.hebb_lr == 0.05 and off.rules.oja_lr == setting.rules.oja_lr
    assert off.stab.homeostasis is False and off.hebbian.epochs == 7 and off.compare.seeds == [3]
    on = configured(setting, "hebb", Config(0.05, 0.2, 7))
    assert (
        on.stab.homeostasis and on.stab.homeostasis_rate == 0.2 and on.compare.seeds == setting.compare.seeds
    )


def test_tuning_sees_only_the_validation_part_of_the_training_points():
    data, _ = tiny_data()
    targets = validation_targets(data, 0.3, 0)
    for d, t in targets.items():
        assert len(t.x) == len(data.x[d])  # training points only: no test point enters
        assert t.is_test.sum() == round(0.3 * len(data.x[d])) and t.z is None
    again = validation_targets(data, 0.3, 0)
    assert all(np.array_equal(targets[d].is_test, again[d].is_test) for d in targets)


def test_the_best_point_is_chosen_per_view_first_of_ties():
    rows = [
        {"lr": 0.01, "homeostasis_rate": 0.0, "epochs": 1, "view": "last", "score": 0.7},
        {"lr": 0.01, "homeostasis_rate": 0.0, "epochs": 1, "view": "concat", "score": 0.9},
        {"lr": 0.05, "homeostasis_rate": 0.2, "epochs": 2, "view": "last", "score": 0.8},
        {"lr": 0.05, "homeostasis_rate": 0.2, "epochs": 2, "view": "concat", "score": 0.9},
    ]
    assert best(rows, "last") == Config(0.05, 0.2, 2) and best(rows, "concat") == Config(0.01, 0.0, 1)


def test_every_reference_is_judged_like_a_variant_and_reproducibly():
    data, targets = tiny_data()
    setting = tiny_setting()
    names = reference_names(PARAMS)
    assert names == ["hebb-tuned", "hebb-es", "none-static", "raw"]
    refs = {n: run_job(Job(n, data, targets, setting, PARAMS)) for n in names}
    tuned = refs["hebb-tuned"]
    assert len(tuned.search) == 2 * len(grid(PARAMS)) and set(tuned.chosen) == {"last", "concat"}
    top = max((r for r in tuned.search if r["view"] == "last"), key=lambda r: r["score"])
    assert tuned.chosen["last"] == Config(top["lr"], top["homeostasis_rate"], top["epochs"])
    seeds = len(setting.compare.seeds)
    for ref in refs.values():
        for t in targets:
            for key in (f"svm_n{n}" for n in setting.compare.labels):
                assert len(ref.result.scores[t][key]) == seeds and len(ref.result.concat[t][key]) == seeds
    raw = refs["raw"].result.scores["circles"]["svm_n4"]
    assert len(set(raw)) == 1  # the raw input has no network seed
    again = run_job(Job("hebb-tuned", data, targets, setting, PARAMS))
    assert again.result.scores == tuned.result.scores and again.chosen == tuned.chosen
    searched = refs["hebb-es"]  # the ES ablation: one meta-training's budget, Hebb's rate and schedule
    es = setting.es
    budget = es.generations * es.population * es.networks_per_dataset // len(PARAMS.seeds)
    assert len(searched.search) >= 2 * budget and {r["view"] for r in searched.search} == {"last", "concat"}
    for view, config in searched.chosen.items():
        assert config.lr == setting.rules.hebb_lr and config.epochs == setting.hebbian.epochs
        top = max((r for r in searched.search if r["view"] == view), key=lambda r: r["score"])
        assert config.gains == (top["gain_in"], top["gain_rec"], top["gain_out"])
        assert config.homeostasis_rate == top["homeostasis_rate"]


def test_none_static_turns_homeostasis_off(monkeypatch):
    data, targets = tiny_data()
    seen = []
    real = baselines.score_rule
    monkeypatch.setattr(
        baselines, "score_rule", lambda r, t, s, *a: seen.append(s.stab.homeostasis) or real(r, t, s, *a)
    )
    run_job(Job("none-static", data, targets, tiny_setting(), PARAMS))
    assert seen == [False] * len(targets)


@pytest.mark.parametrize(
    "over, message",
    [
        (
            {"rules": ["none"]},
            "baselines.rules='none': accepted values are one of hebb, oja, softhebb, krotov",
        ),
        ({"lrs": []}, "baselines.lrs"),
        ({"homeostasis_rates": [-0.1]}, "baselines.homeostasis_rates"),
    ],
)
def test_bad_baselines_params_are_one_line(over, message):
    raw = {**dataclasses.asdict(PARAMS), **over}
    with pytest.raises(ParamError, match=message) as err:
        parse_group(BaselinesParams, raw, "baselines")
    assert "\n" not in str(err.value)
