"""Stage train_hebbian: fresh k-cap RNNs (one per seed) trained by a frozen rule; their latents.

python stages/train_hebbian.py <dataset> <rule>
"""

from __future__ import annotations

import logging
import time

import pandas as pd

from metahebb import stage
from metahebb.artifacts import load_arrays, save_json, save_table
from metahebb.hebbian_train import train_hebbian, train_summary
from metahebb.latents import save_latents
from metahebb.params import load_params, require_choice
from metahebb.rules import load_rule
from metahebb.runtime import configure

log = logging.getLogger("train_hebbian")


def main(argv: list[str]) -> None:
    dataset, name = argv
    p = load_params()
    require_choice("dataset", dataset, p.datasets)
    require_choice("rule", name, p.train_hebbian.rules + p.meta_train.rules)
    rnn, stab, params = p.kcap_rnn, p.stabilisers, p.train_hebbian
    device = configure(p.runtime.threads, p.runtime.device)

    data = load_arrays(f"data/datasets/{dataset}.npz", required=("x", "is_test"))
    rule = load_rule(name, p.rules, rnn.T)
    start = time.perf_counter()
    result = train_hebbian(
        data["x"], data["is_test"], rule, rnn, stab, params, name=f"{dataset}/{name}", device=device
    )
    log.info(
        "%s/%s: %d seeds x %d epochs in %.1fs on %s, final loss %s",
        dataset,
        name,
        len(params.seeds),
        params.epochs,
        time.perf_counter() - start,
        device,
        result.loss[-1].round(4).tolist(),
    )

    save_latents(f"data/latents/{dataset}/{name}.npz", result.views, seeds=params.seeds)
    loss = {f"loss_seed{s}": result.loss[:, i] for i, s in enumerate(params.seeds)}
    table = pd.DataFrame({"epoch": range(len(result.loss)), "loss_mean": result.loss.mean(axis=1), **loss})
    save_table(f"metrics/train/{dataset}/{name}_loss.csv", table)
    save_json(f"metrics/train/{dataset}/{name}.json", train_summary(result, params.seeds))


if __name__ == "__main__":
    stage.run(main)
