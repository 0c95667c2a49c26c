"""Stage capacity_references: the references of `capacity` at every code size, and the raw input.

python stages/capacity_references.py

Reads the baselines' chosen settings (metrics/baselines.json) and trains fresh networks of each
(m, k) on confirm's draws. Writes metrics/capacity/runs/references.csv, metrics/capacity/references.json
and metrics/capacity/timing/references.json, as capacity@<variant> does.
"""

from __future__ import annotations

from metahebb import stage
from metahebb.artifacts import load_json
from metahebb.capacity import REFERENCES, reference_jobs, save_sweep
from metahebb.compare import Setting
from metahebb.params import load_params
from metahebb.runtime import configure


def main(argv: list[str]) -> None:
    p = load_params()
    device = configure(p.runtime.threads, p.runtime.device)
    jobs = reference_jobs(p, Setting.of(p, str(device)), load_json("metrics/baselines.json"))
    save_sweep(REFERENCES, jobs, p.runtime)


if __name__ == "__main__":
    stage.run(main)
