"""Run every benchmark in turn: python benchmarks/run_all.py [--quick] [--device auto|cpu|cuda].

Each prints its table and writes its JSON to benchmarks/results/. The pipeline timing runs the whole
default pipeline (minutes); `--quick` gives every benchmark its small setting (about a minute in all).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("rule_throughput.py", "meta_throughput.py", "es_throughput.py", "pipeline_timing.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-pipeline", action="store_true", help="leave out the dvc repro timing")
    args = parser.parse_args()
    failed = []
    for script in BENCHMARKS:
        if args.skip_pipeline and script == "pipeline_timing.py":
            continue
        print(f"\n==== {script}", flush=True)
        cmd = [sys.executable, str(HERE / script), "--device", args.device] + (
            ["--quick"] if args.quick else []
        )
        if subprocess.run(cmd).returncode:
            failed.append(script)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
