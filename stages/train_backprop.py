"""Stage train_backprop: MLP or RNN autoencoders, one per seed, trained by backprop on MSE.

python stages/train_backprop.py <dataset> <architecture>
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from metahebb import runtime, stage
from metahebb.artifacts import load_arrays, save_json, save_table, save_torch
from metahebb.backprop import hidden_states, train_autoencoders
from metahebb.evaluation import summarise
from metahebb.latents import save_latents
from metahebb.params import load_params, require_choice

log = logging.getLogger("train_backprop")


def main(argv: list[str]) -> None:
    dataset, arch = argv
    p = load_params()
    require_choice("dataset", dataset, p.datasets)
    params = p.backprop
    require_choice("architecture", arch, params.architectures)
    device = runtime.configure(p.runtime.threads, p.runtime.device)
    data = load_arrays(f"data/datasets/{dataset}.npz", required=("x", "is_test"))

    test = data["is_test"]
    result = train_autoencoders(data["x"][~test], arch, params, device)
    seeds = params.seeds
    layer = params.latent_layer - 1
    train_states = hidden_states(result.model, data["x"][~test], len(seeds), device)
    test_states = hidden_states(result.model, data["x"][test], len(seeds), device)

    save_torch(f"data/models/{dataset}/{arch}.pt", {"state_dict": result.model.state_dict(), "seeds": seeds})
    save_latents(
        f"data/latents/{dataset}/{arch}.npz",
        {
            "latent": (train_states[layer], test_states[layer]),
            "concat": (np.concatenate(train_states, axis=-1), np.concatenate(test_states, axis=-1)),
        },
        seeds=seeds,
    )
    curve = pd.DataFrame({"epoch": np.arange(len(result.losses)), "loss_mean": result.losses.mean(axis=1)})
    for i, seed in enumerate(seeds):
        curve[f"loss_seed{seed}"] = result.losses[:, i]
    save_table(f"metrics/train/{dataset}/{arch}_loss.csv", curve)
    save_json(
        f"metrics/train/{dataset}/{arch}.json",
        {
            "final_mse": summarise(result.losses[-1]),
            "rel_mse_mean": float(result.rel_mse.mean()),
            "rel_mse_max": float(result.rel_mse.max()),
            "plateau_runs": int(result.plateau.sum()),
            "plateau": {str(s): int(p) for s, p in zip(seeds, result.plateau, strict=True)},
        },
    )
    log.info(
        "%s/%s: final MSE %s, plateaued seeds: %d",
        dataset,
        arch,
        result.losses[-1].round(5),
        result.plateau.sum(),
    )


if __name__ == "__main__":
    stage.run(main)
