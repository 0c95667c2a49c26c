"""Stage capacity@<variant>: one tasks variant's frozen runs at every code size of `capacity`.

python stages/capacity.py <variant>       (an entry of capacity.variants, e.g. table-es-labels_acc)

Reads the variant's thetas (data/meta_tasks/<variant>.pt, all runs) and trains fresh networks of
each (m, k) on confirm's draws. Writes metrics/capacity/runs/<variant>.csv (confirm's run-table
columns plus `size` and `rule`), metrics/capacity/<variant>.json (per size: means over runs, draws
and seeds) and metrics/capacity/timing/<variant>.json (the stage's wall time).
"""

from __future__ import annotations

from metahebb import stage
from metahebb.artifacts import load_torch
from metahebb.capacity import save_sweep, variant_jobs
from metahebb.compare import Setting
from metahebb.params import load_params, require_choice
from metahebb.runtime import configure


def main(argv: list[str]) -> None:
    (variant,) = argv
    p = load_params()
    require_choice("variant", variant, p.capacity.variants)
    device = configure(p.runtime.threads, p.runtime.device)
    thetas = load_torch(f"data/meta_tasks/{variant}.pt", required=("thetas",))["thetas"]
    save_sweep(variant, variant_jobs(p, Setting.of(p, str(device)), variant, thetas), p.runtime)


if __name__ == "__main__":
    stage.run(main)
