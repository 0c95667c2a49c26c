"""The benchmarks' per-sample baseline computes what the library computes (tiny case; nothing is timed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from metahebb.kcap_rnn import init_network
from metahebb.outer.gradient import meta_loss
from metahebb.params import KCapRNNParams, MetaParams, RuleParams, StabiliserParams
from metahebb.plasticity import plastic_step
from metahebb.rules import make_rule
from metahebb.runtime import generator
from metahebb.stabilisers import prepare

_spec = importlib.util.spec_from_file_location(
    "benchmark_baseline", Path(__file__).resolve().parents[1] / "benchmarks" / "baseline.py"
)
baseline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(baseline)

RNN = KCapRNNParams(m=12, k=3, T=2, bias=True, readout="linear", init="gaussian", init_gain=1.0)
STAB = StabiliserParams(homeostasis=True, homeostasis_rate=0.05, normalise_rows=True, clip=0.1)
RULES = RuleParams(hebb_lr=0.01, oja_lr=0.01, hidden=6, init_step=0.01, neighbours=1, seed=0)
P, N = 3, 4


def population():
    return prepare(init_network(P, N, RNN, generator(0)), RNN, STAB)


@pytest.mark.parametrize("rule_name", ["hebb", "learned", "learned_extended"])
@pytest.mark.parametrize("batch", [1, 5])
def test_baseline_matches_plastic_step(rule_name, batch):
    rule = make_rule(rule_name, RULES, RNN.T)
    net = population()
    x = torch.randn(P, 3 * batch, N, generator=generator(1))
    nets = baseline.split(net)
    with torch.no_grad():
        for i in range(3):
            xi = x[:, i * batch : (i + 1) * batch]
            net, trace = plastic_step(net, xi, rule, RNN, STAB)
            nets = baseline.plastic_step(nets, xi, rule_name, rule, RNN, STAB)
    for p, w in enumerate(nets):
        assert torch.allclose(net.w_in[p], w["in"], atol=1e-6)
        assert torch.allclose(net.w_rec[p], w["rec"], atol=1e-6)
        assert torch.allclose(net.w_out[p], w["out"], atol=1e-6)
        assert torch.allclose(net.h[p], w["h"], atol=1e-6)


@pytest.mark.parametrize("objective, lookahead", [("paper", 1), ("paper", 2), ("both", 1)])
def test_baseline_meta_loss_and_gradient(objective, lookahead):
    meta = MetaParams(
        rules=["learned"], datasets=["circles"], steps=1, lr=0.01, population=P, batch_size=6,
        reset_every=10, lookahead=lookahead, relaxation="ste", temperature=0.5, objective=objective,
        ridge_lambda=1.0, grad_clip=1.0, seed=0, collapse_penalty=0.1,
    )  # fmt: skip
    net = population()
    batches = [torch.randn(P, 6, N, generator=generator(2 + i)) for i in range(lookahead + 1)]
    r_lib, r_base = make_rule("learned", RULES, RNN.T), make_rule("learned", RULES, RNN.T)
    lib = meta_loss(r_lib, net, batches, RNN, STAB, meta)[0]
    base = baseline.meta_loss("learned", r_base, baseline.split(net), batches, RNN, STAB, meta)
    assert torch.allclose(lib, base, rtol=1e-5, atol=1e-6)
    lib.mean().backward()
    base.mean().backward()
    g_lib = torch.cat([p.grad.flatten() for p in r_lib.parameters()])
    g_base = torch.cat([p.grad.flatten() for p in r_base.parameters()])
    if lookahead == 1:  # the update reads hard codes: the gradient reaches theta only through the change
        assert torch.allclose(g_lib, g_base, rtol=1e-4, atol=1e-7)
    else:  # later updates read relaxed codes: f's derivative (baseline) vs its multilinear extension's (library)
        assert torch.nn.functional.cosine_similarity(g_lib, g_base, dim=0) > 0.99
