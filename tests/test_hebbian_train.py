import dataclasses

import numpy as np
import pytest
import torch
from tiny import RNN, RULES, STAB

from metahebb.hebbian_train import collapse_stats, train_hebbian, train_summary
from metahebb.kcap_rnn import init_network
from metahebb.params import (
    RULE_NAMES,
    HebbianParams,
    ParamError,
    parse_group,
)
from metahebb.plasticity import plastic_step
from metahebb.rules import make_rule
from metahebb.rules.base import Rule
from metahebb.runtime import generator
from metahebb.stabilisers import prepare

HEBB = HebbianParams(rules=["none", "hebb", "oja"], epochs=3, batch_size=8, seeds=[0, 1])


def tiny_dataset(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((n, 2)) @ rng.standard_normal((2, 5))).astype(np.float32)
    return x, np.arange(n) % 4 == 0


class Spy(Rule):
    """Wraps a rule and records whether any gradient could be taken while it runs."""

    def __init__(self, inner: Rule) -> None:
        super().__init__()
        self.inner, self.seen = inner, []

    def delta(self, name, s):
        d = self.inner.delta(name, s)
        self.seen.append((torch.is_grad_enabled(), d.requires_grad, s.weight.requires_grad))
        return d


@pytest.mark.parametrize("name", RULE_NAMES)
def test_frozen_rule_training_shapes_and_no_gradients(name):
    x, is_test = tiny_dataset()
    spy = Spy(make_rule(name, RULES, RNN.T))
    result = train_hebbian(x, is_test, spy, RNN, STAB, HEBB)
    assert spy.seen and not any(any(flags) for flags in spy.seen)
    n_train, n_test = (~is_test).sum(), is_test.sum()
    assert result.loss.shape == (HEBB.epochs + 1, 2) and np.isfinite(result.loss).all()
    assert result.views["last"][0].shape == (2, n_train, RNN.m)
    assert result.views["concat"][1].shape == (2, n_test, RNN.m * (RNN.T + 1))
    assert len(result.collapse) == 2
    assert all(np.isfinite(v) for stats in result.collapse for v in stats.values())
    assert all(stats["collapsed"] in (0.0, 1.0) for stats in result.collapse)


def test_learned_rule_theta_is_untouched():
    x, is_test = tiny_dataset()
    rule = make_rule("learned", RULES, RNN.T)
    before = {k: v.clone() for k, v in rule.state_dict().items()}
    train_hebbian(x, is_test, rule, RNN, STAB, HEBB)
    assert all(torch.equal(before[k], v) for k, v in rule.state_dict().items())


def test_none_keeps_the_initial_weights_and_seeds_differ():
    x, is_test = tiny_dataset()
    result = train_hebbian(x, is_test, make_rule("none", RULES, RNN.T), RNN, STAB, HEBB)
    start = prepare(init_network(1, 5, RNN, generator(1)), RNN, STAB)
    assert torch.equal(result.network.w_rec[1], start.w_rec[0])
    assert not np.array_equal(result.views["last"][1][0], result.views["last"][1][1])


def test_per_sample_mode_matches_its_own_rerun():
    x, is_test = tiny_dataset()
    params = dataclasses.replace(HEBB, batch_size=1, epochs=1)
    a, b = (train_hebbian(x, is_test, make_rule("hebb", RULES, RNN.T), RNN, STAB, params) for _ in range(2))
    assert np.array_equal(a.views["concat"][0], b.views["concat"][0])


def test_collapse_stats_detect_a_collapsed_code():
    states = np.zeros((50, 3, 8), dtype=np.float32)
    states[:, :, :2] = 1
    stats = collapse_stats(states, collapse_codes=10)
    assert stats["distinct_codes_last"] == 1 and stats["active_fraction_last"] == 0.25
    assert stats["collapsed"] == 1.0


def test_collapse_flag_follows_the_collapse_codes_param():
    states = np.zeros((30, 2, 6), dtype=np.float32)
    for i in range(30):
        states[i, :, i % 3] = 1  # three distinct codes
    assert collapse_stats(states, collapse_codes=3)["collapsed"] == 0.0
    assert collapse_stats(states, collapse_codes=4)["collapsed"] == 1.0


@pytest.mark.parametrize(
    "over", [{"epochs": 0}, {"batch_size": 0}, {"seeds": []}, {"seeds": [1, 1]}, {"collapse_codes": 0}]
)
def test_bad_hebbian_params_fail_with_one_line(over):
    raw = {**dataclasses.asdict(HEBB), **over}
    with pytest.raises(ParamError) as err:
        parse_group(HebbianParams, raw, "train_hebbian")
    assert "\n" not in str(err.value)


def test_train_summary_aggregates_seeds():
    x, is_test = tiny_dataset()
    result = train_hebbian(x, is_test, make_rule("hebb", RULES, RNN.T), RNN, STAB, HEBB)
    summary = train_summary(result, HEBB.seeds)
    assert set(summary["seeds"]) == {"0", "1"}
    codes = [s["distinct_codes_last"] for s in result.collapse]
    assert summary["distinct_codes_last"] == pytest.approx(np.mean(codes))
    assert summary["collapsed_runs"] == sum(s["collapsed"] for s in result.collapse)


@pytest.mark.parametrize("name, batch_size", [("hebb", 8), ("learned", 8), ("oja", 1)])
def test_a_population_equals_separate_runs_with_the_same_seeds(name, batch_size):
    """Seeds [0, 1, 2] trained side by side give seed 1 exactly what seed 1 alone gets."""
    x, is_test = tiny_dataset()
    params = dataclasses.replace(HEBB, seeds=[0, 1, 2], batch_size=batch_size, epochs=2)
    together = train_hebbian(x, is_test, make_rule(name, RULES, RNN.T), RNN, STAB, params)
    alone = train_hebbian(
        x, is_test, make_rule(name, RULES, RNN.T), RNN, STAB, dataclasses.replace(params, seeds=[1])
    )
    for view in ("last", "concat"):
        for split in (0, 1):
            assert np.array_equal(together.views[view][split][1], alone.views[view][split][0])
    np.testing.assert_allclose(together.loss[:, 1], alone.loss[:, 0], rtol=1e-6)
    torch.testing.assert_close(together.network.w_rec[1], alone.network.w_rec[0], rtol=1e-6, atol=1e-7)
    assert together.collapse[1] == alone.collapse[0]


def test_explicit_cpu_device_is_the_default_path():
    x, is_test = tiny_dataset()
    a = train_hebbian(x, is_test, make_rule("hebb", RULES, RNN.T), RNN, STAB, HEBB)
    b = train_hebbian(
        x, is_test, make_rule("hebb", RULES, RNN.T), RNN, STAB, HEBB, device=torch.device("cpu")
    )
    assert np.array_equal(a.loss, b.loss) and np.array_equal(a.views["concat"][1], b.views["concat"][1])


def test_plastic_step_leaves_the_old_network_untouched():
    """The no-gradient update works in the rule's buffers, never in the weights it was given."""
    net = prepare(init_network(2, 5, RNN, generator(0)), RNN, STAB)
    before = [w.clone() for w in net.weights().values()]
    x = torch.randn(2, 4, 5, generator=generator(1))
    with torch.no_grad():
        new, _ = plastic_step(net, x, make_rule("hebb", RULES, RNN.T), RNN, STAB)
    assert all(torch.equal(a, b) for a, b in zip(before, net.weights().values(), strict=True))
    assert not torch.equal(new.w_rec, net.w_rec)
