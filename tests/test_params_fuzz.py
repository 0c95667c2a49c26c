"""Params files of every type, magnitude and structure: either validation fails with one line,
quickly and in bounded memory, or the params run.

Generated files: random YAML trees; the micro params (tests/test_faults.py) with keys set to
values of any type and magnitude (NaN, infinities, 1e308, 2^70, huge lists and strings, nested
mappings), deleted keys and groups, extra keys; raw and corrupted bytes (not UTF-8, truncated).
`validate.check` must raise one bounded ParamError line or accept; `python -m metahebb.validate`
(its `main`) must agree. The slow test runs, for a few accepted single-key mutations, every stage
the change makes stale (and what reads their outputs) under a memory cap and a time bound: exit 0,
or exit 2 with one line; never a traceback, a kill or a timeout.
"""

from __future__ import annotations

import contextlib
import copy
import io
import resource
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_faults import _reads, clone, expand, micro_params, micro_pipeline, one_line, run_stage
from test_params import apply

from metahebb import validate
from metahebb.params import MAX_SEED, ParamError
from metahebb.params_file import MAX_LINE

TINY = micro_params()
TINY_TEXT = yaml.safe_dump(TINY, sort_keys=False).encode()
PATHS = sorted(
    {(g,) for g in TINY}
    | {(g, k) for g, group in TINY.items() if isinstance(group, dict) for k in group}
    | {(g, k, j) for g, group in TINY.items() if isinstance(group, dict)
       for k, sub in group.items() if isinstance(sub, dict) for j in sub}
)  # fmt: skip
EXTREMES = [0, -1, 1, 2, -(2**70), 2**70, 2**31, 2**32, MAX_SEED, 2**63, 10**30, 1e308, -1e308, 5e-324]
EXTREMES += [-0.0, float("nan"), float("inf"), float("-inf"), 1e-300, 0.5, 100.0, 1e9]
NAMES = ["all", "none", "hebb", "oja", "learned", "learned_extended", "table", "attention", "circles"]
NAMES += ["digits", "moons", "blobs", "mlp", "rnn", "es", "gradient", "paper", "ste", "auto", "cpu"]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(EXTREMES)
    | st.text(max_size=12)
    | st.sampled_from(NAMES)
)
HUGE = (
    st.integers(1001, 1500).map(lambda n: list(range(n)))  # longer than any list may be
    | st.integers(10_000, 100_000).map(lambda n: "x" * n)  # a string no line may print whole
    | st.just([[[[[[[[[[1]]]]]]]]]])
)
VALUES = st.recursive(
    SCALARS | HUGE,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
MUTATION = st.tuples(
    st.sampled_from(["set", "delete", "extra"]), st.sampled_from(PATHS), VALUES, st.text(max_size=6)
)


def mutate(raw: dict, op: str, path: tuple, value, extra_key: str) -> dict:
    """A mutated copy of `raw` (`test_params.apply` in place on a deep copy)."""
    raw = copy.deepcopy(raw)
    apply(raw, op, path, value, extra_key)
    return raw


def _dump(tree) -> bytes:
    return yaml.safe_dump(tree, sort_keys=False, allow_unicode=True).encode()


@st.composite
def mutated_file(draw) -> bytes:
    raw = TINY
    for mutation in draw(st.lists(MUTATION, min_size=1, max_size=4)):
        raw = mutate(raw, *mutation)
    return _dump(raw)


@st.composite
def corrupted_bytes(draw) -> bytes:
    data = bytearray(TINY_TEXT)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "truncate", "flip"]))
        if kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "truncate":
            del data[at:]
        elif at < len(data):
            data[at] ^= draw(st.integers(1, 255))
    return bytes(data)


DOCUMENTS = (
    mutated_file()
    | VALUES.map(_dump)  # any YAML tree at the top
    | st.dictionaries(st.sampled_from([*TINY, "extra"]) | st.text(max_size=5), VALUES, max_size=6).map(_dump)
    | corrupted_bytes()
    | st.binary(max_size=4000)
)
_RSS: list[int] = []  # the high-water mark of this process before the first example


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cheap_to_draw(raw) -> bool:
    """Whether the command's per-class check (which draws the datasets) is quick."""
    data = raw.get("data") if isinstance(raw, dict) else None
    sizes = [data.get(k) for k in ("n_samples", "ambient_dim")] if isinstance(data, dict) else [None]
    return all(type(n) is int for n in sizes) and sizes[0] * sizes[1] <= 10**6


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(DOCUMENTS)
@example(_dump(mutate(TINY, "set", ("data", "blobs_std"), 1e308, "")))
@example(_dump(mutate(TINY, "set", ("kcap_rnn", "init_gain"), 1e308, "")))
@example(_dump(mutate(TINY, "set", ("evaluate", "svm_labels"), list(range(2, 5000)), "")))
@example(b"data: " + b"[" * 100 + b"]" * 100)
@example(TINY_TEXT + b"\x80")
def test_any_params_file_validates_or_fails_in_one_bounded_line(document):
    _RSS[:] = _RSS or [_rss()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "params.yaml"
        path.write_bytes(document)
        start = time.perf_counter()
        try:
            validate.check(path)
            message = None
        except ParamError as err:
            message = str(err)
            assert "\n" not in message and 0 < len(message) <= MAX_LINE, message[:1000]
        assert time.perf_counter() - start < 5.0
        if message is None and not _cheap_to_draw(yaml.safe_load(document)):
            return
        if message is not None and len(document) > 20_000:
            return  # the command reads the file the same way; large ones cost seconds to parse again
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = validate.main([str(path)])
        lines = err.getvalue().splitlines()
        assert all(line.startswith("error: ") and len(line) <= MAX_LINE + 7 for line in lines), lines[:3]
        if message is not None:
            assert code == 1 and lines[0] == f"error: {message}", (code, lines[:3])
        else:
            assert (code == 0) == (lines == []), (code, lines[:3])
    assert _rss() - _RSS[0] < 2**29, "validation took more than 512 MiB"


# ---- the run path: accepted single-key mutations of the micro params, run

GROUP_KEYS = [p for p in PATHS if len(p) == 2 and isinstance(TINY[p[0]], dict)]
RUN_VALUES = st.sampled_from([-1, 0, 1, 2, 3, 5, 2**32 - 1, 10**12, 1e308, 5e-324, 1e-6, 0.5, 1.5, 7.5])
RUN_VALUES |= st.sampled_from([None, True, False, "", "all", "hebb", "learned", "circles", [], [0], [2, 3]])
RUN_VALUES |= st.sampled_from(NAMES).map(lambda n: [n])
RUN_LIMIT = 5  # accepted examples that run their stages
MAX_STAGES = 14  # stages run per example (a change of the data reruns all of them)
_RUNS: set[str] = set()


def stale_stages(before: dict, after: dict, key: str) -> list:
    """What `dvc repro` reruns first: the stages that track `key` or are new, then the report (it
    depends on the whole params.yaml), and every stage that reads their outputs."""
    old = {s.name for s in expand(before)}
    stages = expand(after)
    group = key.split(".")[0]
    stale = [
        s for s in stages
        if s.name not in old or s.name == "report"
        or any(p in (key, group) or key.startswith(f"{p}.") for p in s.params)
    ]  # fmt: skip
    for s in stages:  # dvc.yaml order runs each stage after those it reads
        if s not in stale and any(_reads(s, t) for t in stale):
            stale.append(s)
    return [s for s in stages if s in stale]


@pytest.fixture(scope="module")
def micro(tmp_path_factory) -> Path:
    return micro_pipeline(tmp_path_factory.mktemp("fuzz"))


@pytest.mark.slow
@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(GROUP_KEYS), RUN_VALUES)
@example(("data", "blobs_std"), 1e308)
@example(("rules", "hebb_lr"), 1e308)
def test_accepted_params_run_every_stale_stage(micro, key, value):
    params = mutate(TINY, "set", key, value, "")
    found = validate.problems(params)
    if found:
        assert all("\n" not in line and len(line) <= MAX_LINE for line in found)
        return
    name = repr((key, value))
    if params == TINY or (name not in _RUNS and len(_RUNS) >= RUN_LIMIT):
        return  # (an example that ran runs again when hypothesis replays it)
    _RUNS.add(name)
    with tempfile.TemporaryDirectory() as tmp:
        cwd = clone(micro, Path(tmp) / "w")
        (cwd / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        for s in stale_stages(TINY, params, ".".join(key))[:MAX_STAGES]:
            code, err = run_stage(cwd, s.argv, memory=2**31, timeout=60)
            assert code is not None, f"{'.'.join(key)}={value!r}: {s.name} ran past 60 s"
            if code != 0:
                one_line(code, err)  # exit 2 with one line, never a traceback or a kill
                break
