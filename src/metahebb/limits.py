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
import resource
from pathlib import Path
from typing import Any

from metahebb.params import MAX_SEED, parse_variant

GROUP_NAMES = ("data", "backprop", "evaluate", "kcap_rnn", "rules", "meta_train", "es", "train_hebbian")
GROUP_NAMES += ("semi_supervised", "generalisation", "meta_compare")
DIGITS_SIZE = 1797  # scikit-learn's digits, a generalisation target
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


def _meminfo(key: str, path: str = "/proc/meminfo") -> int | None:
    """A `key: <n> kB` line of a /proc file, in bytes."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """What the memory cgroup (v2) leaves this process, if it sets a limit."""
    try:
        top = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
    except (OSError, ValueError):
        return None
    return None if top == "max" else int(top) - used


def _address_space_room() -> int | None:
    """What `ulimit -v` (RLIMIT_AS) leaves: the limit minus the address space already mapped."""
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    if soft == resource.RLIM_INFINITY:
        return None
    return soft - (_meminfo("VmSize", "/proc/self/status") or 0)


def available_memory() -> int:
    """Bytes a new allocation can take now: MemAvailable (or the total if unknown), less where a
    cgroup limit or `ulimit -v` leaves less (a batch job's allocation, a test's memory cap)."""
    found = _meminfo("MemAvailable") or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(0, min(x for x in (found, _cgroup_room(), _address_space_room()) if x is not None))


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


def _rules_used(g: dict[str, Any]) -> set[str]:
    names = set(g["meta_train"].rules) | set(g["train_hebbian"].rules) | {g["generalisation"].rule}
    return names | {parse_variant(v)[0] for v in g["meta_compare"].variants.names}


def _per_sample(g: dict[str, Any], width: int) -> int:
    """Floats per sample of the largest tensor of one plastic step on `width`-wide neurons: a
    learned rule enumerates the firing patterns of one side (times its MLP's hidden units) for
    every synapse; attention compares every pre neuron with every post neuron."""
    rnn, rules, used = g["kcap_rnn"], g["rules"], _rules_used(g)
    bits = rnn.T + 1
    if "learned_extended" in used:
        bits = max(bits, 2 * rules.neighbours + 1)
    patterns = 2**bits * (rules.hidden if used & {"learned", "learned_extended"} else 1)
    return width * max(width, patterns)


def allocations(groups: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(stages, keys, bytes) of the largest tensor each stage allocates, from the params alone.

    Estimates, deliberately generous (x2-3 over what was measured at the defaults), of the tensors
    that dominate: one plastic step of P networks on B samples at once (meta-training, the ES
    population, frozen-rule training of the seeds, the readout rule), every network's states on
    every point, the backprop autoencoders' hidden states, the datasets and the EMD's cost matrix.
    """
    g = groups
    if not set(GROUP_NAMES) <= set(g):
        return []
    m, n, T = g["kcap_rnn"].m, g["data"].ambient_dim, g["kcap_rnn"].T
    meta, es, hebb, semi = g["meta_train"], g["es"], g["train_hebbian"], g["semi_supervised"]
    points = max(g["data"].n_samples, DIGITS_SIZE)  # generalisation also trains on the digits
    width = max(m, n + 1, 65)  # 65: the raw digits' pixels and bias
    step = 3 * FLOAT * _per_sample(g, width)
    states = 3 * FLOAT * points * (T + 1) * m
    es_networks = es.population * es.networks_per_dataset * len(meta.datasets)
    judged = max(len(hebb.seeds), len(g["generalisation"].seeds), len(g["meta_compare"].seeds))
    return [
        ("meta_train, meta_compare_gradient", "meta_train.population, meta_train.batch_size, "
         "meta_train.lookahead, kcap_rnn.m", step * meta.population * meta.batch_size * (meta.lookahead + 1)),
        ("meta_train (es), meta_compare_es", "es.population, es.networks_per_dataset, meta_train.datasets, "
         "es.batch_size, kcap_rnn.m", step * es_networks * max(es.batch_size, 1)),
        ("meta_train (es), meta_compare_es", "es.population, es.networks_per_dataset, meta_train.datasets, "
         "data.n_samples, kcap_rnn.m, kcap_rnn.T", states * es_networks),
        ("train_hebbian, generalisation, meta_compare_*", "train_hebbian.seeds, generalisation.seeds, "
         "meta_compare.seeds, train_hebbian.batch_size, kcap_rnn.m", step * judged * hebb.batch_size),
        ("train_hebbian, generalisation, meta_compare_*", "train_hebbian.seeds, generalisation.seeds, "
         "meta_compare.seeds, data.n_samples, kcap_rnn.m, kcap_rnn.T", states * judged),
        ("semi_supervised", "train_hebbian.seeds, semi_supervised.draws, semi_supervised.batch_size, "
         "kcap_rnn.m, kcap_rnn.T", 3 * FLOAT * len(hebb.seeds) * semi.draws
         * (semi.batch_size * _per_sample(g, (T + 1) * m) + points * (T + 1) * m)),
        ("train_backprop", "backprop.seeds, backprop.hidden, data.n_samples",
         6 * FLOAT * len(g["backprop"].seeds) * g["data"].n_samples * max(g["backprop"].hidden, n)),
        ("make_data", "data.n_samples, data.ambient_dim", 3 * 8 * g["data"].n_samples * n),
        ("evaluate, generalisation, meta_compare_*", "evaluate.emd_points",
         3 * 8 * g["evaluate"].emd_points ** 2),  # float64 cost matrix and the simplex's copies
    ] + _capacity(g, n, T, points) + _held_out(g, T, m, judged)  # fmt: skip


def _capacity(g: dict[str, Any], n: int, T: int, points: int) -> list[tuple[str, str, int]]:
    """The capacity stages train meta_compare's seeds at each size, the largest dominating. Frozen
    rules update from the whole batch at once, so the step holds a few (m, m) tensors per network
    and state, not one per sample (measured at m=1024, the table rule: about 350 MiB over the
    process's 410 MiB; estimated here about 2.7x that), with `_per_sample`'s patterns of a learned rule."""
    if "capacity" not in g:
        return []
    m, seeds = max(g["capacity"].m), len(g["meta_compare"].seeds)
    keys = "capacity.m, meta_compare.seeds"
    return [
        (
            "capacity",
            f"{keys}, kcap_rnn.T",
            4 * 3 * FLOAT * _per_sample(g, max(m, n + 1, 65)) * seeds * (T + 1),
        ),
        ("capacity", f"{keys}, data.n_samples, kcap_rnn.T", 3 * FLOAT * points * (T + 1) * m * seeds),
    ]


def _held_out(g: dict[str, Any], T: int, m: int, judged: int) -> list[tuple[str, str, int]]:
    """task_validation trains meta_compare's seeds on each held-out task of tasks.n_samples points."""
    if "tasks" not in g:
        return []
    keys = "tasks.n_samples, meta_compare.seeds, kcap_rnn.m, kcap_rnn.T"
    return [("task_validation", keys, 3 * FLOAT * g["tasks"].n_samples * (T + 1) * m * judged)]


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
    capacity = groups.get("capacity")
    if capacity is not None and max(capacity.m) > BOUNDS["kcap_rnn.m"]:
        problems.append(
            f"capacity.m={capacity.m}: accepted values are <= {BOUNDS['kcap_rnn.m']} (what one stage can run)"
        )
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
