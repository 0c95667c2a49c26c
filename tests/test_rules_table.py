import dataclasses

import pytest
import torch

from metahebb.kcap_rnn import forward, init_network
from metahebb.params import KCapRNNParams
from metahebb.rules.base import MATRICES, Synapses, synapses_of
from metahebb.rules.hebb import HebbRule
from metahebb.rules.table import TableRule
from metahebb.runtime import generator

T, LR = 3, 0.01


def signals(
    P: int = 2, B: int = 5, m: int = 12, n: int = 4, k: int = 3, seed: int = 0
) -> dict[str, Synapses]:
    p = KCapRNNParams(m=m, k=k, T=T, bias=True, readout="linear", init="gaussian", init_gain=1.0)
    net = init_network(P, n, p, generator(seed))
    x = torch.randn(P, B, n, generator=generator(seed + 1))
    return synapses_of(net, forward(net, x, p), x)


def with_firing_grad(s: Synapses) -> Synapses:
    """The same signals, binary sides carrying a gradient (as through a k-cap relaxation)."""
    pre = s.pre.clone().requires_grad_() if s.pre_binary else s.pre
    post = s.post.clone().requires_grad_() if s.post_binary else s.post
    return dataclasses.replace(s, pre=pre, post=post)


def randomised(rule: TableRule, seed: int = 0) -> TableRule:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in rule.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return rule


@pytest.mark.parametrize("batch", [1, 5, 32])
@pytest.mark.parametrize("grad", [False, True], ids=["no_grad", "grad"])
@pytest.mark.parametrize("firing_grad", [False, True], ids=["hard", "relaxed"])
def test_init_is_bit_for_bit_hebb(batch, grad, firing_grad):
    syn = signals(P=3, B=batch, m=16, n=5, k=4)
    hebb, table = HebbRule(LR), TableRule(T, LR)
    for name, s in syn.items():
        expected = hebb.delta(name, s)
        if firing_grad:
            s = with_firing_grad(s)
        with torch.set_grad_enabled(grad):
            got = table.delta(name, s)
        assert got.requires_grad == grad
        assert expected.abs().sum() > 0
        assert torch.equal(got.detach(), expected), name


def _index(x: torch.Tensor) -> torch.Tensor:
    """(P,B,S,N) binary -> (P,B,N) pattern number, first step most significant."""
    place = 2 ** torch.arange(x.shape[2] - 1, -1, -1)
    return (x.long() * place[:, None]).sum(dim=2)


def test_tables_are_read_with_rows_post_and_columns_pre():
    """Random tables against a direct lookup of each synapse's entry by its firing patterns."""
    syn = signals()
    rule = randomised(TableRule(T, LR))
    steps = {name: LR * rule.log_gain[name].exp().item() for name in MATRICES}
    with torch.no_grad():
        s = syn["rec"]
        expected = rule.tables["rec"][_index(s.post)[..., :, None], _index(s.pre)[..., None, :]].mean(1)
        torch.testing.assert_close(rule.delta("rec", s), steps["rec"] * expected)
        s = syn["in"]
        expected = (rule.tables["in"][_index(s.post)][..., :, None] * s.pre[:, :, 0, None, :]).mean(1)
        torch.testing.assert_close(rule.delta("in", s), steps["in"] * expected)
        s = syn["out"]
        c = rule.tables["out"][_index(s.pre)]  # (P,B,J,channel)
        expected = torch.einsum("pbci,pbjc->pbij", s.post, c).mean(1)
        torch.testing.assert_close(rule.delta("out", s), steps["out"] * expected)


def test_tabulate_matches_the_update_on_binary_patterns():
    rule = randomised(TableRule(T, LR), seed=1)
    table = rule.tabulate("rec")
    assert table["values"].shape == (2**T, 2**T)
    assert table["pre"][int("101", 2)] == "1,0,1"
    pre, post = torch.tensor([1.0, 0.0, 1.0]), torch.tensor([0.0, 1.0, 1.0])
    s = Synapses(pre.view(1, 1, T, 1), post.view(1, 1, T, 1), torch.zeros(1, 1, 1), True, True)
    with torch.no_grad():
        value = rule.delta("rec", s).item()
    assert value == pytest.approx(table["values"][int("011", 2), int("101", 2)], rel=1e-6)
    assert rule.tabulate("in")["values"].shape == (2 ** (T + 1), 3)
    assert rule.tabulate("out")["values"].shape == (9, 2)


def test_init_table_is_hebb_in_the_heatmap():
    table = TableRule(T, LR).tabulate("rec")["values"]
    assert table[int("111", 2), int("111", 2)] == pytest.approx(3 * LR)
    assert table[int("100", 2), int("011", 2)] == 0.0


def test_differentiable_in_the_table_and_through_the_firing():
    syn = signals()
    rule = randomised(TableRule(T, LR), seed=2)
    relaxed = {name: with_firing_grad(s) for name, s in syn.items()}
    loss = sum((d * torch.randn(d.shape, generator=generator(3))).sum() for d in rule(relaxed).values())
    loss.backward()
    for name, p in rule.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    for name, s in relaxed.items():
        for side in ("pre", "post"):
            t = getattr(s, side)
            if t.requires_grad:
                assert t.grad is not None and t.grad.abs().sum() > 0, (name, side)


def test_locality():
    """A synapse's change reads only its own pre and post neuron."""
    syn = signals()
    rule = randomised(TableRule(T, LR), seed=4)
    for name, s in syn.items():
        with torch.no_grad():
            base = rule.delta(name, s)
            post = s.post.clone()
            post[..., 1] = 1 - post[..., 1] if s.post_binary else post[..., 1] + 1
            rows = rule.delta(name, dataclasses.replace(s, post=post)) != base
            pre = s.pre.clone()
            pre[..., 1] = 1 - pre[..., 1] if s.pre_binary else pre[..., 1] + 1
            cols = rule.delta(name, dataclasses.replace(s, pre=pre)) != base
        assert rows[:, 1].any() and not rows[:, [0, *range(2, rows.shape[1])]].any()
        assert cols[:, :, 1].any() and not cols[:, :, [0, *range(2, cols.shape[2])]].any()
