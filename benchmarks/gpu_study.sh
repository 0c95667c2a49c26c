#!/usr/bin/env bash
# One prepared GPU check, for a machine with one CUDA GPU and a venv whose torch has CUDA
# (PYTHON=path/to/python; default .venv/bin/python). Under 8 minutes; everything lands as JSON in
# ${OUT:-benchmarks/results/gpu}:
#   1. the CUDA-aware tests (device auto = cuda there: runtime, outer loop, compare, fan-out);
#   2. the rule and ES throughput benchmarks on cuda (--quick sizes, each checked against its loop);
#   3. a timed meta_compare study: the CI-sized pipeline in a clean copy, then every meta_compare
#      stage forced with runtime.device=cuda, wall time per stage (`dvc repro -f -s`).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
OUT=${OUT:-benchmarks/results/gpu}
mkdir -p "$OUT"
export DVC_NO_ANALYTICS=1 CI=true
export PATH="$(dirname "$PYTHON"):$PATH"
"$PYTHON" - <<'PY' > "$OUT/device.json"
import json, torch
print(json.dumps({"cuda": torch.cuda.is_available(), "torch": torch.__version__,
                  "name": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}))
PY
cat "$OUT/device.json"
timeout 150 "$PYTHON" -m pytest -q -x tests/test_runtime.py tests/test_outer.py tests/test_compare.py \
    tests/test_fanout.py -k "not real_cluster" --junitxml="$OUT/tests.xml" | tail -3
timeout 60 "$PYTHON" benchmarks/rule_throughput.py --device cuda --quick --out "$OUT/rule_throughput.json" | tail -8
timeout 90 "$PYTHON" benchmarks/es_throughput.py --device cuda --quick --out "$OUT/es_throughput.json" | tail -6
WORK=$(mktemp -d)
timeout 200 "$PYTHON" - "$WORK" "$OUT/meta_compare_study.json" <<'PY'
import json, subprocess, sys, time, yaml
from pathlib import Path
from metahebb.ci_workspace import materialise, reproduce

work, out = Path(sys.argv[1]), Path(sys.argv[2])
repo = materialise(Path.cwd(), work / "study")
start = time.perf_counter(); reproduce(repo); total = time.perf_counter() - start
params = yaml.safe_load((repo / "params.yaml").read_text())
params["runtime"]["device"] = "cuda"
(repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
stages = [s for s in subprocess.run([sys.executable, "-m", "dvc", "stage", "list", "--name-only"], cwd=repo,
          capture_output=True, text=True, check=True).stdout.split() if s.startswith("meta_compare")]
seconds = {}
for stage in stages:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dvc", "repro", "-f", "-s", stage], cwd=repo, check=True,
                   capture_output=True)
    seconds[stage] = time.perf_counter() - t
out.write_text(json.dumps({"ci_sized_pipeline_s": total, "meta_compare_cuda_s": seconds,
                           "meta_compare_cuda_total_s": sum(seconds.values())}, indent=2))
print(out.read_text())
PY
echo "wrote $OUT"
