"""Stage schedule@<variant>: one tasks variant's frozen runs in every inner schedule of `schedule`.

python stages/schedule.py <variant>       (an entry of schedule.variants, e.g. table-es-labels_acc)

Reads the variant's thetas (data/meta_tasks/<variant>.pt, all runs) and trains fresh networks in
each mode (batch size, step scaled or not) on confirm's draws. Writes metrics/schedule/runs/<variant>.csv
(confirm's run-table columns plus `mode` and `rule`), metrics/schedule/<variant>.json (per mode:
means over runs, draws and seeds) and metrics/schedule/timing/<variant>.json (the stage's wall time).
"""

from __future__ import annotations

from metahebb import stage
from metahebb.artifacts import load_torch
from metahebb.capacity import save_sweep
from metahebb.compare import Setting
from metahebb.params import load_params, require_choice
from metahebb.runtime import configure
from metahebb.schedule import COLUMN, STUDY, variant_jobs


def main(argv: list[str]) -> None:
    (variant,) = argv
    p = load_params()
    require_choice("variant", variant, p.schedule.variants)
    device = configure(p.runtime.threads, p.runtime.device)
    thetas = load_torch(f"data/meta_tasks/{variant}.pt", required=("thetas",))["thetas"]
    jobs = variant_jobs(p, Setting.of(p, str(device)), variant, thetas)
    save_sweep(variant, jobs, p.runtime, STUDY, COLUMN)


if __name__ == "__main__":
    stage.run(main)
