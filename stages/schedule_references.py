"""Stage schedule_references: the references of `schedule` in every inner schedule, and the raw input.

python stages/schedule_references.py

Reads the baselines' chosen settings (metrics/baselines.json) and trains fresh networks in each
mode on confirm's draws. Writes metrics/schedule/runs/references.csv, metrics/schedule/references.json
and metrics/schedule/timing/references.json, as schedule@<variant> does.
"""

from __future__ import annotations

from metahebb import stage
from metahebb.artifacts import load_json
from metahebb.capacity import REFERENCES, save_sweep
from metahebb.compare import Setting
from metahebb.params import load_params
from metahebb.runtime import configure
from metahebb.schedule import COLUMN, STUDY, reference_jobs


def main(argv: list[str]) -> None:
    p = load_params()
    device = configure(p.runtime.threads, p.runtime.device)
    jobs = reference_jobs(p, Setting.of(p, str(device)), load_json("metrics/baselines.json"))
    save_sweep(REFERENCES, jobs, p.runtime, STUDY, COLUMN)


if __name__ == "__main__":
    stage.run(main)
