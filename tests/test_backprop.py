from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from metahebb.autoencoders import make_autoencoder
from metahebb.backprop import hidden_states, train_autoencoders
from metahebb.params import BackpropParams, load_group


@pytest.fixture
def params(repo):
    p = load_group(BackpropParams, "backprop", repo / "params.yaml")
    return dataclasses.replace(p, hidden=8, epochs=100, batch_size=16, seeds=[0, 1])


@pytest.fixture
def x():
    z = np.random.default_rng(0).normal(size=(120, 2))
    return (z @ np.random.default_rng(1).normal(size=(2, 10))).astype(np.float32)


def test_rnn_shares_one_recurrent_matrix_mlp_does_not():
    mlp, rnn = (make_autoencoder(a, 10, 16, "tanh", [0, 1]) for a in ("mlp", "rnn"))
    n_mlp = sum(p.numel() for p in mlp.parameters())
    n_rnn = sum(p.numel() for p in rnn.parameters())
    assert n_mlp - n_rnn == 2 * (16 * 16 + 16)  # one hidden-to-hidden layer fewer, per seed
    _, states = rnn(torch.zeros(2, 5, 10))
    assert len(states) == 3 and all(s.shape == (2, 5, 16) for s in states)


@pytest.mark.parametrize("arch", ["mlp", "rnn"])
def test_training_lowers_the_loss_and_is_reproducible(arch, params, x):
    a = train_autoencoders(x, arch, params, torch.device("cpu"))
    b = train_autoencoders(x, arch, params, torch.device("cpu"))
    assert a.losses.shape == (params.epochs + 1, 2)
    assert (a.losses[-1] < 0.05 * a.losses[0]).all()
    np.testing.assert_array_equal(a.losses, b.losses)


def test_a_seed_trains_the_same_alone_or_in_a_population(params, x):
    together = train_autoencoders(x, "rnn", params, torch.device("cpu"))
    alone = train_autoencoders(x, "rnn", dataclasses.replace(params, seeds=[1]), torch.device("cpu"))
    np.testing.assert_allclose(together.losses[:, 1], alone.losses[:, 0], rtol=1e-4)


def test_plateau_flag(params, x):
    stuck = train_autoencoders(x, "mlp", dataclasses.replace(params, epochs=1, lr=1e-6), torch.device("cpu"))
    assert stuck.plateau.all()
    states = hidden_states(stuck.model, x[:7], 2, torch.device("cpu"))
    assert [s.shape for s in states] == [(2, 7, 8)] * 3


def test_the_bottleneck_autoencoder_has_a_latent_of_its_width():
    model = make_autoencoder("mlp2d", 10, 16, "tanh", [0, 1], bottleneck=2)
    out, states = model(torch.randn(2, 7, 10))
    assert out.shape == (2, 7, 10) and [s.shape[-1] for s in states] == [16, 16, 2]
    same = make_autoencoder("mlp", 10, 16, "tanh", [0, 1])
    torch.testing.assert_close(model.layers[0].weight, same.layers[0].weight)  # the same seeded init up to h2
