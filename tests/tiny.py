"""Tiny, fast params shared by the unit tests; a test file overrides only what it exercises.

from tiny import ES, META, RNN, RULES, STAB
META_FAST = dataclasses.replace(META, steps=5)
"""

from __future__ import annotations

from metahebb.params import DataParams, ESParams, KCapRNNParams, MetaParams, RuleParams, StabiliserParams

RNN = KCapRNNParams(m=16, k=4, T=2, bias=True, readout="linear", init="gaussian", init_gain=1.0)
STAB = StabiliserParams(homeostasis=True, homeostasis_rate=0.05, normalise_rows=True, clip=0.1)
RULES = RuleParams(hebb_lr=0.01, oja_lr=0.01, hidden=8, init_step=0.01, neighbours=1, seed=0)
META = MetaParams(
    rules=["learned"],
    datasets=["circles", "moons"],
    steps=60,
    lr=0.02,
    population=4,
    batch_size=16,
    reset_every=30,
    lookahead=1,
    relaxation="ste",
    temperature=0.5,
    objective="paper",
    ridge_lambda=1.0,
    grad_clip=1.0,
    seed=0,
)
ES = ESParams(generations=3, population=4, sigma=0.1, networks_per_dataset=1, epochs=1, batch_size=8, seed=0)
DATA = DataParams(  # two small datasets for meta-training tests: 84 training points, 5D inputs
    n_samples=120,
    noise=0.08,
    circles_factor=0.5,
    blobs_std=1.0,
    blobs_distance=4.0,
    class_balance=0.5,
    ambient_dim=5,
    test_fraction=0.3,
    seed=0,
    projection_seed=0,
)
