"""NaN or infinity from a rule stops training with one line naming the step, dataset and seed."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest
import torch
from tiny import META, RNN, RULES, STAB

from metahebb import stage
from metahebb.errors import DivergenceError, nonfinite_members
from metahebb.hebbian_train import train_hebbian
from metahebb.outer.gradient import meta_train
from metahebb.params import HebbianParams, StabiliserParams
from metahebb.rules import make_rule
from metahebb.rules.base import Rule, Synapses

HEBB = HebbianParams(rules=["none"], epochs=2, batch_size=8, seeds=[3, 7])
META = dataclasses.replace(META, steps=5, batch_size=8, reset_every=3, seed=11)


class NaNRule(Rule):
    """Returns NaN for the synapses of one network of the population (the others stay finite)."""

    def __init__(self, member: int, value: float = float("nan")) -> None:
        super().__init__()
        self.member, self.value = member, value

    def delta(self, name: str, s: Synapses) -> torch.Tensor:
        d = torch.zeros_like(s.weight)
        d[self.member] = self.value
        return d


def data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((n, 2)) @ rng.standard_normal((2, 5))).astype(np.float32)
    return x, np.arange(n) % 4 == 0


@pytest.mark.parametrize("value, clip", [(float("nan"), 0.1), (float("inf"), 0.0)])
def test_a_rule_returning_nan_stops_train_hebbian_at_its_first_update(value, clip):
    x, is_test = data()
    stab = StabiliserParams(homeostasis=True, homeostasis_rate=0.05, normalise_rows=True, clip=clip)
    with pytest.raises(DivergenceError) as err:
        train_hebbian(x, is_test, NaNRule(member=1, value=value), RNN, stab, HEBB, name="circles/nan")
    message = str(err.value)
    assert message == "train_hebbian circles/nan: weights not finite after update 1 of epoch 1, seed 7"


def test_update_clipping_turns_an_infinite_change_into_a_bounded_one():
    x, is_test = data()
    result = train_hebbian(x, is_test, NaNRule(member=1, value=float("inf")), RNN, STAB, HEBB)
    assert np.isfinite(result.loss).all()


def test_a_rule_returning_nan_stops_meta_train_naming_step_dataset_and_seed():
    rng = np.random.default_rng(0)
    pools = {d: rng.standard_normal((50, 5)).astype(np.float32) for d in META.datasets}
    rule = make_rule("learned", RULES, RNN.T)
    with torch.no_grad():
        next(rule.parameters()).fill_(float("nan"))  # every output of f_theta is NaN
    with pytest.raises(DivergenceError, match=r"not finite at step 1 on dataset circles .*seed 11\)$"):
        meta_train(pools, rule, RNN, STAB, META, log_every=0)


def test_nonfinite_members_finds_each_bad_network():
    a, b = torch.zeros(4, 3, 3), torch.zeros(4)
    a[2, 0, 1], b[3] = float("inf"), float("nan")
    assert nonfinite_members(a, b) == [2, 3]
    assert nonfinite_members(torch.zeros(2, 5)) == []


def test_a_stage_reports_divergence_as_one_line_and_exit_2(tmp_path, monkeypatch, capsys, repo):
    (tmp_path / "params.yaml").write_text((repo / "params.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["stage"])

    def main(argv: list[str]) -> None:
        raise DivergenceError("meta_train: meta-loss not finite at step 3 on dataset moons (seed 0)")

    with pytest.raises(SystemExit) as exit_:
        stage.run(main)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err == "error: meta_train: meta-loss not finite at step 3 on dataset moons (seed 0)\n"
