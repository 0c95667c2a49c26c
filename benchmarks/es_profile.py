"""Where one CMA-ES generation's time goes, and a bitwise reference of a short ES run.

python benchmarks/es_profile.py                      # time + profile one default generation (ratio vs legacy)
python benchmarks/es_profile.py --record /tmp/es_ref.npz   # a short run's history and theta, per objective
python benchmarks/es_profile.py --check /tmp/es_ref.npz    # the same run, compared bitwise with the record
python benchmarks/es_profile.py --full-run                 # a whole default run, legacy then current (~5 min)

The run is the comparison's `table-es-<objective>` variant (rule `table`, optimiser `es`) at params.yaml's
defaults (`compare.seeded` with meta seed 0), shortened to `--generations` (default 6) generations; data from
`make_dataset` (no pipeline run needed). `--record` / `--check` cover ridge, labels_ce and labels_acc: every
`MetaResult.history` array, the final theta and the summary, compared with `np.array_equal` / `torch.equal`.

The timing is of `Fitness.__call__` on CMA-ES's first generation (C = es.population candidates, N networks,
es.epochs epochs): median seconds per generation of the current code and of `--legacy` (the generation as it
was before the per-core speed-up: `CandidateRule`'s vmap over candidates, one `torch.stack` per step and one
`.repeat` copy of every batch), in the same process, and their ratio. The profile groups cProfile's time by
stage (k-cap, rule update, stabilisers, forward, data, objective, CMA-ES). One thread; the machine's other
core may be busy, so the ratios, measured in one run, are what to read, not the seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import pstats
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from timing import REPO  # noqa: E402

from metahebb.datasets import make_dataset  # noqa: E402
from metahebb.kcap_rnn import Network, forward, init_network  # noqa: E402
from metahebb.meta_data import MetaData, training_points  # noqa: E402
from metahebb.objectives import ObjectiveBatch, objective_loss  # noqa: E402
from metahebb.outer.es import DIVERGED, Fitness, es_train  # noqa: E402
from metahebb.outer.population import flatten, unflatten  # noqa: E402
from metahebb.params import ESParams, MetaParams, load_params  # noqa: E402
from metahebb.plasticity import plastic_step  # noqa: E402
from metahebb.rules import make_rule  # noqa: E402
from metahebb.runtime import generator  # noqa: E402
from metahebb.stabilisers import prepare  # noqa: E402

PARAMS = REPO / "params.yaml"
OBJECTIVES = ("ridge", "labels_ce", "labels_acc")


def setting(objective: str, generations: int | None = None) -> dict:
    """The `table-es-<objective>` run of meta seed 0 (as `compare.seeded` builds it), from params.yaml."""
    p = load_params(PARAMS)
    meta = dataclasses.replace(p.meta_train, optimizer="es", objective=objective)
    es = p.es if generations is None else dataclasses.replace(p.es, generations=generations)
    return {"rnn": p.kcap_rnn, "stab": p.stabilisers, "rules": p.rules, "meta": meta, "es": es}


def meta_data(meta: MetaParams) -> MetaData:
    data = load_params(PARAMS).data
    points = {d: training_points(make_dataset(d, data).arrays()) for d in meta.datasets}
    return MetaData({d: x for d, (x, _) in points.items()}, {d: y for d, (_, y) in points.items()})


def short_run(objective: str, generations: int) -> dict[str, np.ndarray]:
    s = setting(objective, generations)
    rule = make_rule("table", s["rules"], s["rnn"].T)
    result = es_train(meta_data(s["meta"]), rule, s["rnn"], s["stab"], s["meta"], s["es"], "cpu", log_every=0)
    out = {f"history/{k}": np.asarray(v) for k, v in result.history.items()}
    out |= {f"theta/{k}": v.numpy() for k, v in result.theta.items()}
    out |= {f"summary/{k}": np.asarray(v) for k, v in result.summary.items()}
    return out


def record(path: str, generations: int) -> None:
    arrays = {}
    for objective in OBJECTIVES:
        start = time.perf_counter()
        arrays |= {f"{objective}/{k}": v for k, v in short_run(objective, generations).items()}
        print(f"{objective}: {generations} generations in {time.perf_counter() - start:.1f} s", flush=True)
    np.savez(path, **arrays)
    print(f"wrote {path}")


def check(path: str, generations: int) -> bool:
    ref = np.load(path)
    ok = True
    for objective in OBJECTIVES:
        start = time.perf_counter()
        got = {f"{objective}/{k}": v for k, v in short_run(objective, generations).items()}
        keys = sorted(k for k in ref.files if k.startswith(f"{objective}/"))
        if sorted(got) != keys:
            print(f"{objective}: keys differ: {sorted(got)} vs {keys}")
            ok = False
            continue
        bad = [
            k
            for k in keys
            if not (
                np.array_equal(got[k], ref[k])
                and torch.equal(torch.from_numpy(got[k]), torch.from_numpy(ref[k]))
            )
        ]
        took = time.perf_counter() - start
        print(
            f"{objective}: {len(keys)} arrays, {'bitwise identical' if not bad else f'DIFFER: {bad}'} ({took:.1f} s)"
        )
        ok &= not bad
    return ok


def legacy_kcap(x: torch.Tensor, k: int) -> torch.Tensor:
    """`metahebb.kcap.kcap` as it was before the speed-up (a bool comparison, then `.to`)."""
    x = x.detach()
    cut = torch.topk(x, k, dim=-1, sorted=False).values.amin(dim=-1, keepdim=True)
    keep = x >= cut
    if x.is_cuda or not bool((keep.sum(dim=-1) == k).all()):
        above = x > cut
        tied = keep & ~above
        keep = above | (tied & (tied.cumsum(dim=-1) <= k - above.sum(dim=-1, keepdim=True)))
    return keep.to(x.dtype)


LEGACY_KCAP = [legacy_kcap]  # what `legacy_activation` installs (the profiler puts a timed one here)


@contextlib.contextmanager
def legacy_activation():
    """`kcap_rnn.forward` with `legacy_kcap` as its default activation, for the duration."""
    import metahebb.kcap_rnn as kr

    saved = kr.forward.__defaults__
    kr.forward.__defaults__ = (LEGACY_KCAP[0],)
    try:
        yield
    finally:
        kr.forward.__defaults__ = saved


@torch.no_grad()
def legacy(f: Fitness, candidates: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """`Fitness.__call__` as it was before the speed-up: vmap over candidates, a stack and a repeat per step,
    the old k-cap."""
    with legacy_activation():
        return _legacy(f, candidates, gen)


def _legacy(f: Fitness, candidates: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    from metahebb.outer.population import VmapCandidateRule

    c, n = len(candidates), len(f.which)
    rule = VmapCandidateRule(f.rule, unflatten(f.rule, candidates.to(f.device)), n)
    dims = f.parts.inner[0].shape[1]
    fresh = prepare(init_network(n, dims, f.rnn, gen), f.rnn, f.stab)
    net = Network(*(getattr(fresh, k).repeat(c, 1, 1).to(f.device) for k in ("w_in", "w_rec", "w_out", "h")))
    steps = f.inner_size // f.batch
    for _ in range(f.es.epochs):
        orders = [torch.randperm(len(f.parts.inner[d]), generator=gen) for d in f.which]
        for step in range(steps):
            idx = slice(step * f.batch, (step + 1) * f.batch)
            x = torch.stack([f.parts.inner[d][o[idx]] for d, o in zip(f.which, orders, strict=True)])
            net, _ = plastic_step(net, x.repeat(c, 1, 1).to(f.device), rule, f.rnn, f.stab)
    orders = [f._score_order(d, gen) for d in f.which]
    x = torch.stack([f.parts.val_x[d][o] for d, o in zip(f.which, orders, strict=True)])
    y = torch.stack([f.parts.val_y[d][o] for d, o in zip(f.which, orders, strict=True)])
    batch = ObjectiveBatch(
        x.repeat(c, 1, 1).to(f.device),
        f.fit_points(),
        y.repeat(c, 1).to(f.device) if f.objective.uses_labels else None,
    )
    loss = objective_loss(f.meta.objective, forward(net, batch.x, f.rnn), batch, f.meta)
    loss = loss.reshape(c, n).mean(dim=1).double().cpu()
    return torch.where(torch.isfinite(loss), loss, torch.full_like(loss, DIVERGED))


def full_run(objective: str, generations: int | None) -> bool:
    """A whole `es_train` run (default: es.generations) with legacy `Fitness`, then current; bitwise + ratio."""
    import metahebb.outer.es as es_module

    s = setting(objective, generations)
    data = meta_data(s["meta"])

    def run():
        rule = make_rule("table", s["rules"], s["rnn"].T)
        start = time.perf_counter()
        result = es_module.es_train(data, rule, s["rnn"], s["stab"], s["meta"], s["es"], "cpu", log_every=0)
        return result, time.perf_counter() - start

    current = es_module.Fitness.__call__
    es_module.Fitness.__call__ = lambda self, candidates, gen: legacy(self, candidates, gen)
    try:
        old, t_old = run()
    finally:
        es_module.Fitness.__call__ = current
    new, t_new = run()
    same = (
        all(np.array_equal(old.history[k], new.history[k]) for k in old.history)
        and all(torch.equal(old.theta[k], new.theta[k]) for k in old.theta)
        and old.summary == new.summary
    )
    print(
        f"full {objective} run ({s['es'].generations} generations): legacy {t_old:.1f} s, current {t_new:.1f} s, "
        f"ratio {t_old / t_new:.2f}x; {'bitwise identical' if same else 'DIFFER'}"
    )
    return same


def first_generation(rule: torch.nn.Module, es: ESParams) -> torch.Tensor:
    start = flatten(rule)
    noise = torch.randn(es.population, len(start), generator=generator(es.seed), dtype=torch.float64)
    return start + es.sigma * noise


def seconds(fn, repeats: int) -> tuple[float, float]:
    """(median, min) seconds of `repeats` calls."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), min(runs)


class Stages:
    """Wall time by stage of a generation: the stages' functions wrapped with a timer while profiling.

    Exclusive times: a stage's time excludes the stages it calls (forward's k-cap is k-cap's). The rest of
    the generation (the loop, batch gathering, `plastic_step`'s glue) is "other".
    """

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.stack: list[list[float]] = []

    def wrap(self, stage: str, fn):
        def timed(*args, **kwargs):
            self.stack.append([0.0])
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                took = time.perf_counter() - start
                inner = self.stack.pop()[0]
                self.totals[stage] = self.totals.get(stage, 0.0) + took - inner
                if self.stack:
                    self.stack[-1][0] += took

        return timed


def profile(fn, label: str, top: int) -> None:
    """Stage breakdown of one generation `fn()`, then (with `top`) cProfile's most expensive functions."""
    import metahebb.hebbian_train as ht
    import metahebb.kcap_rnn as kr
    import metahebb.outer.es as es_module
    import metahebb.outer.population as pop

    stages = Stages()
    saved = []

    def patch(owner, name: str, stage: str) -> None:
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, stages.wrap(stage, getattr(owner, name)))

    kcap_default = kr.forward.__defaults__
    kr.forward.__defaults__ = (stages.wrap("k-cap", kcap_default[0]),)
    LEGACY_KCAP[0] = stages.wrap("k-cap", legacy_kcap)
    patch(ht, "forward", "forward (einsums, bias, stack)")
    patch(es_module, "forward", "forward (einsums, bias, stack)")
    patch(ht, "synapses_of", "rule update (synapses, table lookup, einsum/bmm)")
    for owner in (pop.VmapCandidateRule, pop.CandidateRule):  # the base class first: forward is inherited
        patch(owner, "forward", "rule update (synapses, table lookup, einsum/bmm)")
        patch(owner, "delta", "rule update (synapses, table lookup, einsum/bmm)")
    patch(ht, "apply_update", "stabilisers: clip, add, row normalisation")
    patch(ht, "update_thresholds", "stabilisers: homeostasis")
    patch(es_module, "objective_loss", "objective (ridge fit / classifier)")
    try:
        start = time.perf_counter()
        fn()
        total = time.perf_counter() - start
    finally:
        kr.forward.__defaults__ = kcap_default
        LEGACY_KCAP[0] = legacy_kcap
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)
    stages.totals["other (loop, batch gather, plastic_step glue, draws)"] = total - sum(
        stages.totals.values()
    )
    print(f"\nstages of one default generation ({label}), {total:.2f} s with timers:")
    for stage, t in sorted(stages.totals.items(), key=lambda kv: -kv[1]):
        print(f"  {100 * t / total:5.1f}%  {stage}")
    if top:
        prof = cProfile.Profile()
        prof.enable()
        fn()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def cma_seconds(rule: torch.nn.Module, es: ESParams, generations: int = 20) -> float:
    """CMA-ES's own ask + tell per generation, on made-up fitness values."""
    import cma

    strategy = cma.CMAEvolutionStrategy(
        flatten(rule).numpy(), es.sigma, {"popsize": es.population, "seed": 1, "verbose": -9}
    )
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(generations):
        candidates = strategy.ask()
        strategy.tell(candidates, rng.standard_normal(len(candidates)).tolist())
    return (time.perf_counter() - start) / generations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", metavar="PATH", help="write the short run's reference (npz)")
    parser.add_argument("--check", metavar="PATH", help="compare the short run with a reference, bitwise")
    parser.add_argument("--generations", type=int, default=6, help="generations of the short run")
    parser.add_argument("--objective", default="ridge", help="objective of the timed generation")
    parser.add_argument("--repeats", type=int, default=3, help="timed generations per path")
    parser.add_argument("--no-legacy", action="store_true", help="time only the current path")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--full-run", action="store_true", help="a whole default es_train run, legacy then current (~5 min)"
    )
    parser.add_argument("--top", type=int, default=0, help="also print cProfile's top N functions")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.record:
        record(args.record, args.generations)
        return
    if args.check:
        sys.exit(0 if check(args.check, args.generations) else 1)
    if args.full_run:
        sys.exit(0 if full_run(args.objective, None) else 1)

    s = setting(args.objective)
    rule = make_rule("table", s["rules"], s["rnn"].T)
    f = Fitness(rule, meta_data(s["meta"]), s["rnn"], s["stab"], s["meta"], s["es"], "cpu")
    cands = first_generation(rule, s["es"])
    now = f(cands, generator(1))
    if not args.no_legacy:
        old = legacy(f, cands, generator(1))
        same = torch.equal(now, old)
        print(f"current vs legacy fitness of one generation: {'bitwise identical' if same else 'DIFFER'}")
    # Alternate the two paths so a busy neighbour core slows both alike.
    g_now, g_old = generator(2), generator(2)
    now_runs, old_runs = [], []
    for _ in range(args.repeats):
        now_runs.append(seconds(lambda: f(cands, g_now), 1)[0])
        if not args.no_legacy:
            old_runs.append(seconds(lambda: legacy(f, cands, g_old), 1)[0])
    t_now = statistics.median(now_runs)
    label = f"({args.objective}, C={len(cands)}, N={len(f.which)}, {args.repeats} runs, median / min)"
    print(f"current: {t_now:.2f} / {min(now_runs):.2f} s per default generation {label}")
    if not args.no_legacy:
        t_old = statistics.median(old_runs)
        print(f"legacy:  {t_old:.2f} / {min(old_runs):.2f} s per default generation")
        print(
            f"ratio legacy / current: {t_old / t_now:.2f}x (median), {min(old_runs) / min(now_runs):.2f}x (min)"
        )
    cma_s = cma_seconds(rule, s["es"])
    print(f"CMA-ES ask + tell: {cma_s * 1e3:.1f} ms per generation ({100 * cma_s / t_now:.1f}% of current)")
    if not args.no_profile:
        profile(lambda: f(cands, generator(3)), "current", args.top)
        if not args.no_legacy:
            profile(lambda: legacy(f, cands, generator(3)), "legacy", args.top)


if __name__ == "__main__":
    main()
