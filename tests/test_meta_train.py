import dataclasses

import numpy as np
import pytest
import torch
from tiny import META, RNN, RULES, STAB

from metahebb.errors import DivergenceError
from metahebb.kcap import kcap
from metahebb.kcap_rnn import init_network
from metahebb.outer.gradient import collapse_penalty, meta_loss, meta_train
from metahebb.params import (
    MetaParams,
    ParamError,
    parse_group,
)
from metahebb.rules import make_rule
from metahebb.runtime import generator
from metahebb.stabilisers import prepare


def tiny_data(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    proj = rng.standard_normal((2, 5))
    return {name: (rng.standard_normal((80, 2)) @ proj).astype(np.float32) for name in ("circles", "moons")}


def fixed_loss(rule, params: MetaParams) -> float:
    """The meta-objective on fixed fresh networks and batches, to compare two thetas fairly."""
    net = prepare(init_network(8, 5, RNN, generator(99)), RNN, STAB)
    data = torch.from_numpy(tiny_data(1)["circles"])
    batches = [data[torch.randint(80, (8, 16), generator=generator(s))] for s in range(params.lookahead + 1)]
    with torch.no_grad():
        return meta_loss(rule, net, batches, RNN, STAB, params)[0].mean().item()


@pytest.mark.parametrize(
    "name, over",
    [("learned", {}), ("learned_extended", {}), ("learned", {"lookahead": 2, "relaxation": "soft"})],
)
def test_meta_training_lowers_the_meta_loss(name, over):
    params = dataclasses.replace(META, **over)
    rule = make_rule(name, RULES, RNN.T)
    _check_lowers(name, rule, params)


def test_hebb_residual_with_collapse_penalty_lowers_the_meta_loss():
    rules = dataclasses.replace(RULES, base="hebb", max_step=0.2, init_step=0.02)
    params = dataclasses.replace(META, collapse_penalty=1.0, lr=0.05)
    result = _check_lowers("learned", make_rule("learned", rules, RNN.T), params, rules)
    assert all(0 < result.summary[f"step_{m}"] < rules.max_step for m in ("in", "rec", "out"))


def _check_lowers(name, rule, params, rules=RULES):
    before = fixed_loss(rule, params)
    result = meta_train(tiny_data(), rule, RNN, STAB, params, log_every=0)
    assert fixed_loss(rule, params) < 0.9 * before
    assert len(result.history["meta_loss"]) == params.steps
    assert set(result.history) == {"meta_loss", "meta_loss_circles", "meta_loss_moons"}
    assert all(np.isfinite(v) for v in result.summary.values())
    # theta round-trips into a fresh rule
    assert make_rule(name, rules, RNN.T, theta=result.theta).tabulate("rec")["values"].shape == (4, 4)
    return result


def test_collapse_penalty_is_zero_for_uniform_firing_and_one_for_a_fixed_code():
    m, k = 8, 2
    uniform = torch.zeros(1, m, 3, m)  # every neuron fires in exactly k of m samples, at each step
    for b in range(m):
        uniform[0, b, :, [b, (b + 1) % m]] = 1.0
    assert collapse_penalty(uniform, k).item() == pytest.approx(0.0)
    fixed = kcap(torch.arange(float(m)).expand(1, 16, 3, m), k)  # the same k neurons always
    assert collapse_penalty(fixed, k).item() == pytest.approx(1.0)


@pytest.mark.parametrize("objective", ["ridge", "both"])
def test_representation_objectives_run(objective):
    params = dataclasses.replace(META, objective=objective, steps=5)
    result = meta_train(tiny_data(), make_rule("learned", RULES, RNN.T), RNN, STAB, params, log_every=0)
    assert np.isfinite(result.history["meta_loss"]).all()


def test_divergence_names_step_and_dataset():
    data = tiny_data()
    data["moons"][:] = np.nan
    with pytest.raises(DivergenceError, match=r"step 1 on dataset moons"):
        meta_train(data, make_rule("learned", RULES, RNN.T), RNN, STAB, META, log_every=0)


@pytest.mark.parametrize(
    "over",
    [
        {"lookahead": 0},
        {"lr": -0.1},
        {"datasets": ["circles", "spirals"]},
        {"relaxation": "gumbel"},
        {"collapse_penalty": -1.0},
    ],
)
def test_bad_meta_params_fail_with_one_line(over):
    raw = {**dataclasses.asdict(META), **over}
    with pytest.raises(ParamError) as err:
        parse_group(MetaParams, raw, "meta_train")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("over", [{}, {"lookahead": 2, "objective": "both", "collapse_penalty": 0.1}])
def test_a_population_meta_loss_equals_each_network_alone(over):
    """Per-network losses and theta's gradient of P networks at once equal those of P separate runs."""
    params = dataclasses.replace(META, **over)
    net = prepare(init_network(3, 5, RNN, generator(5)), RNN, STAB)
    data = torch.from_numpy(tiny_data(1)["circles"])
    size = params.batch_size * (2 if params.objective != "paper" else 1)
    batches = [
        data[torch.randint(80, (3, size), generator=generator(s))] for s in range(params.lookahead + 1)
    ]
    rule = make_rule("learned", RULES, RNN.T)

    def grads(losses):
        return torch.autograd.grad(losses.sum(), list(rule.parameters()))

    together = meta_loss(rule, net, batches, RNN, STAB, params)[0]
    grad_together = grads(together)
    alone, grad_alone = [], None
    for p in range(3):
        one = type(net)(*(t[p : p + 1] for t in (net.w_in, net.w_rec, net.w_out, net.h)))
        loss = meta_loss(rule, one, [b[p : p + 1] for b in batches], RNN, STAB, params)[0]
        alone.append(loss)
        g = grads(loss)
        grad_alone = g if grad_alone is None else [a + b for a, b in zip(grad_alone, g, strict=True)]
    torch.testing.assert_close(together, torch.cat(alone), rtol=1e-5, atol=1e-7)
    for a, b in zip(grad_together, grad_alone, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)


def test_explicit_cpu_device_is_the_default_path():
    params = dataclasses.replace(META, steps=5)
    a = meta_train(tiny_data(), make_rule("learned", RULES, RNN.T), RNN, STAB, params, log_every=0)
    b = meta_train(
        tiny_data(), make_rule("learned", RULES, RNN.T), RNN, STAB, params, log_every=0, device="cpu"
    )
    assert np.array_equal(a.history["meta_loss"], b.history["meta_loss"])
    assert all(torch.equal(a.theta[k], b.theta[k]) and b.theta[k].device.type == "cpu" for k in a.theta)
