import dataclasses
import math

import numpy as np
import pytest
import torch

from metahebb.kcap import kcap
from metahebb.kcap_rnn import forward, init_network
from metahebb.params import RULE_NAMES, HebbianParams, KCapRNNParams, ParamError, RuleParams, parse_group
from metahebb.rules import META_TRAINED, RULES, make_rule, synapses_of
from metahebb.rules.base import Synapses
from metahebb.rules.hebb import HebbRule
from metahebb.runtime import generator


def rnn_params(**over) -> KCapRNNParams:
    base = KCapRNNParams(m=16, k=4, T=3, bias=True, readout="linear", init="gaussian", init_gain=1.0)
    return dataclasses.replace(base, **over)


RULE_PARAMS = RuleParams(hebb_lr=0.01, oja_lr=0.01, hidden=8, init_step=0.01, neighbours=1, seed=0)
P, B, M, N, T = 2, 5, 12, 4, 3


def signals():
    p = rnn_params(m=M, k=3, T=T)
    net = init_network(P, N, p, generator(0))
    x = torch.randn(P, B, N, generator=generator(1))
    return net, synapses_of(net, forward(net, x, p), x)


HEBBIAN = {"rules": ["hebb"], "epochs": 1, "batch_size": 8, "seeds": [0], "collapse_codes": 10}


def test_a_registered_rule_is_one_the_params_accept(monkeypatch):
    """The registry owns the names: one line in RULES makes a rule buildable and valid in params.yaml."""
    with pytest.raises(ParamError, match="hebb_twice") as err:
        parse_group(HebbianParams, {**HEBBIAN, "rules": ["hebb_twice"]}, "train_hebbian")
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="registered: none, hebb"):
        make_rule("hebb_twice", RULE_PARAMS, T)
    monkeypatch.setitem(RULES, "hebb_twice", lambda p, T: HebbRule(2 * p.hebb_lr))
    assert parse_group(HebbianParams, {**HEBBIAN, "rules": ["hebb_twice"]}, "train_hebbian").rules == [
        "hebb_twice"
    ]
    _, syn = signals()
    twice, once = make_rule("hebb_twice", RULE_PARAMS, T)(syn), make_rule("hebb", RULE_PARAMS, T)(syn)
    assert all(torch.equal(twice[m], 2 * once[m]) for m in once)


@pytest.mark.parametrize("name", RULE_NAMES)
def test_update_shapes(name):
    net, syn = signals()
    delta = make_rule(name, RULE_PARAMS, T)(syn)
    for key, w in net.weights().items():
        assert delta[key].shape == w.shape
        assert torch.isfinite(delta[key]).all()


def _perturb(s: Synapses, side: str, neuron: int, seed: int) -> Synapses:
    """Redraw neuron `neuron`'s signals on one side (binary stays binary)."""
    t = (s.pre if side == "pre" else s.post).clone()
    g = torch.Generator().manual_seed(seed)
    binary = s.pre_binary if side == "pre" else s.post_binary
    new = (
        torch.randint(0, 2, t[..., neuron].shape, generator=g).float()
        if binary
        else torch.randn(t[..., neuron].shape, generator=g)
    )
    t[..., neuron] = new
    return dataclasses.replace(s, **{side: t})


@pytest.mark.parametrize("name", RULE_NAMES)
@pytest.mark.parametrize("matrix", ["in", "rec", "out"])
def test_locality(name, matrix):
    """Changing one neuron's signals leaves every synapse that neither touches nor sees it unchanged."""
    _, syn = signals()
    rule = make_rule(name, RULE_PARAMS, T)
    s = syn[matrix]
    base = rule.delta(matrix, s)
    r = rule.neighbours if hasattr(rule, "neighbours") else 0
    n_pre, n_post = s.pre.shape[-1], s.post.shape[-1]
    q = 2
    post_changed = rule.delta(matrix, _perturb(s, "post", q, 5))
    rows = [i for i in range(n_post) if i != q]
    if not getattr(rule, "competes", False):  # krotov: the runner-up is chosen among post neurons
        assert torch.allclose(post_changed[:, rows], base[:, rows], atol=1e-7)
    pre_changed = rule.delta(matrix, _perturb(s, "pre", q, 6))
    seen = {(q + o) % n_pre for o in range(-r, r + 1)}
    # attention, and rules that read a neuron's own current: a post neuron sees all its pre neurons
    if getattr(rule, "attends_to_all_pre", False) or getattr(rule, "reads_current", False):
        seen = set(range(n_pre))
    cols = [j for j in range(n_pre) if j not in seen]
    assert torch.allclose(pre_changed[:, :, cols], base[:, :, cols], atol=1e-7)


def hebb_as_learned(lr: float):
    """A learned rule whose MLPs compute exactly the paired products of plain Hebb."""
    rule = make_rule("learned", dataclasses.replace(RULE_PARAMS, hidden=T), T)
    big = 64.0  # a power of two: x + (big * gate - big) is exact
    with torch.no_grad():
        for mlp in rule.mlps.values():
            for p in mlp.parameters():
                p.zero_()
        # rec: pre x_1..x_T (bits 0..T-1), post x_2..x_{T+1} (bits T..2T-1): sum_t relu(pre_t + post_t - 1)
        rec = rule.mlps["rec"]
        for t in range(T):
            rec.w1[t, t] = rec.w1[t, T + t] = 1.0
            rec.b1[t] = -1.0
            rec.w2[t] = 1.0
        # in: pre x0_j (real), post x_1..: x0_j * post_1 = relu(x - C(1-p)) - relu(-x - C(1-p))
        # out: pre x_{T+1} (binary), post [error, target]: error * pre likewise
        for name, real, gate in (("in", 0, 1), ("out", 1, 0)):
            mlp = rule.mlps[name]
            mlp.w1[0, real], mlp.w1[1, real] = 1.0, -1.0
            mlp.w1[0, gate] = mlp.w1[1, gate] = big
            mlp.b1[0] = mlp.b1[1] = -big
            mlp.w2[0], mlp.w2[1] = 1.0, -1.0
        for p in rule.log_step.values():
            p.fill_(math.log(lr))
    return rule


def test_hand_set_learned_rule_reproduces_hebb():
    net, syn = signals()
    hebb = make_rule("hebb", RULE_PARAMS, T)(syn)
    learned = hebb_as_learned(RULE_PARAMS.hebb_lr)(syn)
    for key in hebb:
        assert hebb[key].abs().sum() > 0
        torch.testing.assert_close(learned[key], hebb[key], rtol=1e-5, atol=1e-8)


def test_none_changes_nothing_and_learned_is_bounded():
    _, syn = signals()
    assert all((d == 0).all() for d in make_rule("none", RULE_PARAMS, T)(syn).values())
    # a fresh learned rule moves a synapse by about init_step, not by O(1)
    delta = make_rule("learned", RULE_PARAMS, T)(syn)
    assert max(d.abs().max().item() for d in delta.values()) < 20 * RULE_PARAMS.init_step


@pytest.mark.parametrize("name", META_TRAINED)
def test_every_meta_trained_rule_tabulates_all_firing_patterns(name):
    rule = make_rule(name, RULE_PARAMS, T)
    table = rule.tabulate("rec")
    assert table["values"].shape == (2**T, 2**T) and table["values"].dtype == np.float64
    assert len(table["pre"]) == 2**T and len(table["post"]) == 2**T
    assert table["pre"][1] == "0,0,1" and table["post"][-1] == "1,1,1"
    assert rule.tabulate("in")["values"].shape == (2 ** (T + 1), 3)
    assert rule.tabulate("out")["values"].shape == (9, 2)
    assert all(np.isfinite(rule.tabulate(m)["values"]).all() for m in ("in", "rec", "out"))


@pytest.mark.parametrize("name", sorted(set(RULES) - set(META_TRAINED)))
def test_a_fixed_rule_has_no_table(name):
    assert make_rule(name, RULE_PARAMS, T).tabulate("rec") is None


BOUNDED = dataclasses.replace(RULE_PARAMS, base="hebb", max_step=0.02, init_step=0.004)


@pytest.mark.parametrize("params", [RULE_PARAMS, BOUNDED], ids=["paper", "hebb_bounded"])
def test_tabulate_matches_the_update_on_binary_patterns(params):
    """One sample, one synapse firing pattern: the update equals the table entry."""
    rule = make_rule("learned", params, T)
    table = rule.tabulate("rec")["values"]
    pre = torch.tensor([1.0, 0.0, 1.0])
    post = torch.tensor([0.0, 1.0, 1.0])
    s = Synapses(pre.view(1, 1, T, 1), post.view(1, 1, T, 1), torch.zeros(1, 1, 1), True, True)
    col, row = int("101", 2), int("011", 2)
    assert rule.delta("rec", s).item() == pytest.approx(table[row, col], rel=1e-5)


def test_kcap_signals_are_binary():
    _, syn = signals()
    assert torch.equal(syn["rec"].pre, kcap(syn["rec"].pre, 3))


@pytest.mark.parametrize("over", [{"neighbours": -1}, {"hebb_lr": -0.1}, {"oja_lr": -1.0}, {"hidden": 0}])
def test_bad_rule_params_fail_with_one_line(over):
    raw = {**dataclasses.asdict(RULE_PARAMS), **over}
    with pytest.raises(ParamError) as err:
        parse_group(RuleParams, raw, "rules")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["learned", "learned_extended"])
def test_bounded_step_holds_however_large_the_mlp_output(name):
    params = dataclasses.replace(RULE_PARAMS, max_step=0.005, init_step=0.001, residual_gain=1e4)
    rule = make_rule(name, params, T)
    with torch.no_grad():
        for p in rule.log_step.values():
            p.fill_(50.0)  # the step saturates at max_step, never beyond
    _, syn = signals()
    delta = rule(syn)
    assert all(d.abs().max().item() <= params.max_step * (1 + 1e-6) for d in delta.values())
    assert max(d.abs().max().item() for d in delta.values()) > 0.5 * params.max_step
    assert rule.step("rec").item() == pytest.approx(params.max_step)


def test_bounded_step_starts_at_init_step():
    params = dataclasses.replace(RULE_PARAMS, max_step=0.01, init_step=0.002)
    rule = make_rule("learned", params, T)
    assert all(rule.step(m).item() == pytest.approx(0.002) for m in ("in", "rec", "out"))


def test_hebb_base_with_zero_residual_is_exactly_hebb():
    _, syn = signals()
    params = dataclasses.replace(BOUNDED, residual_gain=0.0)
    hebb = make_rule("hebb", params, T)(syn)
    learned = make_rule("learned", params, T)(syn)
    for key in hebb:
        torch.testing.assert_close(learned[key], hebb[key], rtol=0, atol=0)


@pytest.mark.parametrize(
    "over",
    [{"base": "oja"}, {"max_step": -0.1}, {"max_step": 0.01, "init_step": 0.01}, {"residual_gain": -1.0}],
)
def test_bad_learned_rule_params_fail_with_one_line(over):
    raw = {**dataclasses.asdict(RULE_PARAMS), **over}
    with pytest.raises(ParamError) as err:
        parse_group(RuleParams, raw, "rules")
    assert "\n" not in str(err.value)


def test_integer_one_hot_equals_the_multilinear_one():
    from metahebb.rules.learned import bit_patterns, pattern_weights

    bits = torch.randint(0, 2, (2, 3, 5, 4), generator=generator(3)).float()
    patterns = bit_patterns(4)
    multilinear = pattern_weights(bits.requires_grad_(), patterns)
    assert multilinear.requires_grad  # the relaxation's gradient path is kept
    assert torch.equal(pattern_weights(bits.detach(), patterns), multilinear.detach())


@pytest.mark.parametrize("name", RULE_NAMES)
def test_population_update_equals_each_network_alone(name):
    """A rule on P networks at once gives each network the update it gets on its own."""
    net, syn = signals()
    rule = make_rule(name, RULE_PARAMS, T)
    together = rule(syn)
    for p in range(P):
        alone = rule(
            {
                k: dataclasses.replace(
                    s, pre=s.pre[p : p + 1], post=s.post[p : p + 1], weight=s.weight[p : p + 1]
                )
                for k, s in syn.items()
            }
        )
        for key in together:
            torch.testing.assert_close(together[key][p : p + 1], alone[key], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["hebb", "learned", "learned_extended"])
def test_in_place_update_without_gradient_is_the_same_arithmetic(name):
    _, syn = signals()
    rule = make_rule(name, dataclasses.replace(BOUNDED, base="hebb"), T)
    recorded = rule(syn)  # grad enabled: the differentiable form
    with torch.no_grad():
        in_place = rule(syn)
    for key in recorded:
        assert torch.equal(recorded[key].detach(), in_place[key])


def test_none_says_it_changes_nothing():
    assert not make_rule("none", RULE_PARAMS, T).changes_weights
    assert all(make_rule(n, RULE_PARAMS, T).changes_weights for n in RULE_NAMES if n != "none")


def tiny_synapses(pre: list[float], post: list[float], weight: list[list[float]]) -> Synapses:
    """One network, one sample, one step: pre (J,), post firing (I,), weights (I, J)."""
    return Synapses(
        torch.tensor(pre)[None, None, None], torch.tensor(post)[None, None, None], torch.tensor(weight)[None],
        pre_binary=False, post_binary=True,
    )  # fmt: skip


def test_softhebb_moves_a_firing_neurons_weights_towards_its_input_and_decays_along_them():
    s = tiny_synapses([1.0, 2.0], [1.0, 0.0], [[0.5, 0.0], [0.3, 0.4]])
    delta = make_rule("softhebb", dataclasses.replace(RULE_PARAMS, softhebb_lr=0.1), T).delta("in", s)
    u = 0.5 * 1.0 + 0.0 * 2.0  # neuron 0's own current
    expected = torch.tensor([[0.1 * (1.0 - u * 0.5), 0.1 * (2.0 - u * 0.0)], [0.0, 0.0]])  # silent: no change
    torch.testing.assert_close(delta[0], expected)


def test_krotov_pushes_the_strongest_silent_neuron_away():
    # neurons 1 and 2 are silent; neuron 2 has the larger current (0.9 > 0.1): it learns anti-Hebbian
    s = tiny_synapses([1.0, 0.0], [1.0, 0.0, 0.0], [[0.5, 0.0], [0.1, 0.0], [0.9, 0.0]])
    params = dataclasses.replace(RULE_PARAMS, krotov_lr=0.1, krotov_delta=0.5)
    delta = make_rule("krotov", params, T).delta("in", s)[0]
    torch.testing.assert_close(delta[0], torch.tensor([0.1 * (1.0 - 0.5 * 0.5), 0.0]))
    torch.testing.assert_close(delta[1], torch.zeros(2))
    torch.testing.assert_close(delta[2], torch.tensor([-0.1 * 0.5 * (1.0 - 0.9 * 0.9), 0.0]))


@pytest.mark.parametrize("name", ["softhebb", "krotov"])
def test_competitive_rules_learn_the_readout_by_the_delta_rule(name):
    _, syn = signals()
    lr = {"softhebb": {"softhebb_lr": 0.03}, "krotov": {"krotov_lr": 0.03}}[name]
    rule = make_rule(name, dataclasses.replace(RULE_PARAMS, **lr), T)
    torch.testing.assert_close(rule.delta("out", syn["out"]), HebbRule(0.03).delta("out", syn["out"]))
