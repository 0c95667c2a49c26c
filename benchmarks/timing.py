"""What every benchmark shares: the device, honest timing, the machine's description and peaks, output."""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"

# Peak memory bandwidth (bytes/s) and dense FP32 / TF32-tensor-core FLOP rates by device name, from the
# vendors' data sheets (SXM parts), used where torch's device properties give no bandwidth.
GPU_TABLE = {
    "H200": {"bandwidth": 4.8e12, "fp32": 67e12, "tf32": 495e12},
    "H100 PCIe": {"bandwidth": 2.0e12, "fp32": 51e12, "tf32": 378e12},
    "H100": {"bandwidth": 3.35e12, "fp32": 67e12, "tf32": 495e12},
    "A100-SXM4-80GB": {"bandwidth": 2.039e12, "fp32": 19.5e12, "tf32": 156e12},
    "A100": {"bandwidth": 1.555e12, "fp32": 19.5e12, "tf32": 156e12},
}


def arguments(description: str, out: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--quick", action="store_true", help="small sizes and short timings (~20 s)")
    parser.add_argument("--out", default=str(RESULTS / out), help="where the JSON goes")
    return parser


def device_of(name: str) -> torch.device:
    """`auto` is CUDA when present; asking for CUDA without one is a one-line error. One CPU thread."""
    torch.set_num_threads(1)
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: no CUDA device is present; use --device auto or cpu")
    return torch.device(name)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_time(fn: Callable[[], object], device: torch.device, repeats: int, min_time: float) -> dict:
    """Seconds per call of fn: one warm-up call (excluded), then the median of `repeats` timed runs,
    each of enough calls to last at least `min_time` seconds."""
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    warm = time.perf_counter() - start
    calls = max(1, math.ceil(min_time / max(warm, 1e-9)))
    runs = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        sync(device)
        runs.append((time.perf_counter() - start) / calls)
    return {"seconds": statistics.median(runs), "runs": runs, "calls_per_run": calls, "warmup_s": warm}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_peaks(device: torch.device) -> dict | None:
    """The card's name, memory bandwidth and FLOP rates, saying where each figure comes from."""
    if device.type != "cuda":
        return None
    props = torch.cuda.get_device_properties(device)
    row = next((v for k, v in GPU_TABLE.items() if k in props.name), None)
    clock_khz, bus_bits = getattr(props, "memory_clock_rate", 0), getattr(props, "memory_bus_width", 0)
    if clock_khz and bus_bits:  # double data rate, as NVIDIA's deviceQuery computes it
        bandwidth, source = 2 * clock_khz * 1e3 * bus_bits / 8, "torch.cuda.get_device_properties"
    elif row:
        bandwidth, source = row["bandwidth"], "table by device name (benchmarks/timing.py)"
    else:
        bandwidth, source = None, "unknown device; no bandwidth figure"
    return {
        "name": props.name,
        "memory_gib": props.total_memory / 2**30,
        "bandwidth_bytes_per_s": bandwidth,
        "bandwidth_source": source,
        "fp32_flops": row["fp32"] if row else None,
        "tf32_flops": row["tf32"] if row else None,
        "flops_source": "table by device name (benchmarks/timing.py)" if row else "unknown device",
    }


def environment(device: torch.device) -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    return {
        "device": str(device),
        "cpu": cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "gpu": gpu_peaks(device),
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def write_json(path: str | Path, payload: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {path}")


def table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """Plain text table; columns are (key, header, format spec)."""

    def cell(row: dict, key: str, spec: str) -> str:
        value = row.get(key)
        if value is None:
            return "-"
        return format(value, spec) if spec else str(value)

    cells = [[cell(r, k, f) for k, _, f in columns] for r in rows]
    widths = [
        max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, (_, h, _) in enumerate(columns)
    ]
    lines = ["  ".join(h.rjust(w) for (_, h, _), w in zip(columns, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)
