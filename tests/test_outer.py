"""Outer optimisers: candidates batched like a loop, each optimiser improves, no test label leaks."""

import dataclasses

import numpy as np
import pytest
import torch
from tiny import DATA, META, RNN, RULES, STAB

from metahebb.datasets import make_dataset
from metahebb.kcap_rnn import forward, init_network
from metahebb.meta_data import MetaData, training_points, validation_split
from metahebb.outer import Groups, make_optimiser, meta_learn
from metahebb.outer.population import CandidateRule, flatten, unflatten
from metahebb.params import META_TRAINED_RULES, ESParams
from metahebb.rules import make_rule, synapses_of
from metahebb.runtime import generator

DATASETS = ("circles", "moons")
ES = ESParams(generations=3, population=4, sigma=0.5, networks_per_dataset=1, epochs=2, batch_size=16, seed=0)


def dataset_arrays() -> dict[str, dict[str, np.ndarray]]:
    """Two tiny dataset files as make_data writes them: x, y, is_test (and z)."""
    return {d: make_dataset(d, DATA).arrays() for d in DATASETS}


def meta_data(arrays: dict[str, dict[str, np.ndarray]]) -> MetaData:
    """What stages/meta_compare.py hands the optimisers: training points and their labels only."""
    points = {d: training_points(a) for d, a in arrays.items()}
    return MetaData({d: x for d, (x, _) in points.items()}, {d: y for d, (_, y) in points.items()})


# ---------------------------------------------------------------- candidates batched


RULE_CONFIGS = {
    "paper_form": RULES,
    "hebb_residual": dataclasses.replace(RULES, base="hebb", max_step=0.05, residual_gain=0.5),
}


@pytest.mark.parametrize("grad", [False, True], ids=["no_grad", "grad"])
@pytest.mark.parametrize("config", list(RULE_CONFIGS))
@pytest.mark.parametrize("name", META_TRAINED_RULES)
def test_candidate_rule_equals_a_loop_over_candidates(name, config, grad):
    """An evolution strategy's batched candidates must act exactly as C separate rules would
    (every meta-trained rule under vmap, with and without autograd recording)."""
    C, N = 3, 2
    rules = RULE_CONFIGS[config]
    rule = make_rule(name, rules, RNN.T)
    start = flatten(rule)
    noise = torch.randn(C, len(start), generator=generator(1), dtype=torch.float64)
    params = unflatten(rule, start + 0.3 * noise)
    net = init_network(C * N, 5, RNN, generator(2))
    x = torch.randn(C * N, 6, 5, generator=generator(3))
    syn = synapses_of(net, forward(net, x, RNN), x)
    with torch.set_grad_enabled(grad):
        together = CandidateRule(rule, params, N)(syn)
        for c in range(C):
            alone = make_rule(name, rules, RNN.T)
            alone.load_state_dict({k: v[c] for k, v in params.items()})
            mine = {m: dataclasses.replace(s, **_rows(s, c * N, (c + 1) * N)) for m, s in syn.items()}
            for m, delta in alone(mine).items():
                torch.testing.assert_close(together[m][c * N : (c + 1) * N], delta, rtol=0, atol=1e-6)


def _rows(s, lo: int, hi: int) -> dict:
    return {"pre": s.pre[lo:hi], "post": s.post[lo:hi], "weight": s.weight[lo:hi]}


@pytest.mark.parametrize("name", META_TRAINED_RULES)
def test_flatten_and_unflatten_round_trip(name):
    rule = make_rule(name, RULES, RNN.T)
    vector = flatten(rule)
    assert vector.dtype == torch.float64 and vector.ndim == 1
    back = unflatten(rule, torch.stack([vector, vector + 1]))
    for k, p in rule.named_parameters():
        assert back[k].shape == (2, *p.shape) and back[k].dtype == torch.float32
        assert torch.equal(back[k][0], p.detach())
        torch.testing.assert_close(back[k][1], p.detach() + 1)
    for wrong in (vector[None, :-1], torch.cat([vector, vector[:1]])[None]):
        with pytest.raises(ValueError, match=f"expected vectors of {len(vector)} parameters"):
            unflatten(rule, wrong)


# ---------------------------------------------------------------- each optimiser improves


@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_lowers_the_label_meta_loss(seed):
    """labels_ce is noisy step to step; a table rule with a large lr still lowers it clearly.

    Only the optimiser is checked here: on this tiny setup much of the drop comes from codes that
    collapse (a constant code scores ln 2 with balanced fit labels, a random diverse one ~1.6).
    """
    meta = dataclasses.replace(
        META,
        optimizer="gradient",
        objective="labels_ce",
        steps=200,
        lr=0.1,
        population=16,
        reset_every=20,
        seed=seed,
    )
    result = meta_learn(
        make_rule("table", RULES, RNN.T),
        meta_data(dataset_arrays()),
        make_optimiser(Groups(RNN, STAB, meta, ES)),
    )
    loss = result.history["meta_loss"]
    assert len(loss) == meta.steps and np.isfinite(loss).all()
    assert loss[-20:].mean() < 0.9 * loss[:20].mean()


def anti_delta_table():
    """A table rule whose M_out moves away from the input (the delta rule's sign flipped): a bad start."""
    rule = make_rule("table", RULES, RNN.T)
    with torch.no_grad():
        rule.tables["out"][1, 0] = -1.0
        rule.log_gain["out"].fill_(1.0)
    return rule


@pytest.mark.parametrize("seed", [0, 1])
def test_es_improves_a_bad_table_rule(seed):
    """Reconstruction by M_out (`paper`) from a rule that unlearns M_out: a few generations fix much of it."""
    meta = dataclasses.replace(META, optimizer="es", objective="paper")
    es = dataclasses.replace(ES, seed=seed)
    result = meta_learn(
        anti_delta_table(), meta_data(dataset_arrays()), make_optimiser(Groups(RNN, STAB, meta, es))
    )
    assert result.summary["fitness_final"] < 0.95 * result.summary["fitness_start"]
    assert result.theta["tables.out"][1, 0] > -1.0
    assert {len(v) for v in result.history.values()} == {es.generations}


@pytest.mark.parametrize("name", META_TRAINED_RULES)
def test_every_meta_trained_rule_is_trainable_by_es(name):
    """The optimiser never knows the rule: each registered rule runs through CMA-ES unchanged."""
    meta = dataclasses.replace(META, optimizer="es", objective="labels_acc")
    es = dataclasses.replace(ES, generations=2, epochs=1)
    rule = make_rule(name, RULES, RNN.T)
    result = meta_learn(rule, meta_data(dataset_arrays()), make_optimiser(Groups(RNN, STAB, meta, es)))
    assert result.theta.keys() == rule.state_dict().keys()
    assert all(torch.isfinite(v).all() for v in result.theta.values())
    assert np.isfinite(result.summary["fitness_final"])


def test_es_is_reproducible_from_its_seed():
    data = meta_data(dataset_arrays())
    meta = dataclasses.replace(META, optimizer="es", objective="ridge")

    def run(seed):
        rule = make_rule("table", RULES, RNN.T)
        return meta_learn(
            rule, data, make_optimiser(Groups(RNN, STAB, meta, dataclasses.replace(ES, seed=seed)))
        )

    a, b, other = run(3), run(3), run(4)
    assert all(torch.equal(a.theta[k], b.theta[k]) for k in a.theta)
    assert all(np.array_equal(a.history[k], b.history[k]) for k in a.history)
    assert a.summary == b.summary
    assert not all(torch.equal(a.theta[k], other.theta[k]) for k in a.theta)


# ---------------------------------------------------------------- what meta-training may read


LABELLED = {
    "gradient-labels_ce": {"optimizer": "gradient", "objective": "labels_ce", "steps": 8},
    "es-labels_acc": {"optimizer": "es", "objective": "labels_acc"},
}
LABEL_FREE = {
    "gradient-paper": {"optimizer": "gradient", "objective": "paper", "steps": 8},
    "gradient-ridge": {"optimizer": "gradient", "objective": "ridge", "steps": 8},
    "es-ridge": {"optimizer": "es", "objective": "ridge"},
}


def learn(arrays: dict, over: dict):
    """meta_learn on the dataset files exactly as the meta_compare stage feeds it."""
    name = "table" if over["optimizer"] == "es" else "learned"
    meta = dataclasses.replace(META, **over)
    es = dataclasses.replace(ES, generations=2)
    return meta_learn(
        make_rule(name, RULES, RNN.T), meta_data(arrays), make_optimiser(Groups(RNN, STAB, meta, es))
    )


def assert_same(a, b) -> None:
    assert all(torch.equal(a.theta[k], b.theta[k]) for k in a.theta)
    assert a.history.keys() == b.history.keys()
    assert all(np.array_equal(a.history[k], b.history[k]) for k in a.history)


def relabelled(arrays: dict, points, labels) -> dict:
    """The same files with the labels of `points(a)` replaced by `labels(y, mask, rng)`."""
    rng = np.random.default_rng(0)
    out = {}
    for d, a in arrays.items():
        y, mask = a["y"].copy(), points(a)
        y[mask] = labels(y, mask, rng)
        out[d] = {**a, "y": y}
    return out


@pytest.mark.parametrize("over", LABELLED.values(), ids=list(LABELLED))
def test_label_objectives_never_read_test_labels(over):
    arrays = dataset_arrays()
    base = learn(arrays, over)
    test = lambda a: a["is_test"]  # noqa: E731
    for labels in (lambda y, m, rng: rng.permutation(y[m]), lambda y, m, rng: 7 - 3 * y[m]):
        assert_same(base, learn(relabelled(arrays, test, labels), over))
    # training labels do reach them, so the check above is not vacuous (random ones: swapping the
    # two classes everywhere is a symmetry of both objectives and would change nothing)
    noisy = relabelled(arrays, lambda a: ~a["is_test"], lambda y, m, rng: rng.integers(0, 2, m.sum()))
    changed = learn(noisy, over)
    assert not all(np.array_equal(base.history[k], changed.history[k]) for k in base.history)


@pytest.mark.parametrize("over", LABEL_FREE.values(), ids=list(LABEL_FREE))
def test_label_free_objectives_never_read_any_label(over):
    arrays = dataset_arrays()
    base = learn(arrays, over)
    every = lambda a: np.ones_like(a["is_test"])  # noqa: E731
    for labels in (lambda y, m, rng: 1 - y[m], lambda y, m, rng: rng.integers(0, 5, m.sum())):
        assert_same(base, learn(relabelled(arrays, every, labels), over))


# ---------------------------------------------------------------- validation split


@pytest.mark.parametrize("n, fraction", [(37, 0.3), (84, 0.3), (5, 0.5), (10, 0.05)])
def test_validation_split_is_a_deterministic_partition(n, fraction):
    inner, val = validation_split(n, fraction, seed=4)
    assert len(val) == round(fraction * n)
    assert torch.equal(torch.cat([inner, val]).sort().values, torch.arange(n))
    again = validation_split(n, fraction, seed=4)
    assert torch.equal(inner, again[0]) and torch.equal(val, again[1])
    if round(fraction * n) > 1:
        assert not torch.equal(val, validation_split(n, fraction, seed=5)[1])
