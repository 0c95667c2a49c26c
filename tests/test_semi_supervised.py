from __future__ import annotations

import numpy as np
import pytest
import torch

from metahebb.params import RuleParams
from metahebb.rules import make_rule
from metahebb.semi_supervised import (
    meta_train_readout,
    readout_signals,
    train_readout,
    with_bias,
)

RULES = RuleParams(
    hebb_lr=0.05, oja_lr=0.01, hidden=8, init_step=0.002, neighbours=0, seed=0,
    base="hebb", max_step=0.01, residual_gain=0.1,
)  # fmt: skip


def separable(n: int, m: int = 12, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """k-cap-like binary codes in which neuron `label` always fires: a perfectly separable set."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=g)
    codes = (torch.rand(n, m, generator=g) < 0.2).float()
    codes[:, :2] = 0
    codes[torch.arange(n), labels] = 1
    return with_bias(codes), labels


@pytest.mark.parametrize("name", ["hebb", "learned"])
def test_update_of_a_synapse_ignores_other_output_neurons_targets(name):
    rule = make_rule(name, RULES, T=3)
    feats, labels = separable(6)
    w = torch.randn(1, 3, feats.shape[-1]) * 0.1
    targets = torch.nn.functional.one_hot(labels % 3, 3).float()[None]
    other = targets.clone()
    other[..., 2] = 1 - other[..., 2]  # perturb output neuron 2's teaching signal only
    a = rule.delta("out", readout_signals(w, feats[None], targets)[0])
    b = rule.delta("out", readout_signals(w, feats[None], other)[0])
    torch.testing.assert_close(a[:, :2], b[:, :2])
    assert not torch.equal(a[:, 2], b[:, 2])


@pytest.mark.parametrize("name", ["hebb", "learned"])
def test_separable_toy_set_reaches_full_accuracy(name):
    feats, labels = separable(40)
    test_feats, test_labels = separable(30, seed=1)
    history = train_readout(
        make_rule(name, RULES, T=3), feats[None], labels[None], test_feats[None], test_labels[None],
        classes=2, epochs=20, batch_size=8, clip=0.1, seed=0,
    )  # fmt: skip
    assert history.test_accuracy[-1, 0] == 1.0 and history.train_accuracy[-1, 0] == 1.0
    assert history.loss[-1, 0] < history.loss[0, 0]


def test_meta_trained_readout_rule_lowers_cross_entropy():
    feats, labels = separable(64)
    rule = make_rule("learned", RULES, T=3)
    before = {k: v.clone() for k, v in rule.state_dict().items()}
    losses = meta_train_readout(rule, [(feats[None].expand(4, -1, -1), labels)], 2, steps=60, lr=0.01,
                                batch_size=16, reset_every=20, clip=0.1, seed=0)  # fmt: skip
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    after = rule.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if k.split(".")[1] != "out")
