"""reports/timing.md is built from recorded files only; the README quotes no duration by hand."""

import json
import re
from pathlib import Path

from metahebb.timing_report import timing_markdown

REPO = Path(__file__).resolve().parent.parent


def _write(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))


def test_every_recorded_duration_reaches_the_table_and_fixed_rules_are_left_out(tmp_path):
    metrics, results = tmp_path / "metrics", tmp_path / "results"
    seconds = {"mean": 124.25, "std": 3.0, "ci95": 4.07}
    _write(
        metrics / "meta_compare/timing/table-es-ridge.json",
        {"meta_train_seconds": seconds, "meta_train_seconds_max": 127.2},
    )
    _write(
        metrics / "meta_compare/timing/none.json",
        {"meta_train_seconds": {"mean": 0, "std": 0, "ci95": 0}, "meta_train_seconds_max": 0},
    )
    _write(
        metrics / "meta_tasks/timing/table-es-labels_acc.json",
        {"meta_train_seconds": seconds, "meta_train_seconds_max": 130.0, "stage_seconds": 847.2},
    )
    _write(metrics / "capacity/timing/references.json", {"stage_seconds": 1200.0})
    env = {
        "date": "2026-12-01",
        "git_commit": "0123456789abcdef",
        "cpu": "Test CPU",
        "device": "cpu",
        "torch_threads": 1,
    }
    _write(
        results / "fanout_scaling.json",
        {"environment": env, "runs": 4, "generations": 10,
         "measured": [{"workers": 1, "seconds": 78.2, "speedup": 1.0}, {"workers": 2, "seconds": 55.6, "speedup": 1.407}]},
    )  # fmt: skip
    _write(results / "unknown_benchmark.json", {"benchmark": "something_new"})

    text = timing_markdown(metrics, results)

    assert "| `meta_compare@table-es-ridge` | 124.2 +- 4.1 s | 127.2 s | not recorded by this stage |" in text
    assert "| `meta_tasks@table-es-labels_acc` | 124.2 +- 4.1 s | 130.0 s | 14.1 min |" in text
    assert "| `capacity@references` | nothing meta-trained | - | 20.0 min |" in text
    assert "meta_compare@none" not in text  # nothing meta-trained, nothing to time
    assert "at commit `0123456`" in text and "Test CPU" in text
    assert "2 worker(s) 55.6 s, speed-up 1.41x" in text
    assert "unknown_benchmark" not in text


def test_the_committed_timing_report_is_what_the_recorded_files_give():
    expected = timing_markdown(REPO / "metrics", REPO / "benchmarks/results")
    assert (REPO / "reports/timing.md").read_text() == expected


# Durations that are settings of the code, not measurements (a limit, a staleness age).
SETTINGS = {"60 s per stage", "older than 10 min"}
DURATION = re.compile(r"\b\d+(\.\d+)?(-\d+(\.\d+)?)? ?(s|min|minutes|h|hours)\b")


def test_the_readme_quotes_no_measured_duration_by_hand():
    text = (REPO / "README.md").read_text()
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # commands and code, not prose
    for setting in SETTINGS:
        text = text.replace(setting, "")
    found = [m.group(0) for m in DURATION.finditer(text)]
    assert not found, f"README quotes durations by hand (link reports/timing.md instead): {found}"
