"""Fan-out: results do not depend on how many workers ran them, or where (local cores, a cluster)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metahebb.fanout import Workers, run_jobs, usable_cores
from metahebb.params import ParamError, RuntimeParams


def square(x: int) -> int:
    return x * x


def test_serial_run_keeps_job_order_and_needs_no_cluster():
    assert run_jobs(square, [3, 1, 2], Workers(1), "squares") == [9, 1, 4]
    assert run_jobs(square, [], Workers(4), "nothing") == []


def test_local_workers_return_results_in_job_order():
    assert run_jobs(square, list(range(5)), Workers(2), "squares") == [0, 1, 4, 9, 16]


def test_workers_come_from_params_and_the_environment_overrides(monkeypatch):
    runtime = RuntimeParams(threads=1, device="cpu", workers="auto", scheduler="")
    monkeypatch.delenv("METAHEBB_WORKERS", raising=False)
    monkeypatch.delenv("METAHEBB_SCHEDULER", raising=False)
    assert Workers.from_params(runtime) == Workers(usable_cores(), "", 1)
    monkeypatch.setenv("METAHEBB_WORKERS", "3")
    monkeypatch.setenv("METAHEBB_SCHEDULER", "tcp://127.0.0.1:1")
    assert Workers.from_params(runtime) == Workers(3, "tcp://127.0.0.1:1", 1)
    monkeypatch.setenv("METAHEBB_WORKERS", "many")
    with pytest.raises(ParamError, match="METAHEBB_WORKERS='many'"):
        Workers.from_params(runtime)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _force(workdir: Path, stage: str, env: dict) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dvc", "repro", "-f", "-s", stage],
        cwd=workdir,
        env={
            **os.environ,
            "DVC_NO_ANALYTICS": "1",
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            **env,
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_a_stage_gives_the_same_bytes_on_one_worker_and_on_a_real_cluster(ci_workspace):
    """The CI-sized leave-one-out ES stage (several runs), rerun on 1 worker and on a Dask cluster
    (a scheduler and 2 worker processes on 127.0.0.1), must write byte-identical theta and metrics."""
    workdir = ci_workspace
    stage = next(
        s for s in (workdir / "dvc.lock").read_text().split() if s.startswith("meta_compare_loo_es@")
    )
    variant = stage.rstrip(":").split("@")[1]
    outputs = [f"data/meta_compare_loo/{variant}.pt", f"metrics/meta_compare_loo/{variant}.json"]
    before = {p: (workdir / p).read_bytes() for p in outputs}

    _force(workdir, stage.rstrip(":"), {"METAHEBB_WORKERS": "1"})
    assert {p: (workdir / p).read_bytes() for p in outputs} == before, "1 worker vs the run on every core"

    port = _free_port()
    dask = str(Path(sys.executable).parent / "dask")
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = subprocess.Popen(
        [dask, "worker", f"tcp://127.0.0.1:{port}", "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from dask.distributed import Client

        with Client(f"tcp://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + 60
            while len(client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert len(client.scheduler_info()["workers"]) == 2, "the local cluster did not start"
        _force(workdir, stage.rstrip(":"), {"METAHEBB_SCHEDULER": f"tcp://127.0.0.1:{port}"})
    finally:
        workers.terminate()
        scheduler.terminate()
        workers.wait(30)
        scheduler.wait(30)
    assert {p: (workdir / p).read_bytes() for p in outputs} == before, "the cluster vs local workers"
