"""Determinism: two CI-sized runs of the whole pipeline from clean copies write identical metrics."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_two_clean_runs_write_byte_identical_metrics(ci_workspace, ci_workspace_again):
    again = ci_workspace_again  # a second clean copy, nothing shared but the code, run beside the first
    first = {p.relative_to(ci_workspace): p.read_bytes() for p in (ci_workspace / "metrics").rglob("*.*")}
    second = {p.relative_to(again): p.read_bytes() for p in (again / "metrics").rglob("*.*")}
    for files in (first, second):  # wall times (meta_compare/timing/) are measurements, not results
        for path in [p for p in files if "timing" in p.parts]:
            files.pop(path)
    assert sorted(first) == sorted(second)
    assert any(p.suffix == ".json" for p in first) and any(p.suffix == ".csv" for p in first)
    differ = sorted(str(p) for p in first if first[p] != second[p])
    assert not differ, f"metrics differ between two identical runs: {differ}"
