"""Meta-objectives: each matches its formula, label objectives prefer codes that separate classes."""

import dataclasses

import numpy as np
import pytest
import torch
from tiny import META, RNN

from metahebb.kcap_rnn import Trace, forward, init_network, reconstruction_loss
from metahebb.objectives import OBJECTIVES, ObjectiveBatch, objective_loss
from metahebb.objectives.labels import labelled_first
from metahebb.params import LABEL_OBJECTIVES, MetaParams, ParamError, parse_group
from metahebb.runtime import generator

P, B, N_IN, FIT = 3, 30, 5, 12


def network_pass() -> tuple[Trace, torch.Tensor]:
    """A real k-cap pass of P fresh networks over their own batches (P,B,n)."""
    net = init_network(P, N_IN, RNN, generator(0))
    x = torch.randn(P, B, N_IN, generator=generator(1))
    return forward(net, x, RNN), x


def ridge_by_hand(code: np.ndarray, x: np.ndarray, fit: int, lam: float) -> float:
    """Ridge map [code, 1] -> x fitted on the first `fit` points, mean squared error on the rest."""
    h = np.concatenate([code, np.ones((len(code), 1))], axis=1).astype(np.float64)
    w = np.linalg.solve(h[:fit].T @ h[:fit] + lam * np.eye(h.shape[1]), h[:fit].T @ x[:fit])
    return float(((h[fit:] @ w - x[fit:]) ** 2).mean())


def test_ridge_is_a_held_out_ridge_fit_and_paper_is_the_reconstruction_loss():
    trace, x = network_pass()
    batch = ObjectiveBatch(x, FIT)
    ridge = objective_loss("ridge", trace, batch, META)
    code = trace.states[:, :, -1].numpy()
    expected = [ridge_by_hand(code[p], x[p].numpy(), FIT, META.ridge_lambda) for p in range(P)]
    np.testing.assert_allclose(ridge.numpy(), expected, rtol=1e-4)
    paper = objective_loss("paper", trace, batch, META)
    torch.testing.assert_close(paper, reconstruction_loss(trace.output, x))
    torch.testing.assert_close(objective_loss("both", trace, batch, META), paper + ridge)


def code_trace(code: torch.Tensor) -> Trace:
    """A trace whose last state is `code` (P,B,m); only the code matters to label objectives."""
    states = torch.stack([torch.zeros_like(code), code], dim=2)
    return Trace(torch.zeros(*code.shape[:2], 1), states, torch.zeros(*code.shape[:2], 1))


def labelled_codes() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Labels (P,B), a k-hot code that separates the two classes, and a random k-hot code."""
    m, k = RNN.m, RNN.k
    y = torch.stack([torch.randperm(B, generator=generator(p)) % 2 for p in range(P)])
    separating = torch.zeros(P, B, m)
    separating[y == 0, :k] = 1.0
    separating[y == 1, k : 2 * k] = 1.0
    scores = torch.rand(P, B, m, generator=generator(7))
    random = torch.zeros(P, B, m).scatter_(2, scores.topk(k, dim=2).indices, 1.0)
    return y, separating, random


@pytest.mark.parametrize("name", LABEL_OBJECTIVES)
def test_label_objectives_prefer_a_code_that_separates_the_classes(name):
    y, separating, random = labelled_codes()
    batch = ObjectiveBatch(torch.zeros(P, B, 1), FIT, y)
    good = objective_loss(name, code_trace(separating), batch, META)
    bad = objective_loss(name, code_trace(random), batch, META)
    assert (good < bad).all(), (good, bad)
    if name == "labels_acc":
        assert (good == 0).all()
        assert ((bad >= 0) & (bad <= 1)).all()


def test_labels_ce_has_a_gradient_in_the_code():
    y, _, random = labelled_codes()
    code = random.clone().requires_grad_()
    loss = objective_loss("labels_ce", code_trace(code), ObjectiveBatch(torch.zeros(P, B, 1), FIT, y), META)
    loss.sum().backward()
    assert torch.isfinite(code.grad).all() and code.grad.abs().sum() > 0


@pytest.mark.parametrize("name", LABEL_OBJECTIVES)
def test_a_label_objective_without_labels_is_refused(name):
    trace, x = network_pass()
    with pytest.raises(ValueError, match="needs labels"):
        objective_loss(name, trace, ObjectiveBatch(x, FIT), META)


@pytest.mark.parametrize("classes, labels", [(2, 8), (2, 5), (10, 10), (10, 13), (3, 7)])
def test_labelled_first_is_a_balanced_draw_then_the_rest(classes, labels):
    """The few labelled points a label objective fits on hold every class, as evenly as possible."""
    y = torch.arange(20 * classes) % classes
    y = y[torch.randperm(len(y), generator=generator(3))]
    order = labelled_first(y, labels, generator(0))
    assert torch.equal(order.sort().values, torch.arange(len(y)))
    counts = torch.bincount(y[order[:labels]], minlength=classes)
    assert counts.sum() == labels and counts.max() - counts.min() <= 1
    assert torch.equal(order, labelled_first(y, labels, generator(0)))
    assert not torch.equal(order, labelled_first(y, labels, generator(1)))


def test_the_schema_accepts_the_registered_objectives_with_the_optimiser_and_labels_they_need():
    raw = {f.name: getattr(META, f.name) for f in dataclasses.fields(META)}

    def parse(**changes) -> MetaParams:
        return parse_group(MetaParams, {**raw, **changes}, "meta_train")

    for name, objective in OBJECTIVES.items():
        optimizer = "gradient" if objective.differentiable else "es"
        assert parse(objective=name, optimizer=optimizer).objective == name
        if not objective.differentiable:
            with pytest.raises(ParamError, match="has no gradient"):
                parse(objective=name, optimizer="gradient")
        if objective.uses_labels:
            with pytest.raises(ParamError, match="needs labels"):
                parse(objective=name, optimizer=optimizer, objective_labels=1)
    with pytest.raises(
        ParamError, match=r"meta_train\.objective='unregistered': accepted values are one of paper"
    ):
        parse(objective="unregistered")


@pytest.mark.parametrize("name", OBJECTIVES)
def test_every_registered_objective_scores_each_network(name):
    trace, x = network_pass()
    y = torch.stack([torch.randperm(B, generator=generator(p)) % 2 for p in range(P)])
    loss = objective_loss(name, trace, ObjectiveBatch(x, FIT, y), META)
    assert loss.shape == (P,) and torch.isfinite(loss).all()


def test_labels_kernel_is_sklearns_rbf_kernel_ridge_on_the_standardised_concatenated_states():
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.preprocessing import StandardScaler

    trace, _ = network_pass()
    y = torch.stack([torch.randperm(B, generator=generator(p)) % 2 for p in range(P)])
    loss = objective_loss("labels_kernel", trace, ObjectiveBatch(torch.zeros(P, B, 1), FIT, y), META)
    for p in range(P):
        code = StandardScaler().fit_transform(trace.states[p].reshape(B, -1).double().numpy())
        gamma = 1.0 / (code.shape[1] * code[:FIT].var())
        onehot = np.eye(2)[y[p, :FIT].numpy()]
        model = KernelRidge(alpha=META.ridge_lambda, kernel="rbf", gamma=gamma).fit(code[:FIT], onehot)
        error = (model.predict(code[FIT:]).argmax(axis=1) != y[p, FIT:].numpy()).mean()
        assert loss[p].item() == pytest.approx(error)


def test_labels_kernel_sees_every_state_not_only_the_last():
    """Two classes told apart only by x_1: a last-state objective cannot see it, labels_kernel does."""
    y, separating, _ = labelled_codes()
    last = torch.zeros_like(separating)
    last[..., : RNN.k] = 1.0  # one code for every point
    trace = Trace(torch.zeros(P, B, 1), torch.stack([separating, last], dim=2), torch.zeros(P, B, 1))
    batch = ObjectiveBatch(torch.zeros(P, B, 1), FIT, y)
    assert (objective_loss("labels_kernel", trace, batch, META) == 0).all()
    assert (objective_loss("labels_acc", trace, batch, META) > 0.2).all()
