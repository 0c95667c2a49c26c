"""The confirmatory draws: new data, the frozen rules judged on it, tables that pair on draws."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import yaml
from test_compare import tiny_setting
from tiny import DATA

from metahebb.baselines import Config
from metahebb.confirm import Job, draw_targets, run_job, summary
from metahebb.params import BackpropParams
from metahebb.validate import problems

DRAWS = [(101, 201), (102, 202)]


def job(variant: str, rule: str, **over) -> Job:
    setting = tiny_setting()
    fields = dict(
        variant=variant, run="", rule=rule, theta=None, chosen=None, draws=DRAWS, targets=["circles", "moons"],
        data=DATA, digits_input="projected", setting=setting,
    )  # fmt: skip
    return Job(**{**fields, **over})


def test_a_draw_is_new_data_and_the_same_draw_is_the_same_data():
    dev = draw_targets(["circles"], DATA, "projected")["circles"]
    fresh = draw_targets(["circles"], dataclasses.replace(DATA, seed=101, projection_seed=201), "projected")
    again = draw_targets(["circles"], dataclasses.replace(DATA, seed=101, projection_seed=201), "projected")
    assert not np.allclose(dev.x, fresh["circles"].x) and np.array_equal(
        fresh["circles"].x, again["circles"].x
    )


def test_a_frozen_rule_is_judged_on_every_draw_target_and_seed():
    table = run_job(job("hebb", "hebb"))
    seeds = len(tiny_setting().compare.seeds)
    assert list(table.columns) == ["run", "draw", "target", "view", "score", "seed_index", "value"]
    assert set(table.draw) == {0, 1} and set(table.target) == {"circles", "moons"}
    rows = table[(table.view == "last") & (table.score == "svm_n4")]
    assert len(rows) == len(DRAWS) * 2 * seeds
    assert table.equals(run_job(job("hebb", "hebb")))  # a pure function of the job
    means = summary(table)["last"]["circles"]["svm_n4"]
    assert means["runs"] == 1 and len(means["draws"]) == 2
    assert means["mean"] == pytest.approx(np.mean(means["draws"]))


def test_tuned_references_use_their_chosen_settings_per_view():
    chosen = {"last": Config(0.05, 0.0, 1), "concat": Config(0.01, 0.2, 2)}
    table = run_job(job("hebb-tuned", "hebb", chosen=chosen))
    assert set(table.view) == {"last", "concat"}
    other = run_job(job("hebb-tuned", "hebb", chosen={"last": chosen["concat"], "concat": chosen["concat"]}))
    last = lambda t: t[t.view == "last"].value.to_numpy()  # noqa: E731
    assert not np.array_equal(last(table), last(other))


def test_the_backprop_reference_is_trained_on_each_draw():
    bp = BackpropParams(
        architectures=["rnn"], hidden=4, latent_layer=3, activation="tanh", optimizer="adam", lr=0.01,
        epochs=2, batch_size=32, seeds=[0], plateau_rel_mse=0.1,
    )  # fmt: skip
    table = run_job(job("backprop-rnn", "", backprop=bp))
    assert set(table.draw) == {0, 1} and np.isfinite(table.value).all()
    assert set(table.seed_index) == set(range(len(tiny_setting().compare.seeds)))


def test_a_confirmatory_draw_must_be_fresh(repo):
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["confirm"]["data_seeds"][0] = raw["data"]["seed"]
    assert any(line.startswith("confirm.data_seeds: ") and "development" in line for line in problems(raw))
    raw["confirm"]["data_seeds"] = [7]
    raw["confirm"]["projection_seeds"] = [8, 9]
    assert any("confirm.projection_seeds: 2 given for 1 data_seeds" in line for line in problems(raw))
