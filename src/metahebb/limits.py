"""What this machine can run: upper bounds on every size-like value, and the memory the largest
allocations of the stages will take, checked before any work starts.

A guard (like `validate`): it decides whether a stage may start, never what it computes, so it is
no stage's dependency and tightening a bound reruns nothing. The schema in `params.py` says what is
meaningful; this module says what fits: a seeds list of 10,000 is meaningful and takes days, a
`rules.neighbours` of 64 makes `learned_extended` enumerate 2^129 firing patterns.
"""

from __future__ import annotations

import math
import os
from typing import Any

from metahebb.params import MAX_SEED

MAX_LIST = 1000  # seeds, label counts, variants: items of any list
# key -> largest accepted value: what one stage can do in hours on a workstation, not what it means
BOUNDS = {
    "data.n_samples": 100_000,
    "data.noise": 100.0,  # beyond this the 2D structure is gone (and 1e308 overflows to NaN)
    "data.ambient_dim": 4096,
    "backprop.epochs": 10_000,
    "backprop.batch_size": 100_000,
    "evaluate.emd_max_iter": 1_000_000_000,
    "evaluate.emd_points": 5000,
    "kcap_rnn.m": 2048,
    "kcap_rnn.T": 8,
    "rules.neighbours": 8,
    "meta_train.steps": 100_000,
    "meta_train.batch_size": 10_000,
    "meta_train.reset_every": 10_000_000,
    "meta_train.objective_labels": 10_000,
    "meta_train.checkpoint_every": 10_000_000,
    "es.generations": 100_000,
    "es.population": 1024,
    "es.networks_per_dataset": 64,
    "es.epochs": 1000,
    "es.batch_size": 10_000,
    "train_hebbian.epochs": 10_000,
    "train_hebbian.batch_size": 100_000,
    "train_hebbian.collapse_codes": 100_000,
    "semi_supervised.epochs": 1000,
    "semi_supervised.batch_size": 100_000,
    "semi_supervised.meta_steps": 100_000,
    "semi_supervised.meta_reset_every": 10_000_000,
}
FLOAT = 4  # bytes of one float32


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (MemAvailable), or the total if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _value(groups: dict[str, Any], key: str) -> Any:
    group, name = key.split(".")
    return getattr(groups[group], name) if group in groups else None


def _lists(groups: dict[str, Any]) -> list[tuple[str, list]]:
    found = [("datasets", groups.get("datasets") or [])]
    for group, params in groups.items():
        for name, value in getattr(params, "__dict__", {}).items():
            if isinstance(value, list):
                found.append((f"{group}.{name}", value))
            elif hasattr(value, "__dict__"):
                found += [(f"{group}.{name}.{k}", v) for k, v in vars(value).items() if isinstance(v, list)]
    return found


def _seed_offsets(groups: dict[str, Any]) -> list[str]:
    """meta_compare adds each meta seed to three seeds, and CMA-ES adds one more."""
    if "meta_compare" not in groups:
        return []
    top = max(groups["meta_compare"].meta_seeds)
    problems = []
    for key, extra in (("meta_train.seed", 0), ("rules.seed", 0), ("es.seed", 1)):
        seed = _value(groups, key)
        if seed is not None and seed + top + extra > MAX_SEED:
            problems.append(
                f"{key}={seed}: plus the largest meta_compare.meta_seeds ({top}){' plus 1 (CMA-ES)' * extra} "
                f"exceeds {MAX_SEED}; accepted: <= {MAX_SEED - top - extra}"
            )
    return problems


def allocations(groups: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(stage, keys, bytes) of the largest tensor each heavy stage allocates, from the params alone.

    Estimates, deliberately generous (x2-3 over what was measured at the defaults), of the tensors
    that dominate: the per-update (networks, batch, post, pre) products of meta-training and of the
    ES population, the per-pattern MLP of `learned_extended`, and the EMD's cost matrix.
    """
    g = groups
    if not {"kcap_rnn", "meta_train", "es", "rules", "data", "evaluate"} <= set(g):
        return []
    m, n = g["kcap_rnn"].m, g["data"].ambient_dim
    meta, es, rules = g["meta_train"], g["es"], g["rules"]
    datasets = max(1, len(meta.datasets))
    out = [
        (
            "meta_train, meta_compare_gradient",
            "meta_train.population, meta_train.batch_size, meta_train.lookahead, kcap_rnn.m",
            3 * FLOAT * meta.population * (meta.lookahead + 1) * meta.batch_size * m * max(m, n + 1),
        ),
        (
            "meta_compare_es, meta_train (es)",
            "es.population, es.networks_per_dataset, meta_train.datasets, es.batch_size, kcap_rnn.m",
            3
            * FLOAT
            * es.population
            * es.networks_per_dataset
            * datasets
            * es.batch_size
            * m
            * max(m, n + 1),
        ),
        (
            "evaluate, generalisation, meta_compare_*",
            "evaluate.emd_points",
            3 * 8 * g["evaluate"].emd_points ** 2,  # float64 cost matrix and the simplex's copies
        ),
    ]
    if "learned_extended" in meta.rules:
        patterns = 2 ** min(2 * rules.neighbours + 1, 200)  # the output matrix's pre patterns x_{T+1}
        out.append(
            (
                "meta_train@learned_extended",
                "rules.neighbours, rules.hidden, meta_train.population, meta_train.batch_size",
                3 * FLOAT * meta.population * meta.batch_size * n * patterns * rules.hidden,
            )
        )
    return out


def _gib(size: float) -> str:
    return f"{size / 2**30:.3g} GiB" if math.isfinite(size) else "unbounded"


def limit_problems(groups: dict[str, Any], memory: int | None = None) -> list[str]:
    """One line per value past what the machine can run, and per allocation past its memory."""
    problems = []
    for key, top in BOUNDS.items():
        value = _value(groups, key)
        if value is not None and value > top:
            problems.append(f"{key}={value!r}: accepted values are <= {top} (what one stage can run)")
    for key, value in _lists(groups):
        if len(value) > MAX_LIST:
            problems.append(f"{key}: {len(value)} items; accepted: at most {MAX_LIST}")
    problems += _seed_offsets(groups)
    meta = groups.get("meta_train")
    if meta is not None and meta.population < len(meta.datasets):
        problems.append(
            f"meta_train.population={meta.population}: fewer inner networks than meta_train.datasets "
            f"({len(meta.datasets)}); accepted: >= {len(meta.datasets)}"
        )
    if problems:
        return problems
    memory = available_memory() if memory is None else memory
    for stage, keys, size in allocations(groups):
        if size > memory // 2:
            problems.append(
                f"{keys}: {stage} would allocate about {_gib(size)}, more than half of the "
                f"{_gib(memory)} available; make them smaller"
            )
    return problems
