import dataclasses

import pytest
import torch

from metahebb.kcap_rnn import forward, init_network
from metahebb.params import KCapRNNParams
from metahebb.rules.attention import AttentionRule
from metahebb.rules.base import Synapses, synapses_of
from metahebb.rules.hebb import HebbRule
from metahebb.runtime import generator

T, DIM, LR = 3, 4, 0.01
CONFIGS = {
    "paper": dict(init_step=0.01, seed=0),
    "hebb_bounded": dict(init_step=0.004, seed=0, base_lr=LR, max_step=0.02),
}


def signals(
    P: int = 2, B: int = 5, m: int = 12, n: int = 4, k: int = 3, seed: int = 0
) -> dict[str, Synapses]:
    p = KCapRNNParams(m=m, k=k, T=T, bias=True, readout="linear", init="gaussian", init_gain=1.0)
    net = init_network(P, n, p, generator(seed))
    x = torch.randn(P, B, n, generator=generator(seed + 1))
    return synapses_of(net, forward(net, x, p), x)


def redrawn(s: Synapses, side: str, neuron: int, seed: int) -> Synapses:
    """Neuron `neuron`'s history on one side drawn anew (binary stays binary)."""
    t = getattr(s, side).clone()
    g = torch.Generator().manual_seed(seed)
    shape = t[..., neuron].shape
    binary = s.pre_binary if side == "pre" else s.post_binary
    t[..., neuron] = (
        torch.randint(0, 2, shape, generator=g).float() if binary else torch.randn(shape, generator=g)
    )
    return dataclasses.replace(s, **{side: t})


def test_parameter_count():
    rule = AttentionRule(T, DIM, **CONFIGS["paper"])
    assert sum(p.numel() for p in rule.parameters()) == 115
    per_matrix = {name: sum(p.numel() for p in head.parameters()) for name, head in rule.heads.items()}
    assert per_matrix == {"in": 36, "rec": 48, "out": 28}


@pytest.mark.parametrize("config", CONFIGS)
def test_update_shapes_finite_and_differentiable(config):
    syn = signals()
    rule = AttentionRule(T, DIM, **CONFIGS[config])
    delta = rule(syn)
    for name, s in syn.items():
        assert delta[name].shape == s.weight.shape
        assert torch.isfinite(delta[name]).all()
    sum((d * torch.randn(d.shape, generator=generator(2))).sum() for d in delta.values()).backward()
    for name, p in rule.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_bounded_step_holds():
    rule = AttentionRule(T, DIM, init_step=0.004, seed=0, max_step=0.02, residual_gain=100.0)
    with torch.no_grad():
        for p in rule.log_step.values():
            p.fill_(50.0)
        delta = rule(signals())
    assert all(d.abs().max().item() <= 0.02 * (1 + 1e-6) for d in delta.values())


@pytest.mark.parametrize("matrix", ["rec", "in"])
def test_locality_rows_read_only_their_own_post_neuron_and_the_whole_pre_neighbourhood(matrix):
    """Synapse (i,j) reads post neuron i and every pre neuron projecting to i (its neighbourhood).

    Redrawing another post neuron's history leaves row i bit-for-bit unchanged; redrawing one pre
    neuron j' changes row i beyond column j' too: attention normalises over all of i's inputs.
    """
    syn = signals(P=2, B=8, m=16, k=4)
    rule = AttentionRule(T, DIM, **CONFIGS["hebb_bounded"])
    s = syn[matrix]
    i, other, j = 3, 5, 2
    with torch.no_grad():
        base = rule.delta(matrix, s)
        post_changed = rule.delta(matrix, redrawn(s, "post", other, seed=7))
        pre_changed = rule.delta(matrix, redrawn(s, "pre", j, seed=8))
    rows = [r for r in range(base.shape[1]) if r != other]
    assert torch.equal(post_changed[:, rows], base[:, rows])
    assert not torch.equal(post_changed[:, other], base[:, other])
    cols = [c for c in range(base.shape[2]) if c != j]
    assert not torch.equal(pre_changed[:, i, cols], base[:, i, cols])


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("grad", [False, True], ids=["no_grad", "grad"])
def test_zero_residual_with_hebb_base_is_exactly_hebb(batch, grad):
    syn = signals(B=batch)
    rule = AttentionRule(T, DIM, init_step=0.004, seed=0, base_lr=LR, max_step=0.02, residual_gain=0.0)
    hebb = HebbRule(LR)
    with torch.set_grad_enabled(grad):
        for name, s in syn.items():
            assert torch.equal(rule.delta(name, s).detach(), hebb.delta(name, s))


@pytest.mark.parametrize("config", CONFIGS)
def test_in_place_update_without_gradient_is_the_same_arithmetic(config):
    syn = signals()
    rule = AttentionRule(T, DIM, **CONFIGS[config])
    recorded = rule(syn)
    with torch.no_grad():
        in_place = rule(syn)
    for name in recorded:
        assert torch.equal(recorded[name].detach(), in_place[name])


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("matrix", ["in", "rec", "out"])
def test_tabulate_is_the_update_of_a_lone_synapse(config, matrix):
    """Entry (post q, pre p) is the change of one synapse whose post neuron has only that pre neuron."""
    rule = AttentionRule(T, DIM, **CONFIGS[config])
    with torch.no_grad():
        for p in rule.parameters():  # a trained-looking theta, not the init
            p.add_(0.3 * torch.randn(p.shape, generator=generator(7)))
    table = rule.tabulate(matrix)
    values = table["values"]
    assert values.shape == (len(table["post"]), len(table["pre"])) and values.std() > 0
    row, col = len(table["post"]) - 2, 1
    pre = torch.tensor([float(v) for v in table["pre"][col].split(",")])
    post = torch.tensor([float(v) for v in table["post"][row].split(",")])
    binary = {"in": (False, True), "rec": (True, True), "out": (True, False)}[matrix]
    s = Synapses(pre.view(1, 1, -1, 1), post.view(1, 1, -1, 1), torch.zeros(1, 1, 1), *binary)
    assert rule.delta(matrix, s).item() == pytest.approx(values[row, col], rel=1e-6, abs=1e-9)
