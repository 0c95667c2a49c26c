"""Shared test setup: one torch thread (2 shared cores spin-wait badly), repo paths, small data."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch
import yaml

torch.set_num_threads(1)
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
# A shell's background job (`make test &`, nohup) starts with SIGINT ignored, and every stage the
# tests fork or spawn would inherit that, so the Ctrl-C tests would see a stage run on. Restore
# Python's handler: the stages then get SIGINT as a user's terminal delivers it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def raw() -> dict:
    """The real params.yaml as a dict, for tests that change a copy of it."""
    return yaml.safe_load((REPO / "params.yaml").read_text())


RERUN = "ci_workspace_again"  # the fixture of a second clean CI-sized run (the determinism test)


@pytest.fixture(scope="session")
def _ci_runs(request, tmp_path_factory) -> dict[str, Path]:
    """The CI-sized pipeline (params.yaml + ci/params-overrides.yaml) reproduced from clean copies.

    One run for every test that reads it, and a second clean copy, side by side with the first,
    only when a collected test asks for `ci_workspace_again`. With METAHEBB_CI_WORK set
    (.ci/run does), the first runs in $METAHEBB_CI_WORK/head and stays there, so .ci/run compares
    its metrics with the committed baseline without a third run.
    """
    from metahebb.ci_workspace import materialise, reproduce_together

    work = os.environ.get("METAHEBB_CI_WORK")
    runs = {"head": Path(work).resolve() / "head" if work else tmp_path_factory.mktemp("ci") / "head"}
    if any(RERUN in getattr(item, "fixturenames", ()) for item in request.session.items):
        runs["again"] = tmp_path_factory.mktemp("ci-again") / "again"  # nothing shared but the code
    reproduce_together([materialise(REPO, dest) for dest in runs.values()])
    return runs


@pytest.fixture(scope="session")
def ci_workspace(_ci_runs) -> Path:
    """The CI-sized pipeline reproduced from a clean copy (shared by every test that reads it)."""
    return _ci_runs["head"]


@pytest.fixture(scope="session")
def ci_workspace_again(_ci_runs) -> Path:
    """A second clean CI-sized run of the same code and params, for the determinism test."""
    return _ci_runs["again"]
