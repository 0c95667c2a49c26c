"""Meta-training steps/s and peak memory as functions of m, P and lookahead K, library vs the per-sample baseline.

python benchmarks/meta_throughput.py [--quick] [--device auto|cpu|cuda] [--out PATH]

One outer step = the meta-loss of P inner networks after K rule updates (`meta_loss`), its gradient, the
clip and Adam's step on theta: the library's batched version against `baseline.meta_loss` (a loop over
networks and samples) on the same networks, batches and theta, after checking that both give the same
losses and gradients. Each configuration runs in a fresh process, so its peak memory (max RSS on CPU,
`torch.cuda.max_memory_allocated` on CUDA) is its own. Configurations vary one of m, P, K from
params.yaml's (m, population, lookahead), with k scaled as k/m and the `learned` rule.

The default run (full `meta_train` with params.yaml's meta_train group, rule `learned`) gives the seconds to
reach the default meta-loss: the first step whose trailing mean (window steps/10) reaches the run's final
meta-loss. The baseline's seconds are that step count times its measured seconds per step at the default
configuration (it computes the same steps), not a second 400-step run.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import baseline
import numpy as np
import torch
from timing import arguments, device_of, environment, median_time, sync, table, write_json

from metahebb.datasets import make_dataset
from metahebb.kcap_rnn import Network, init_network
from metahebb.outer.gradient import meta_loss, meta_train
from metahebb.params import (
    DataParams,
    KCapRNNParams,
    MetaParams,
    RuleParams,
    StabiliserParams,
    load_group,
)
from metahebb.plasticity import standardise
from metahebb.rules import make_rule
from metahebb.stabilisers import prepare

RULE = "learned"
BASELINE_MAX = 2**20  # P K m^2 above this (or P > 16): the baseline step takes too long on one core; skipped


def rss_now_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def groups():
    return (
        load_group(KCapRNNParams, "kcap_rnn"),
        load_group(StabiliserParams, "stabilisers"),
        load_group(RuleParams, "rules"),
        load_group(MetaParams, "meta_train"),
    )


def training_points(meta: MetaParams) -> dict[str, np.ndarray]:
    """The standardised training points of each meta-training dataset, as the meta_train stage reads them."""
    data = load_group(DataParams, "data")
    out = {}
    for name in meta.datasets:
        ds = make_dataset(name, data)
        out[name] = standardise(ds.x, ds.is_test)[~ds.is_test]
    return out


def config_params(m: int, P: int, K: int):
    rnn0, stab, rules, meta = groups()
    rnn = dataclasses.replace(rnn0, m=m, k=max(1, round(m * rnn0.k / rnn0.m)))
    return rnn, stab, rules, dataclasses.replace(meta, population=P, lookahead=K)


def batches_for(meta: MetaParams, pools: list[torch.Tensor], device: torch.device) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    which = [p % len(pools) for p in range(meta.population)]

    def draw() -> torch.Tensor:
        return torch.stack(
            [pools[d][torch.randint(len(pools[d]), (meta.batch_size,), generator=gen)] for d in which]
        )

    batches = [draw() for _ in range(meta.lookahead + 1)]
    if meta.objective != "paper":
        batches[-1] = torch.cat([batches[-1], draw()], dim=1)
    return [b.to(device) for b in batches]


def worker(cfg: dict) -> dict:
    """One configuration in this fresh process: memory, check, then timing."""
    device = device_of(cfg["device"])
    rnn, stab, rules, meta = config_params(cfg["m"], cfg["P"], cfg["K"])
    pools = [torch.from_numpy(v) for v in training_points(meta).values()]
    n = pools[0].shape[1]
    net = prepare(init_network(meta.population, n, rnn, torch.Generator().manual_seed(0)), rnn, stab)
    net = net.to(device)
    batches = batches_for(meta, pools, device)
    rule = make_rule(RULE, rules, rnn.T).to(device)
    out = {"m": rnn.m, "k": rnn.k, "P": meta.population, "K": meta.lookahead, "batch": meta.batch_size}

    def outer_step(loss_fn, r: torch.nn.Module, opt: torch.optim.Optimizer) -> None:
        loss = loss_fn(r).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(r.parameters(), meta.grad_clip)
        opt.step()

    def library_loss(r):
        return meta_loss(r, net, batches, rnn, stab, meta)[0]

    # 1. Memory of the library's step (a first, untimed step).
    lib_rule = copy.deepcopy(rule)
    lib_opt = torch.optim.Adam(lib_rule.parameters(), lr=meta.lr)
    before = rss_now_mb()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base_alloc = torch.cuda.memory_allocated(device)
    outer_step(library_loss, lib_rule, lib_opt)
    sync(device)
    out["peak_rss_mb"] = rss_peak_mb()
    out["rss_before_mb"] = before
    out["step_peak_mb"] = max(0.0, out["peak_rss_mb"] - before)
    if device.type == "cuda":
        out["cuda_peak_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
        out["step_peak_mb"] = (torch.cuda.max_memory_allocated(device) - base_alloc) / 2**20

    # 2. Check: per-network losses and theta's gradient, library vs baseline, on the first two networks
    # (at m <= 256: at m = 1024 the baseline's autograd graph alone needs several GB; the code path is the
    # same one checked at the smaller sizes).
    if rnn.m <= 256:
        check(net, batches, rule, rnn, stab, meta, out)

    # 3. Timing.
    lib_t = median_time(
        lambda: outer_step(library_loss, lib_rule, lib_opt), device, cfg["repeats"], cfg["min_time"]
    )
    out["steps_per_s"] = 1 / lib_t["seconds"]
    out["library_timing"] = lib_t
    if cfg["baseline"]:
        base_rule = copy.deepcopy(rule)
        base_opt = torch.optim.Adam(base_rule.parameters(), lr=meta.lr)
        nets = baseline.split(net)

        def baseline_loss(r):
            return baseline.meta_loss(RULE, r, nets, batches, rnn, stab, meta)

        base_t = median_time(
            lambda: outer_step(baseline_loss, base_rule, base_opt),
            device,
            min(3, cfg["repeats"]),
            cfg["min_time"],
        )
        out["baseline_steps_per_s"] = 1 / base_t["seconds"]
        out["speedup"] = base_t["seconds"] / lib_t["seconds"]
        out["baseline_timing"] = base_t
    if cfg.get("default_run"):
        out["default_run"] = default_run(device)
    return out


def check(net: Network, batches, rule, rnn, stab, meta, out: dict) -> None:
    """Same per-network losses and the same gradient of theta, library vs baseline, first two networks."""
    q = min(meta.population, 2)
    sub = Network(net.w_in[:q], net.w_rec[:q], net.w_out[:q], net.h[:q])
    sub_batches = [b[:q] for b in batches]
    r_lib, r_base = copy.deepcopy(rule), copy.deepcopy(rule)
    l_lib = meta_loss(r_lib, sub, sub_batches, rnn, stab, meta)[0]
    l_lib.mean().backward()
    l_base = baseline.meta_loss(RULE, r_base, baseline.split(sub), sub_batches, rnn, stab, meta)
    l_base.mean().backward()
    g_lib = torch.cat([p.grad.flatten() for p in r_lib.parameters()])
    g_base = torch.cat([p.grad.flatten() for p in r_base.parameters()])
    rel = ((g_lib - g_base).abs().max() / g_lib.abs().max().clamp_min(1e-30)).item()
    cos = torch.nn.functional.cosine_similarity(g_lib, g_base, dim=0).item()
    # With K > 1 later updates read relaxed codes, and the gradient through what the rule sees is f's own
    # derivative in the baseline but its multilinear extension's in the library (same values on binary
    # firing): equal directions, not equal to rounding. With K = 1 the two must agree to rounding.
    grad_ok = rel <= 1e-3 if meta.lookahead == 1 else cos > 0.99
    if not torch.allclose(l_lib, l_base, rtol=1e-4, atol=1e-6) or not grad_ok:
        raise SystemExit(
            f"check failed at m={rnn.m} P={meta.population} K={meta.lookahead}: losses "
            f"{l_lib.tolist()} vs {l_base.tolist()}, gradient relative difference {rel:.3g}"
        )
    out["check_loss_max_abs_diff"] = (l_lib - l_base).abs().max().item()
    out["check_grad_max_rel_diff"] = rel
    out["check_grad_cosine"] = cos


def default_run(device: torch.device) -> dict:
    """The full default meta-training of `learned` (params.yaml), timed; when it reaches its final loss."""
    rnn, stab, rules, meta = groups()
    data = training_points(meta)
    rule = make_rule(RULE, rules, rnn.T)
    start = time.perf_counter()
    result = meta_train(data, rule, rnn, stab, meta, log_every=0, device=device)
    seconds = time.perf_counter() - start
    loss = result.history["meta_loss"]
    window = max(1, meta.steps // 10)
    trailing = np.convolve(loss, np.ones(window) / window, mode="valid")  # trailing[i]: steps i..i+window-1
    target = result.summary["meta_loss_final"]
    reach = int(np.argmax(trailing <= target + 1e-12)) + window  # steps done when first reached
    return {
        "device": device.type,
        "steps": meta.steps,
        "seconds": seconds,
        "steps_per_s": meta.steps / seconds,
        "meta_loss_first": result.summary["meta_loss_first"],
        "meta_loss_final": target,
        "steps_to_reach_final": reach,
        "seconds_to_reach_final": seconds * reach / meta.steps,
    }


def configurations(quick: bool, device: torch.device) -> list[dict]:
    rnn, _, _, meta = groups()
    m0, P0, K0 = rnn.m, meta.population, meta.lookahead
    if quick:
        grid = [(m0, P0, K0), (m0, 1, K0), (m0, P0, 2)]
    else:
        grid = [(m0, P0, K0), (256, P0, K0), (1024, P0, K0), (m0, 1, K0), (m0, 256, K0)]
        grid += [(m0, P0, K) for K in (2, 4, 8)]
    seen, out = set(), []
    for m, P, K in grid:
        if (m, P, K) in seen:
            continue
        seen.add((m, P, K))
        cheap = device.type == "cuda" or (P * K * m * m <= BASELINE_MAX and P <= 16)
        out.append(
            {
                "m": m,
                "P": P,
                "K": K,
                "device": device.type,
                "baseline": cheap,
                "repeats": 3 if quick else 5,
                "min_time": 0.05 if quick else 0.5,
                "default_run": not quick and (m, P, K) == (m0, P0, K0),
            }
        )
    return out


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], "meta_throughput.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # one configuration, in a fresh process
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(json.loads(args.worker))))
        return
    device = device_of(args.device)
    env = environment(device)
    rows = []
    for cfg in configurations(args.quick, device):
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", json.dumps(cfg)], capture_output=True, text=True
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not lines:
            why = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            row = {"m": cfg["m"], "P": cfg["P"], "K": cfg["K"], "error": why}
        else:
            row = json.loads(lines[-1][len("RESULT ") :])
        rows.append(row)
        print(
            f"m={cfg['m']:5d} P={cfg['P']:4d} K={cfg['K']:2d}: "
            + (
                row["error"]
                if "error" in row
                else f"{row['steps_per_s']:.3g} steps/s, peak {row['peak_rss_mb']:.0f} MB"
            ),
            flush=True,
        )

    print()
    print(
        table(
            rows,
            [
                ("m", "m", ""),
                ("P", "P", ""),
                ("K", "K", ""),
                ("steps_per_s", "steps/s", ".3g"),
                ("baseline_steps_per_s", "baseline steps/s", ".3g"),
                ("speedup", "ratio", ".1f"),
                ("peak_rss_mb", "peak RSS MB", ".0f"),
                ("step_peak_mb", "step peak MB", ".0f"),
                ("cuda_peak_mb", "CUDA peak MB", ".0f"),
                ("check_grad_max_rel_diff", "check grad rel", ".1e"),
            ],
        )
    )
    default = next((r for r in rows if "default_run" in r), None)
    if default:
        d = default["default_run"]
        line = (
            f"\ndefault meta_train ({d['steps']} steps): {d['seconds']:.1f} s, meta-loss "
            f"{d['meta_loss_first']:.4f} -> {d['meta_loss_final']:.4f}, reached after {d['steps_to_reach_final']} "
            f"steps = {d['seconds_to_reach_final']:.1f} s"
        )
        if "baseline_steps_per_s" in default:
            d["baseline_seconds_to_reach_final_estimated"] = (
                d["steps_to_reach_final"] / default["baseline_steps_per_s"]
            )
            line += f"; baseline (estimated from its step time) {d['baseline_seconds_to_reach_final_estimated']:.0f} s"
        print(line)
    write_json(
        args.out, {"benchmark": "meta_throughput", "environment": env, "quick": args.quick, "results": rows}
    )


if __name__ == "__main__":
    main()
