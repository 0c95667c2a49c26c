"""`reports/timing.md`: every wall time the project quotes, read from the file that recorded it.

Durations differ between machines and runs, so the README copies none of them by hand; it links here.
Two sources: the per-run meta-training seconds the meta-training stages write themselves
(`metrics/<stage>/timing/<variant>.json`), and the JSON each benchmark run leaves in
`benchmarks/results/` with the commit, CPU and date it ran on (`python benchmarks/run_all.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def _seconds(value: float | None) -> str:
    if value is None:
        return "not recorded by this stage"
    return f"{value / 60:.1f} min" if value >= 600 else f"{value:.1f} s"


def stage_rows(metrics_root: Path) -> list[str]:
    """One table row per meta-trained variant: seconds per meta-training run, and the stage's wall time
    where the stage recorded it."""
    rows = []
    for path in sorted(metrics_root.glob("*/timing/*.json")):
        record = json.loads(path.read_text())
        name = f"`{path.parent.parent.name}@{path.stem}`"
        if "meta_train_seconds" not in record:  # a stage that meta-trains nothing (capacity, schedule)
            rows.append(f"| {name} | nothing meta-trained | - | {_seconds(record['stage_seconds'])} |")
            continue
        per_run = record["meta_train_seconds"]
        if record["meta_train_seconds_max"] == 0:  # a fixed rule: nothing is meta-trained
            continue
        rows.append(
            f"| {name} | {per_run['mean']:.1f} +- {per_run['ci95']:.1f} s "
            f"| {record['meta_train_seconds_max']:.1f} s | {_seconds(record.get('stage_seconds'))} |"
        )
    return rows


def _pipeline(record: dict) -> list[str]:
    mode = " (`--quick` params)" if record.get("quick") else " (default params)"
    lines = [
        f"`dvc repro --force` of {len(record['stages'])} stages{mode}: {_seconds(record['repro_seconds'])}; "
        f"a no-op `dvc repro` after it: {_seconds(record['noop_repro_seconds'])}. Summed per stage family:"
    ]
    families = record["stage_families_seconds"]
    lines += [f"`{name}` {_seconds(seconds)}" for name, seconds in families.items()]
    return [lines[0], ", ".join(lines[1:])]


def _fanout(record: dict) -> list[str]:
    measured = "; ".join(
        f"{m['workers']} worker(s) {_seconds(m['seconds'])}, speed-up {m['speedup']:.2f}x"
        for m in record["measured"]
    )
    return [
        f"{record['runs']} ES runs of {record['generations']} generations through the fan-out: {measured}."
    ]


def _speedups(key: Callable[[dict], str], what: str) -> Callable[[dict], list[str]]:
    def summary(record: dict) -> list[str]:
        ratios: dict[str, list[float]] = {}
        for result in record["results"]:
            if "speedup" in result:  # a size the baseline was too slow to time has none
                ratios.setdefault(key(result), []).append(result["speedup"])
        return [
            f"{what}, library / baseline in the same run: "
            + "; ".join(f"{name} {min(r):.1f}-{max(r):.1f}x" for name, r in ratios.items())
        ]

    return summary


def _meta(record: dict) -> list[str]:
    lines = _speedups(lambda r: f"m={r['m']}", "meta-training steps/s (over P and K)")(record)
    for result in record["results"]:
        if "default_run" in result:
            run = result["default_run"]
            lines.append(f"The default `meta_train` run: {run['steps']} steps in {_seconds(run['seconds'])}.")
    peaks = [r["peak_rss_mb"] for r in record["results"] if "peak_rss_mb" in r]
    if peaks:
        lines.append(f"Peak resident memory {min(peaks):.0f}-{max(peaks):.0f} MB.")
    return lines


SUMMARIES: dict[str, Callable[[dict], list[str]]] = {
    "pipeline_timing": _pipeline,
    "fanout_scaling": _fanout,
    "rule_throughput": _speedups(lambda r: f"{r['rule']}/{r['mode']}", "frozen-rule samples/s"),
    "meta_throughput": _meta,
    "es_throughput": _speedups(lambda r: r["rule"], "ES fitness, batched over candidates vs a loop"),
}


def benchmark_sections(results_root: Path) -> list[str]:
    """A paragraph per benchmark JSON: where and when it ran, and its headline figures."""
    lines = []
    for path in sorted(results_root.glob("*.json")):
        record = json.loads(path.read_text())
        kind = record.get("benchmark", path.stem)
        summary = SUMMARIES.get(kind)
        if summary is None:
            continue
        env = record.get("environment", {})
        dirty = " (uncommitted changes)" if env.get("git_dirty") else ""
        lines += [
            f"### `benchmarks/results/{path.name}`",
            "",
            f"Ran {env.get('date', 'on an unrecorded date')} at commit `{str(env.get('git_commit'))[:7]}`{dirty}, "
            f"{env.get('cpu', '?')} ({env.get('device', '?')}, {env.get('torch_threads', '?')} torch thread(s)).",
            "",
            *summary(record),
            "",
        ]
    return lines


def timing_markdown(metrics_root: Path, results_root: Path) -> str:
    """The whole of `reports/timing.md`."""
    return "\n".join(
        [
            "# Timings",
            "",
            "Generated by the `report` stage from the files that recorded each duration; nothing here is",
            "copied by hand. Wall times differ between machines and runs: compare ratios measured in one run.",
            "",
            "## Meta-training, written by the stages",
            "",
            "Seconds per meta-training run on one core (mean +- 95% interval over the meta seeds, and the",
            "maximum); the stage's wall time fans its runs out over `runtime.workers`.",
            "",
            "| stage@variant | per run | slowest run | stage wall time |",
            "|---|---|---|---|",
            *stage_rows(metrics_root),
            "",
            "## Benchmarks (`python benchmarks/run_all.py`)",
            "",
            *benchmark_sections(results_root),
        ]
    )
