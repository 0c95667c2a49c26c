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


@pytest.fixture(scope="session")
def ci_workspace(tmp_path_factory) -> Path:
    """The CI-sized pipeline (params.yaml + ci/params-overrides.yaml) reproduced from a clean copy.

    Shared by the end-to-end and determinism tests so the pipeline runs once for both. With
    METAHEBB_CI_WORK set (.ci/run does), it runs in $METAHEBB_CI_WORK/head and stays there, so
    .ci/run compares its metrics with the committed baseline without a third run.
    """
    from metahebb.ci_workspace import materialise, reproduce

    work = os.environ.get("METAHEBB_CI_WORK")
    dest = Path(work).resolve() / "head" if work else tmp_path_factory.mktemp("ci") / "head"
    reproduce(materialise(REPO, dest))
    return dest
