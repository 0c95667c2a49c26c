"""Independent runs of a stage (one meta-training each) over every core, or over a Dask cluster.

    results = run_jobs(meta_compare_job, jobs, Workers.from_params(runtime), "table-es-ridge")

Where the jobs run, first match wins:
- `METAHEBB_SCHEDULER` or `runtime.scheduler` (`tcp://host:8786`): that running Dask cluster (a
  workstation's `dask scheduler` + `dask worker`, or dask-jobqueue's `SLURMCluster`; README);
- one job, or one worker (`METAHEBB_WORKERS` / `runtime.workers`): in this process, no cluster;
- otherwise a local Dask cluster of `workers` processes ("auto": one per usable core), one torch
  thread each, started for the stage and closed after it.

Why Dask distributed rather than Ray: it is pure Python (installs in seconds, no raylet, object
store or dashboard daemons), a local cluster starts in about a second on a 2-core machine, and
dask-jobqueue submits workers to SLURM/PBS/SGE from one Python call, so one code path serves a
laptop, a workstation and a cluster. Our jobs are coarse (minutes each, kilobytes in and out),
so Ray's actor model and shared-memory object store would buy nothing here.

Results do not depend on the number, kind or speed of the workers: a job is a pure function of
its arguments (its seeds come from its identity, e.g. the meta seed), results are returned in job
order whatever order they finish in, and every job pins torch to the same thread count.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("fanout")


def quiet() -> bool:
    """No progress bars under CI (logs stay readable); counts and ETAs are still logged."""
    return os.environ.get("CI", "").lower() == "true"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Workers:
    """How many local worker processes, or which cluster; never part of a result."""

    count: int
    scheduler: str = ""
    threads: int = 1  # torch threads per job

    @classmethod
    def from_params(cls, runtime: Any) -> Workers:
        """From `runtime.workers` / `runtime.scheduler`, overridden by METAHEBB_WORKERS / METAHEBB_SCHEDULER."""
        from metahebb.params import ParamError

        workers = os.environ.get("METAHEBB_WORKERS", str(runtime.workers))
        if workers == "auto":
            count = usable_cores()
        elif workers.isdigit() and int(workers) >= 1:
            count = int(workers)
        else:
            raise ParamError(f"METAHEBB_WORKERS={workers!r}: accepted values are 'auto' or an integer >= 1")
        return cls(count, os.environ.get("METAHEBB_SCHEDULER", runtime.scheduler), runtime.threads)


def _heap_allocations() -> None:
    """Undo what a Dask nanny's MALLOC_TRIM_THRESHOLD_ does to glibc: an explicit trim threshold
    switches off the dynamic mmap threshold, so every 2 MB tensor of an update is mmapped and
    page-faulted afresh (measured: ES generations 1.5x slower). Thresholds as glibc's own maximum."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 * 2**20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 64 * 2**20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to undo
        pass


def _run_one(fn: Callable, threads: int, job: Any) -> Any:
    """A job as a worker runs it: the torch thread count first (workers start with torch's default)."""
    import torch

    _heap_allocations()

    if not logging.getLogger().handlers:  # a fresh worker process: log like the stage does
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S"
        )
        logging.getLogger("distributed").setLevel(logging.WARNING)
    torch.set_num_threads(threads)
    return fn(job)


def run_jobs(fn: Callable[[Any], Any], jobs: Sequence[Any], workers: Workers, label: str) -> list[Any]:
    """[fn(job) for job in jobs], fanned out over `workers`; `fn` must be a module-level function."""
    jobs = list(jobs)
    if not jobs:
        return []
    start = time.perf_counter()
    if not workers.scheduler and (workers.count == 1 or len(jobs) == 1):
        results = []
        for i, job in enumerate(jobs):
            results.append(_run_one(fn, workers.threads, job))
            _log_progress(label, i + 1, len(jobs), start)
        return results
    return _run_dask(fn, jobs, workers, label, start)


def _run_dask(fn: Callable, jobs: list, workers: Workers, label: str, start: float) -> list:
    from dask.distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    logging.getLogger("distributed").setLevel(logging.WARNING)  # its INFO lines would drown the progress
    if workers.scheduler:
        client, cluster = Client(workers.scheduler), None
        where = f"the Dask cluster at {workers.scheduler}"
    else:
        n = min(workers.count, len(jobs))
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        where = f"{n} local worker processes"
    log.info("%s: %d runs on %s", label, len(jobs), where)
    try:
        futures = [
            client.submit(_run_one, fn, workers.threads, job, key=f"{label}-{i}", pure=False)
            for i, job in enumerate(jobs)
        ]
        bar = tqdm(total=len(jobs), desc=label, unit="run", disable=quiet(), mininterval=1.0)
        for done, _ in enumerate(as_completed(futures), start=1):
            bar.update()
            _log_progress(label, done, len(jobs), start)
        bar.close()
        return client.gather(futures)  # in job order, whatever order they finished in
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _log_progress(label: str, done: int, total: int, start: float) -> None:
    elapsed = time.perf_counter() - start
    eta = elapsed / done * (total - done)
    log.info("%s: run %d/%d done, %.0fs elapsed, eta %.0fs", label, done, total, elapsed, eta)
