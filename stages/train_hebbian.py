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
from metahebb.params import (
    HebbianParams,
    KCapRNNParams,
    MetaParams,
    RuleParams,
    RuntimeParams,
    StabiliserParams,
    load_datasets,
    load_group,
    require_choice,
)
from metahebb.rules import load_rule
from metahebb.runtime import configure

log = logging.getLogger("train_hebbian")


def main(argv: list[str]) -> None:
    dataset, name = argv
    require_choice("dataset", dataset, load_datasets())
    runtime = load_group(RuntimeParams, "runtime")
    rnn = load_group(KCapRNNParams, "kcap_rnn")
    stab = load_group(StabiliserParams, "stabilisers")
    rules = load_group(RuleParams, "rules")
    params = load_group(HebbianParams, "train_hebbian")
    require_choice("rule", name, params.rules + load_group(MetaParams, "meta_train").rules)
    device = configure(runtime.threads, runtime.device)

    data = load_arrays(f"data/datasets/{dataset}.npz", required=("x", "is_test"))
    rule = load_rule(name, rules, rnn.T)
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
