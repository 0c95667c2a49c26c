"""The evolution strategy's fast paths give bitwise the values of the paths they replace.

`CandidateRule` computes the `table` rule's candidates natively (`TableRule.candidate_forward` /
`candidate_delta`) where `VmapCandidateRule` maps `TableRule.delta` with `vmap`; `kcap` returns its
float comparison directly when no row has a tie at the cut; `Fitness` gathers an epoch's batches at
once. Each is checked here with `torch.equal`, not a tolerance (the committed ES results depend on it).
"""

import dataclasses

import numpy as np
import pytest
import torch
from test_outer import DATASETS, ES, dataset_arrays, meta_data
from tiny import META, RNN, RULES, STAB

import metahebb.outer.es as es_module
from metahebb.kcap import kcap
from metahebb.kcap_rnn import forward, init_network
from metahebb.outer.population import CandidateRule, VmapCandidateRule, flatten, unflatten
from metahebb.plasticity import plastic_step
from metahebb.rules import make_rule, synapses_of
from metahebb.runtime import generator


def _candidates(rule, count: int, scale: float, seed: int) -> dict[str, torch.Tensor]:
    start = flatten(rule)
    noise = torch.randn(count, len(start), generator=generator(seed), dtype=torch.float64)
    return unflatten(rule, start + scale * noise)


@pytest.mark.parametrize("batch", [1, 7, 32])
@pytest.mark.parametrize("m,k,T", [(16, 4, 2), (64, 8, 3)])
def test_native_table_candidates_equal_vmap_bitwise(batch, m, k, T):
    rnn = dataclasses.replace(RNN, m=m, k=k, T=T)
    rule = make_rule("table", RULES, T)
    C, N = 4, 3
    params = _candidates(rule, C, 0.7, 1)
    net = init_network(C * N, 5, rnn, generator(2))
    x = torch.randn(C * N, batch, 5, generator=generator(3))
    with torch.no_grad():
        syn = synapses_of(net, forward(net, x, rnn), x)
        slow = VmapCandidateRule(rule, params, N)(syn)
        shared = CandidateRule(rule, params, N)(syn)  # candidate_forward: one set of pattern codes
        single = {m: CandidateRule(rule, params, N).delta(m, s) for m, s in syn.items()}  # candidate_delta
    for name in syn:
        assert torch.equal(shared[name], slow[name]), name
        assert torch.equal(single[name], slow[name]), name


def test_native_table_falls_back_where_synapses_are_not_one_pass():
    """Synapses that are not views of one set of states take the per-matrix path, still exact."""
    rule = make_rule("table", RULES, RNN.T)
    C, N = 2, 2
    params = _candidates(rule, C, 0.5, 4)
    net = init_network(C * N, 5, RNN, generator(5))
    x = torch.randn(C * N, 6, 5, generator=generator(6))
    with torch.no_grad():
        syn = synapses_of(net, forward(net, x, RNN), x)
        copied = {m: dataclasses.replace(s, pre=s.pre.clone(), post=s.post.clone()) for m, s in syn.items()}
        slow = VmapCandidateRule(rule, params, N)(copied)
        fast = CandidateRule(rule, params, N)(copied)
    for name in syn:
        assert torch.equal(fast[name], slow[name]), name


def test_candidate_rule_keeps_vmap_under_autograd():
    rule = make_rule("table", RULES, RNN.T)
    params = _candidates(rule, 2, 0.5, 7)
    net = init_network(4, 5, RNN, generator(8))
    x = torch.randn(4, 6, 5, generator=generator(9))
    syn = synapses_of(net, forward(net, x, RNN), x)
    with torch.enable_grad():
        fast = CandidateRule(rule, params, 2)(syn)
        slow = VmapCandidateRule(rule, params, 2)(syn)
    for name in syn:
        assert torch.equal(fast[name], slow[name]), name


def _reference_kcap(x: torch.Tensor, k: int) -> torch.Tensor:
    """kcap as it was: the bool comparison, the tie fix-up, then `.to`."""
    cut = torch.topk(x, k, dim=-1, sorted=False).values.amin(dim=-1, keepdim=True)
    keep = x >= cut
    if not bool((keep.sum(dim=-1) == k).all()):
        above = x > cut
        tied = keep & ~above
        keep = above | (tied & (tied.cumsum(dim=-1) <= k - above.sum(dim=-1, keepdim=True)))
    return keep.to(x.dtype)


def test_kcap_fast_path_equals_the_bool_path_with_ties_and_nans():
    x = torch.randn(5, 7, 16, generator=generator(0))
    assert torch.equal(kcap(x, 4), _reference_kcap(x, 4))
    tied = x.clone()
    tied[0, 0] = 1.0  # a whole row tied
    tied[1, 2, :6] = tied[1, 2].max()  # ties at the top
    assert torch.equal(kcap(tied, 4), _reference_kcap(tied, 4))
    bad = x.clone()
    bad[2, 3, 5] = float("nan")
    bad[3, 1] = float("nan")
    assert torch.equal(kcap(bad, 4), _reference_kcap(bad, 4))


@pytest.mark.parametrize("objective", ["ridge", "labels_ce"])
def test_fitness_equals_the_vmap_per_step_generation_bitwise(objective, monkeypatch):
    """A whole generation: native candidates + epoch batches == vmap + a stack and repeat per step."""
    data = meta_data(dataset_arrays())
    meta = dataclasses.replace(META, datasets=list(DATASETS), objective=objective)
    rule = make_rule("table", RULES, RNN.T)
    es = dataclasses.replace(ES, networks_per_dataset=2)
    fitness = es_module.Fitness(rule, data, RNN, STAB, meta, es)
    candidates = flatten(rule) + 0.3 * torch.randn(
        3, len(flatten(rule)), generator=generator(4), dtype=torch.float64
    )
    fast = fitness(candidates, generator(5))

    def per_step(self, orders, steps, c):  # the old loop: one stack and one repeat per step
        for step in range(steps):
            idx = slice(step * self.batch, (step + 1) * self.batch)
            x = torch.stack([self.parts.inner[d][o[idx]] for d, o in zip(self.which, orders, strict=True)])
            yield x.repeat(c, 1, 1)

    monkeypatch.setattr(es_module.Fitness, "_epoch_batches", per_step)
    monkeypatch.setattr(es_module, "CandidateRule", VmapCandidateRule)
    slow = fitness(candidates, generator(5))
    assert torch.equal(fast, slow)
    assert np.isfinite(fast.numpy()).all()


def test_plastic_step_with_native_candidates_matches_vmap():
    rule = make_rule("table", RULES, RNN.T)
    params = _candidates(rule, 3, 0.5, 10)
    net = init_network(6, 5, RNN, generator(11))
    x = torch.randn(6, 8, 5, generator=generator(12))
    with torch.no_grad():
        fast, _ = plastic_step(net, x, CandidateRule(rule, params, 2), RNN, STAB)
        slow, _ = plastic_step(net, x, VmapCandidateRule(rule, params, 2), RNN, STAB)
    for f in ("w_in", "w_rec", "w_out", "h"):
        assert torch.equal(getattr(fast, f), getattr(slow, f)), f
