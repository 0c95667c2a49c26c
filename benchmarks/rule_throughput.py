"""Rule-driven (frozen-rule, no-grad) training throughput, library vs the per-sample baseline.

python benchmarks/rule_throughput.py [--quick] [--device auto|cpu|cuda] [--out PATH]

For m neurons, a population of P networks, and the batched (32 samples per update) or the paper's
per-sample mode (1 sample per update, parallel over the population), it times the library's
`plastic_step` (forward, rule, clipped and renormalised update, homeostasis) and the baseline of
`baseline.py` (a loop over networks and samples) on the same inputs and rule, after checking that
both give the same codes and weights. Synapse-updates = samples x (M_in + M_rec + M_out synapses),
counted identically for both. The rule's theta is its initialisation (speed does not depend on it);
inputs are standard Gaussian vectors of the configured input dimension; k scales with m as k/m in
params.yaml.
"""

from __future__ import annotations

import dataclasses
import itertools

import baseline
import torch
from timing import arguments, device_of, environment, median_time, table, write_json

from metahebb.kcap_rnn import Network, init_network
from metahebb.params import DataParams, KCapRNNParams, RuleParams, StabiliserParams, load_group
from metahebb.plasticity import plastic_step
from metahebb.rules import make_rule
from metahebb.stabilisers import prepare

RULES = ("hebb", "learned")
MODES = {"batched": 32, "per_sample": 1}
CPU_TARGETS = {"batched": 1e9, "per_sample": 3e8}  # synapse-updates/s at m=256, one core
GPU_TARGET = 3e12  # m=1024, P=256, batch 32
MAX_CPU_SYNAPSES = 2**24  # P x m^2 above this takes minutes per configuration on one core: skipped


def synapse_count(rnn: KCapRNNParams, n: int) -> int:
    return rnn.m * (n + int(rnn.bias)) + rnn.m * rnn.m + n * rnn.m


def scaled(rnn: KCapRNNParams, m: int) -> KCapRNNParams:
    return dataclasses.replace(rnn, m=m, k=max(1, round(m * rnn.k / rnn.m)))


def check(net, x, rule_name, rule, rnn, stab, batch) -> float:
    """Library and baseline from the same start on the same inputs: same codes, weights to tolerance.
    Compares the first two networks (the baseline is per network; networks are independent)."""
    q = min(net.h.shape[0], 2)
    steps = 1 if batch > 1 else 3
    lib, base = net, baseline.split(Network(net.w_in[:q], net.w_rec[:q], net.w_out[:q], net.h[:q]))
    for i in range(steps):
        xi = x[:, i * batch : (i + 1) * batch]
        lib, trace = plastic_step(lib, xi, rule, rnn, stab)
        for p in range(q):
            base[p], states = baseline.plastic_step_one(base[p], xi[p], rule_name, rule, rnn, stab)
            codes = torch.stack([torch.stack(s) for s in states])
            if not torch.equal(codes, trace.states[p]):
                raise SystemExit(
                    f"check failed: {rule_name} m={rnn.m}: codes differ at step {i}, network {p}"
                )
    worst = 0.0
    for p in range(q):
        for key, field in (("in", "w_in"), ("rec", "w_rec"), ("out", "w_out"), ("h", "h")):
            a, b = getattr(lib, field)[p], base[p][key]
            if not torch.allclose(a, b, rtol=1e-4, atol=1e-5):
                raise SystemExit(
                    f"check failed: {rule_name} m={rnn.m} batch={batch}: {key} differs by "
                    f"{(a - b).abs().max().item():.3g}"
                )
            worst = max(worst, (a - b).abs().max().item())
    return worst


def measure(rule_name, m, P, mode, rnn0, stab, rules, n, device, repeats, min_time) -> dict:
    rnn = scaled(rnn0, m)
    batch = MODES[mode]
    rule = make_rule(rule_name, rules, rnn.T).to(device)
    gen = torch.Generator().manual_seed(0)
    net = prepare(init_network(P, n, rnn, gen), rnn, stab).to(device)
    pool = 32  # samples per network the runs cycle through
    x = torch.randn(P, pool, n, generator=gen).to(device)
    syn = synapse_count(rnn, n)

    with torch.no_grad():
        diff = check(net, x, rule_name, rule, rnn, stab, batch)

        state = {"net": net, "i": 0}

        def library() -> None:
            i = state["i"] % (pool // batch)
            state["net"], _ = plastic_step(state["net"], x[:, i * batch : (i + 1) * batch], rule, rnn, stab)
            state["i"] += 1

        nets = baseline.split(Network(net.w_in[:2], net.w_rec[:2], net.w_out[:2], net.h[:2]))
        bstate = {"i": 0}

        def loop() -> None:  # one network's update: the baseline's unit of work
            i = bstate["i"]
            p, j = i % len(nets), (i // len(nets)) % (pool // batch)
            nets[p], _ = baseline.plastic_step_one(
                nets[p], x[p, j * batch : (j + 1) * batch], rule_name, rule, rnn, stab
            )
            bstate["i"] += 1

        lib_t = median_time(library, device, repeats, min_time)
        base_t = median_time(loop, device, max(3, repeats - 2), min_time)
    lib_sps = P * batch / lib_t["seconds"]
    base_sps = batch / base_t["seconds"]
    return {
        "rule": rule_name,
        "m": m,
        "k": rnn.k,
        "P": P,
        "mode": mode,
        "batch": batch,
        "synapses_per_network": syn,
        "samples_per_s": lib_sps,
        "synapse_updates_per_s": lib_sps * syn,
        "baseline_samples_per_s": base_sps,
        "baseline_synapse_updates_per_s": base_sps * syn,
        "speedup": lib_sps / base_sps,
        "check_max_abs_diff": diff,
        "library_timing": lib_t,
        "baseline_timing": base_t,
    }


def gpu_fraction(row: dict, gpu: dict) -> dict:
    """Share of two bounds: memory (each weight read and written once per update, fp32: 8 bytes per
    synapse per update, i.e. batch x bandwidth / 8 synapse-updates/s) and FP32 FLOPs (forward plus a
    rank-T outer-product update, 4 FLOPs per synapse use; T uses of M_rec)."""
    out = {}
    if gpu.get("bandwidth_bytes_per_s"):
        bound = row["batch"] * gpu["bandwidth_bytes_per_s"] / 8
        out["bandwidth_bound_synapse_updates_per_s"] = bound
        out["fraction_of_bandwidth_bound"] = row["synapse_updates_per_s"] / bound
    if gpu.get("fp32_flops"):
        m, n, T = row["m"], row["n"], row["T"]
        flops_per_sample = 4 * (m * (n + 1) + T * m * m + n * m)
        out["fp32_flops_per_s"] = row["samples_per_s"] * flops_per_sample
        out["fraction_of_fp32_peak"] = out["fp32_flops_per_s"] / gpu["fp32_flops"]
    return out


def main() -> None:
    args = arguments(__doc__.splitlines()[0], "rule_throughput.json").parse_args()
    device = device_of(args.device)
    rnn0 = load_group(KCapRNNParams, "kcap_rnn")
    stab = load_group(StabiliserParams, "stabilisers")
    rules = load_group(RuleParams, "rules")
    n = load_group(DataParams, "data").ambient_dim
    env = environment(device)
    sizes, pops = ((64, 256), (1, 16)) if args.quick else ((64, 256, 1024), (1, 16, 256))
    repeats, min_time = (3, 0.05) if args.quick else (5, 0.25)

    rows, skipped = [], []
    for rule_name, m, P, mode in itertools.product(RULES, sizes, pops, MODES):
        if device.type == "cpu" and P * m * m > MAX_CPU_SYNAPSES:
            skipped.append({"rule": rule_name, "m": m, "P": P, "mode": mode, "why": "P m^2 > 2^24 on CPU"})
            continue
        row = measure(rule_name, m, P, mode, rnn0, stab, rules, n, device, repeats, min_time)
        row.update(n=n, T=rnn0.T)
        rows.append(row)
        print(
            f"{rule_name:8s} m={m:5d} P={P:4d} {mode:10s} {row['synapse_updates_per_s']:.3g} syn-upd/s "
            f"(baseline {row['baseline_synapse_updates_per_s']:.3g}, x{row['speedup']:.1f})",
            flush=True,
        )

    verdict = {}
    for rule_name, mode in itertools.product(RULES, MODES):
        if device.type == "cpu":
            cands = [r for r in rows if r["rule"] == rule_name and r["mode"] == mode and r["m"] == 256]
            target = CPU_TARGETS[mode]
        else:
            cands = [r for r in rows if r["rule"] == rule_name and r["mode"] == mode and r["m"] == max(sizes)]
            cands = [r for r in cands if r["P"] == max(pops)]
            target = GPU_TARGET if mode == "batched" else None
        if not cands:
            continue
        best = max(cands, key=lambda r: r["synapse_updates_per_s"])
        verdict[f"{rule_name}/{mode}"] = {
            "m": best["m"],
            "best_P": best["P"],
            "synapse_updates_per_s": best["synapse_updates_per_s"],
            "target": target,
            "met": None if target is None else best["synapse_updates_per_s"] >= target,
        }
        if env["gpu"]:
            verdict[f"{rule_name}/{mode}"].update(gpu_fraction(best, env["gpu"]))

    print()
    print(
        table(
            rows,
            [
                ("rule", "rule", ""),
                ("m", "m", ""),
                ("P", "P", ""),
                ("mode", "mode", ""),
                ("samples_per_s", "samples/s", ".3g"),
                ("synapse_updates_per_s", "syn-upd/s", ".3g"),
                ("baseline_synapse_updates_per_s", "baseline syn-upd/s", ".3g"),
                ("speedup", "ratio", ".1f"),
                ("check_max_abs_diff", "check |diff|", ".1e"),
            ],
        )
    )
    print()
    for key, v in verdict.items():
        met = "n/a" if v["met"] is None else ("met" if v["met"] else "NOT met")
        extra = ""
        if "fraction_of_bandwidth_bound" in v:
            extra = f", {100 * v['fraction_of_bandwidth_bound']:.1f}% of the bandwidth bound"
        target = "-" if v["target"] is None else f"{v['target']:.0e}"
        print(
            f"target {key} m={v['m']}: best {v['synapse_updates_per_s']:.3g} syn-upd/s at P={v['best_P']} "
            f"(target {target}): {met}{extra}"
        )
    if skipped:
        print(
            f"skipped {len(skipped)} configurations: "
            + "; ".join(f"{s['rule']} m={s['m']} P={s['P']} {s['mode']}" for s in skipped)
        )
    write_json(
        args.out,
        {
            "benchmark": "rule_throughput",
            "environment": env,
            "synapses": "m*(n+bias) + m*m + n*m per network (M_in + M_rec + M_out)",
            "quick": args.quick,
            "results": rows,
            "skipped": skipped,
            "targets": verdict,
        },
    )


if __name__ == "__main__":
    main()
