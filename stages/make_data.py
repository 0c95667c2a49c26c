"""Stage make_data: one projected two-class dataset, plus its `raw` and `true` reference latents.

python stages/make_data.py <dataset>
"""

from __future__ import annotations

import logging

from metahebb import stage
from metahebb.artifacts import save_arrays
from metahebb.datasets import make_dataset
from metahebb.latents import save_latents
from metahebb.params import load_params, require_choice

log = logging.getLogger("make_data")


def main(argv: list[str]) -> None:
    (name,) = argv
    p = load_params()
    require_choice("dataset", name, p.datasets)
    params = p.data

    data = make_dataset(name, params)
    test = data.is_test
    save_arrays(f"data/datasets/{name}.npz", **data.arrays())
    # The input itself and the true 2D latent are the floor and ceiling every model is judged against.
    save_latents(f"data/latents/{name}/raw.npz", {"x": (data.x[~test][None], data.x[test][None])}, seeds=[0])
    save_latents(f"data/latents/{name}/true.npz", {"z": (data.z[~test][None], data.z[test][None])}, seeds=[0])
    log.info("%s: %d points (%d test), ambient_dim=%d", name, len(data.y), test.sum(), params.ambient_dim)


if __name__ == "__main__":
    stage.run(main)
