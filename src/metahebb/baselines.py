"""Fair references for every verdict, judged exactly as a meta-trained variant is.

A meta-trained rule had hundreds of steps of search on the meta-training datasets; a fixed rule
run at untuned settings is a straw man. So each fixed rule of `baselines.rules` is tuned the
same way a rule is meta-trained: on the validation part of the meta-training datasets' training
points (`meta_train.validation_fraction`, the split the label objectives and `es` score on; no
test point), over a grid of `rules.<rule>_lr` x homeostasis rate (0 = off) x epochs, with fresh
search networks (`baselines.seeds`). A grid point's score is its mean few-label SVM accuracy
(meta_compare.labels) over datasets and search networks; the best point is taken per view (the
last state, all states), since the two views are co-primary. Then, like every variant, the
chosen rule trains meta_compare's fresh networks on every target and is scored by
`compare.score_rule`, so its run table pairs with every other variant's on network seeds and
SVM draws. Two untuned references join them: `none` without homeostasis (random recurrent
k-cap mixing alone) and the raw input (an SVM on x; the same value for every network seed).

Budget: one ES meta-training trains generations x population x datasets = 3000 networks for
es.epochs each; the default grid trains 36 x 3 x 2 = 216 per rule for 3-30 epochs: a tenth of it.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from dataclasses import dataclass

import numpy as np

from metahebb.compare import RunResult, Setting, score_features, score_rule
from metahebb.generalisation import Target
from metahebb.meta_data import MetaData, validation_split
from metahebb.params import BaselinesParams
from metahebb.rules import make_rule

log = logging.getLogger("baselines")

UNTUNED = ("none-static", "raw")  # `none` without homeostasis; an SVM on the raw input


@dataclass(frozen=True)
class Config:
    lr: float
    homeostasis_rate: float  # 0: homeostasis off
    epochs: int


def grid(params: BaselinesParams) -> list[Config]:
    return [Config(*c) for c in itertools.product(params.lrs, params.homeostasis_rates, params.epochs)]


def configured(setting: Setting, rule: str, config: Config, seeds: list[int] | None = None) -> Setting:
    """The setting with the rule's learning rate, homeostasis and epochs of `config`."""
    on = config.homeostasis_rate > 0
    stab = dataclasses.replace(
        setting.stab,
        homeostasis=on,
        homeostasis_rate=config.homeostasis_rate if on else setting.stab.homeostasis_rate,
    )
    compare = setting.compare if seeds is None else dataclasses.replace(setting.compare, seeds=seeds)
    return dataclasses.replace(
        setting,
        rules=dataclasses.replace(setting.rules, **{f"{rule}_lr": config.lr}),
        stab=stab,
        hebbian=dataclasses.replace(setting.hebbian, epochs=config.epochs),
        compare=compare,
    )


def validation_targets(data: MetaData, fraction: float, seed: int) -> dict[str, Target]:
    """Per meta-training dataset: its training points, the validation part playing the test part."""
    targets = {}
    for d, x in data.x.items():
        _, val = validation_split(len(x), fraction, seed)
        is_val = np.zeros(len(x), dtype=bool)
        is_val[val.numpy()] = True
        targets[d] = Target(x, data.y[d], is_val)
    return targets


def search(rule: str, data: MetaData, setting: Setting, params: BaselinesParams) -> list[dict]:
    """Every grid point's validation score per view: rows (lr, homeostasis_rate, epochs, view, score)."""
    targets = validation_targets(data, setting.meta.validation_fraction, setting.meta.seed)
    rows = []
    for config in grid(params):
        run = configured(setting, rule, config, seeds=params.seeds)
        views = [score_rule(make_rule(rule, run.rules, run.rnn.T), t, run) for t in targets.values()]
        for view in ("last", "concat"):
            accuracies = [
                v for s in views for key, vals in s[view].items() if key.startswith("svm_") for v in vals
            ]
            rows.append({**dataclasses.asdict(config), "view": view, "score": float(np.mean(accuracies))})
    return rows


def best(rows: list[dict], view: str) -> Config:
    """The grid point with the highest score on `view` (the first of ties, in grid order)."""
    top = max((r for r in rows if r["view"] == view), key=lambda r: r["score"])
    return Config(top["lr"], top["homeostasis_rate"], top["epochs"])


def tuned(
    rule: str, data: MetaData, targets: dict[str, Target], setting: Setting, params: BaselinesParams
) -> tuple[RunResult, list[dict], dict[str, Config]]:
    """(the tuned rule judged on every target, the search table, the chosen config per view)."""
    start = time.perf_counter()
    rows = search(rule, data, setting, params)
    chosen = {view: best(rows, view) for view in ("last", "concat")}
    log.info("%s: tuned in %.0fs: %s", rule, time.perf_counter() - start, chosen)
    scored = {}
    for config in dict.fromkeys(chosen.values()):
        run = configured(setting, rule, config)
        rule_fn = make_rule(rule, run.rules, run.rnn.T)
        scored[config] = {
            t: score_rule(rule_fn, target, run, f"{rule}-tuned -> {t}") for t, target in targets.items()
        }
    last = {t: v["last"] for t, v in scored[chosen["last"]].items()}
    concat = {t: v["concat"] for t, v in scored[chosen["concat"]].items()}
    return RunResult(last, concat, None, time.perf_counter() - start, {}), rows, chosen


def untuned(name: str, targets: dict[str, Target], setting: Setting) -> RunResult:
    """`none-static` (no homeostasis) or `raw` (the input itself, one value per network seed)."""
    if name == "none-static":
        run = dataclasses.replace(setting, stab=dataclasses.replace(setting.stab, homeostasis=False))
        views = {t: score_rule(make_rule("none", run.rules, run.rnn.T), v, run) for t, v in targets.items()}
        return RunResult(
            {t: v["last"] for t, v in views.items()},
            {t: v["concat"] for t, v in views.items()},
            None,
            0.0,
            {},
        )
    evaluate = dataclasses.replace(setting.evaluate, svm_labels=list(setting.compare.labels))
    seeds = len(setting.compare.seeds)
    scores = {}
    for t, target in targets.items():
        x = target.x.astype(np.float32)
        one = score_features([x[~target.is_test]], [x[target.is_test]], target, evaluate, emd=False)
        scores[t] = {key: values * seeds for key, values in one.items()}
    return RunResult(scores, scores, None, 0.0, {})


@dataclass(frozen=True)
class Job:
    """One reference of the stage: a tuned rule (`<rule>-tuned`) or an untuned one, on every target."""

    name: str
    data: MetaData
    targets: dict[str, Target]
    setting: Setting
    params: BaselinesParams


@dataclass(frozen=True)
class Reference:
    result: RunResult
    search: list[dict]  # empty for an untuned reference
    chosen: dict[str, Config]


def reference_names(params: BaselinesParams) -> list[str]:
    return [f"{r}-tuned" for r in params.rules] + list(UNTUNED)


def run_job(job: Job) -> Reference:
    """A pure function of `job`, so the fan-out may run the references anywhere, in any order."""
    if job.name in UNTUNED:
        return Reference(untuned(job.name, job.targets, job.setting), [], {})
    rule = job.name.removesuffix("-tuned")
    return Reference(*tuned(rule, job.data, job.targets, job.setting, job.params))
