"""Validation means "this can run": sizes past what a stage can do, and allocations past the
machine's memory, fail in one line before any work (the examples the bad-input issue found)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_validate import mutate

from metahebb import limits, validate

CASES = [
    ({"rules.neighbours": 64}, "rules.neighbours=64: accepted values are <= 8"),
    ({"rules.neighbours": 8}, "meta_train, meta_compare_gradient would allocate about"),
    (
        {"train_hebbian.seeds": list(range(10_000))},
        "train_hebbian.seeds: 10000 items; accepted: at most 1000",
    ),
    ({"meta_compare.seeds": list(range(1001))}, "meta_compare.seeds: 1001 items"),
    ({"es.seed": 2**32 - 1}, "es.seed=4294967295: plus the largest meta_compare.meta_seeds ("),
    ({"meta_train.seed": 2**32 - 2}, "meta_train.seed=4294967294: plus the largest meta_compare.meta_seeds"),
    ({"evaluate.emd_max_iter": 10**30}, "evaluate.emd_max_iter=" + str(10**30) + ": accepted values are <="),
    ({"meta_train.batch_size": 10**30}, "meta_train.batch_size="),
    ({"data.noise": 1e308}, "data.noise=1e+308: accepted values are <= 100.0"),
    (
        {"meta_train.population": 2},
        "meta_train.population=2: fewer inner networks than meta_train.datasets (3)",
    ),
    (
        {"es.population": 1000, "es.networks_per_dataset": 64},
        "meta_train (es), meta_compare_es would allocate",
    ),
    ({"meta_train.population": 4096, "meta_train.lookahead": 64}, "meta_train, meta_compare_gradient would"),
    ({"kcap_rnn.m": 4096}, "kcap_rnn.m=4096: accepted values are <= 2048"),
    # what the fuzz of the params found (tests/test_params_fuzz.py): every stage's largest tensor
    (
        {"train_hebbian.seeds": list(range(1000)), "kcap_rnn.m": 2048, "train_hebbian.batch_size": 1000},
        "train_hebbian, generalisation, meta_compare_* would allocate",
    ),
    (
        {"backprop.seeds": list(range(1000)), "backprop.hidden": 4096, "data.n_samples": 100_000},
        "backprop.seeds, backprop.hidden, data.n_samples: train_backprop would allocate",
    ),
    (
        {"semi_supervised.draws": 1000, "semi_supervised.batch_size": 100_000},
        "semi_supervised would allocate",
    ),
]


@pytest.mark.parametrize("changes, needle", CASES, ids=[",".join(c) for c, _ in CASES])
def test_what_cannot_run_fails_in_one_line(raw, changes, needle):
    found = validate.problems(mutate(raw, changes))
    assert found, "accepted"
    assert any(needle in line for line in found), found
    assert all("\n" not in line for line in found)


def test_the_default_fits_and_its_estimates_are_small(raw):
    groups, problems = validate._parse(raw)
    assert not problems and not limits.limit_problems(groups)
    assert all(size < 2**30 for _, _, size in limits.allocations(groups))  # each well under 1 GiB


def test_memory_check_uses_what_is_available(raw):
    groups, _ = validate._parse(raw)
    assert limits.limit_problems(groups, memory=2**40) == []
    (line, *_) = limits.limit_problems(groups, memory=2**20)  # a 1 MiB machine
    assert "would allocate about" in line and "available; make them smaller" in line
    assert limits.available_memory() > 2**26


def test_memory_check_respects_a_memory_limit_of_the_process():
    """Under `ulimit -v` (a batch job, the fuzz test's cap) the room left, not the machine's, counts."""
    code = (
        "import resource; from metahebb import limits; before = limits.available_memory(); "
        "resource.setrlimit(resource.RLIMIT_AS, (2**33, 2**33)); after = limits.available_memory(); "
        "print(before > after, after < 2**33)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]
