"""One generation of the evolution strategy's fitness, candidates batched vs a Python loop over candidates.

python benchmarks/es_throughput.py [--quick] [--device auto|cpu|cuda] [--out PATH] [--objective NAME]

`metahebb.outer.es.Fitness` scores C candidate parameter vectors of a rule, each by training N fresh
k-cap RNNs (`es.networks_per_dataset` per meta-training dataset) for the inner schedule (`es.epochs`
passes over the inner points, batches of `es.batch_size`) and scoring them on the validation points. The
library runs the C*N networks as one population: `CandidateRule` maps the rule over the candidates'
parameters (natively for `table`, else with `torch.func.vmap`). The baseline, written here, is the same generation as a Python loop over
candidates: each candidate is its own rule (`make_rule(..., theta=...)`, i.e. `load_state_dict`) training
its N networks with `plastic_step`, then scored. Both see identical draws: the baseline draws the fresh
networks, every epoch's batch orders and the validation order from the same generator state, in the same
sequence as `Fitness`, once per generation (shared by every candidate, like `Fitness`'s common random
numbers), and its batches are stacked once, outside the candidate loop.

Before timing, each rule checks that both give the same fitness values (rtol 1e-4). Candidates are CMA-ES's
first generation: the rule's initial parameters plus `es.sigma` times seeded Gaussian noise. Network-updates
= C x N x epochs x (inner points // batch): one update of one network on one batch, counted identically for
both. Params: groups `rules`, `kcap_rnn`, `stabilisers`, `meta_train` (datasets, objective, validation split)
and `es` of params.yaml; data from `make_dataset` (no pipeline run needed). `--quick`: epochs = 1, C = 4.
"""

from __future__ import annotations

import dataclasses

import torch
from timing import REPO, arguments, device_of, environment, median_time, table, write_json

from metahebb.datasets import make_dataset
from metahebb.kcap_rnn import forward, init_network
from metahebb.meta_data import MetaData, training_points
from metahebb.objectives import ObjectiveBatch, objective_loss
from metahebb.outer.es import DIVERGED, Fitness
from metahebb.outer.population import flatten, unflatten
from metahebb.params import (
    OBJECTIVE_NAMES,
    DataParams,
    ESParams,
    KCapRNNParams,
    MetaParams,
    RuleParams,
    StabiliserParams,
    load_group,
)
from metahebb.plasticity import plastic_step
from metahebb.rules import make_rule
from metahebb.runtime import generator
from metahebb.stabilisers import prepare

RULES = ("table", "attention")
RTOL = 1e-4
PARAMS = REPO / "params.yaml"  # read from any working directory


def meta_data(meta: MetaParams) -> MetaData:
    """Standardised training points and labels of each meta-training dataset, as the stages read them."""
    data = load_group(DataParams, "data", PARAMS)
    points = {d: training_points(make_dataset(d, data).arrays()) for d in meta.datasets}
    return MetaData({d: x for d, (x, _) in points.items()}, {d: y for d, (_, y) in points.items()})


def first_generation(rule: torch.nn.Module, es: ESParams, count: int) -> torch.Tensor:
    """(C, D) float64 candidates around the rule's initial parameters, as CMA-ES's first ask would be."""
    start = flatten(rule)
    noise = torch.randn(count, len(start), generator=generator(es.seed), dtype=torch.float64)
    return start + es.sigma * noise


@torch.no_grad()
def looped(
    fitness: Fitness, name: str, rules: RuleParams, candidates: torch.Tensor, gen: torch.Generator
) -> torch.Tensor:
    """The baseline: `Fitness.__call__`'s draws from `gen`, then one plain rule per candidate, in a loop."""
    f, device = fitness, fitness.device
    n = len(f.which)
    dims = f.parts.inner[0].shape[1]
    fresh = prepare(init_network(n, dims, f.rnn, gen), f.rnn, f.stab).to(device)
    steps = f.inner_size // f.batch
    batches = []
    for _ in range(f.es.epochs):
        orders = [torch.randperm(len(f.parts.inner[d]), generator=gen) for d in f.which]
        for step in range(steps):
            idx = slice(step * f.batch, (step + 1) * f.batch)
            x = torch.stack([f.parts.inner[d][o[idx]] for d, o in zip(f.which, orders, strict=True)])
            batches.append(x.to(device))
    orders = [f._score_order(d, gen) for d in f.which]  # the library's own validation draw
    x = torch.stack([f.parts.val_x[d][o] for d, o in zip(f.which, orders, strict=True)])
    y = torch.stack([f.parts.val_y[d][o] for d, o in zip(f.which, orders, strict=True)])
    score = ObjectiveBatch(x.to(device), f.fit_points(), y.to(device) if f.objective.uses_labels else None)
    params = unflatten(f.rule, candidates)
    out = []
    for c in range(len(candidates)):
        rule = make_rule(name, rules, f.rnn.T, theta={k: v[c] for k, v in params.items()}).to(device)
        net = fresh  # plastic_step never modifies the network it is given
        for xb in batches:
            net, _ = plastic_step(net, xb, rule, f.rnn, f.stab)
        out.append(objective_loss(f.meta.objective, forward(net, score.x, f.rnn), score, f.meta).mean())
    loss = torch.stack(out).double().cpu()
    return torch.where(torch.isfinite(loss), loss, torch.full_like(loss, DIVERGED))


def measure(name: str, setting: dict, data: MetaData, device: torch.device, repeats: int, min_time: float):
    rnn, stab, rules, meta, es = (setting[k] for k in ("rnn", "stab", "rules", "meta", "es"))
    rule = make_rule(name, rules, rnn.T).to(device)
    fitness = Fitness(rule, data, rnn, stab, meta, es, device)
    cands = first_generation(rule, es, es.population)
    C, N = len(cands), len(fitness.which)
    steps = fitness.inner_size // fitness.batch
    updates = C * N * es.epochs * steps

    batched_f = fitness(cands, generator(es.seed + 1))
    looped_f = looped(fitness, name, rules, cands, generator(es.seed + 1))
    rel = ((batched_f - looped_f).abs() / looped_f.abs().clamp_min(1e-12)).max().item()
    ok = torch.allclose(batched_f, looped_f, rtol=RTOL, atol=0.0)
    print(
        f"check {name}: batched vs looped fitness of {C} candidates, max rel diff {rel:.1e} "
        f"(rtol {RTOL:g}): {'ok' if ok else 'FAILED'}"
        + (f"; diverged: {int((batched_f >= DIVERGED).sum())}" if (batched_f >= DIVERGED).any() else ""),
        flush=True,
    )
    if not ok:
        raise SystemExit(f"check failed: {name}: batched {batched_f.tolist()} vs looped {looped_f.tolist()}")

    gen_b, gen_l = generator(es.seed + 2), generator(es.seed + 2)  # each call draws a new generation
    batched_t = median_time(lambda: fitness(cands, gen_b), device, repeats, min_time)
    looped_t = median_time(
        lambda: looped(fitness, name, rules, cands, gen_l), device, max(3, repeats - 2), min_time
    )
    return {
        "rule": name,
        "parameters": cands.shape[1],
        "C": C,
        "N": N,
        "networks": C * N,
        "epochs": es.epochs,
        "updates_per_epoch": steps,
        "batch": fitness.batch,
        "objective": meta.objective,
        "network_updates_per_generation": updates,
        "batched_s_per_generation": batched_t["seconds"],
        "looped_s_per_generation": looped_t["seconds"],
        "speedup": looped_t["seconds"] / batched_t["seconds"],
        "batched_network_updates_per_s": updates / batched_t["seconds"],
        "looped_network_updates_per_s": updates / looped_t["seconds"],
        "check_max_rel_diff": rel,
        "fitness_batched": batched_f.tolist(),
        "fitness_looped": looped_f.tolist(),
        "batched_timing": batched_t,
        "looped_timing": looped_t,
    }


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], "es_throughput.json")
    parser.add_argument(
        "--objective", choices=OBJECTIVE_NAMES, help="fitness objective (default: meta_train.objective)"
    )
    args = parser.parse_args()
    if args.quick and args.out == parser.get_default("out"):
        args.out = args.out.replace("es_throughput.json", "es_throughput_quick.json")
    device = device_of(args.device)
    meta = load_group(MetaParams, "meta_train", PARAMS)
    if args.objective:
        meta = dataclasses.replace(meta, objective=args.objective)
    es = load_group(ESParams, "es", PARAMS)
    if args.quick:
        es = dataclasses.replace(es, epochs=1, population=4)
    setting = {
        "rnn": load_group(KCapRNNParams, "kcap_rnn", PARAMS),
        "stab": load_group(StabiliserParams, "stabilisers", PARAMS),
        "rules": load_group(RuleParams, "rules", PARAMS),
        "meta": meta,
        "es": es,
    }
    data = meta_data(meta)
    env = environment(device)
    repeats, min_time = (3, 0.05) if args.quick else (5, 0.25)

    rows = []
    for name in RULES:
        row = measure(name, setting, data, device, repeats, min_time)
        rows.append(row)
        print(
            f"{name:9s} C={row['C']} N={row['N']}: batched {row['batched_s_per_generation']:.3g} s/generation, "
            f"looped {row['looped_s_per_generation']:.3g} s (x{row['speedup']:.1f})",
            flush=True,
        )

    print()
    print(
        table(
            rows,
            [
                ("rule", "rule", ""),
                ("C", "C", ""),
                ("N", "N networks", ""),
                ("batched_s_per_generation", "batched s/gen", ".3g"),
                ("looped_s_per_generation", "looped s/gen", ".3g"),
                ("speedup", "ratio", ".1f"),
                ("batched_network_updates_per_s", "batched net-upd/s", ".3g"),
                ("looped_network_updates_per_s", "looped net-upd/s", ".3g"),
                ("check_max_rel_diff", "check rel", ".1e"),
            ],
        )
    )
    write_json(
        args.out,
        {
            "benchmark": "es_throughput",
            "environment": env,
            "network_updates": "C x N x epochs x (inner points // batch) per generation",
            "quick": args.quick,
            "params": {k: dataclasses.asdict(v) for k, v in setting.items()},
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
