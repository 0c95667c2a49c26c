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
es.epochs each; the default grid trains 72 x 3 x 2 = 432 per rule for 3-30 epochs: a seventh of it.

One more reference, `hebb-es`, is the ES ablation of the table rule (src/metahebb/gain_search.py):
CMA-ES over Hebb's three step gains and the homeostasis rate only, scored like a grid point.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from dataclasses import dataclass

import numpy as np

from metahebb import gain_search
from metahebb.compare import RunResult, Setting, score_features, score_rule
from metahebb.generalisation import Target
from metahebb.meta_data import MetaData, validation_split
from metahebb.params import BaselinesParams
from metahebb.rules import Rule, make_rule

log = logging.getLogger("baselines")

UNTUNED = ("none-static", "raw")  # `none` without homeostasis; an SVM on the raw input
SEARCHED = f"{gain_search.ABLATED}-es"  # the ES ablation of the table rule
VIEWS = ("last", "concat")


@dataclass(frozen=True)
class Config:
    lr: float
    homeostasis_rate: float  # 0: homeostasis off
    epochs: int
    gains: tuple[float, ...] = (1.0, 1.0, 1.0)  # of the change of M_in, M_rec, M_out (the ES ablation)


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


def built(
    rule: str, config: Config, setting: Setting, seeds: list[int] | None = None
) -> tuple[Rule, Setting]:
    """The rule at `config` and the setting it trains with (on network `seeds`, if given)."""
    run = configured(setting, rule, config, seeds)
    rule_fn = make_rule(rule, run.rules, run.rnn.T)
    if config.gains != Config.gains:
        rule_fn = gain_search.Scaled(rule_fn, config.gains)
    return rule_fn, run


def validation_targets(data: MetaData, fraction: float, seed: int) -> dict[str, Target]:
    """Per meta-training dataset: its training points, the validation part playing the test part."""
    targets = {}
    for d, x in data.x.items():
        _, val = validation_split(len(x), fraction, seed)
        is_val = np.zeros(len(x), dtype=bool)
        is_val[val.numpy()] = True
        targets[d] = Target(x, data.y[d], is_val)
    return targets


def validation_score(
    rule: str, config: Config, targets: dict[str, Target], setting: Setting, seeds: list[int]
) -> dict[str, float]:
    """Per view: the mean few-label SVM accuracy over validation targets and search networks."""
    rule_fn, run = built(rule, config, setting, seeds)
    views = [score_rule(rule_fn, t, run) for t in targets.values()]
    return {
        view: float(
            np.mean(
                [v for s in views for key, vals in s[view].items() if key.startswith("svm_") for v in vals]
            )
        )
        for view in VIEWS
    }


def search(rule: str, data: MetaData, setting: Setting, params: BaselinesParams) -> list[dict]:
    """Every grid point's validation score per view: rows (lr, homeostasis_rate, epochs, view, score)."""
    targets = validation_targets(data, setting.meta.validation_fraction, setting.meta.seed)
    rows = []
    for config in grid(params):
        scores = validation_score(rule, config, targets, setting, params.seeds)
        point = {"lr": config.lr, "homeostasis_rate": config.homeostasis_rate, "epochs": config.epochs}
        rows += [{**point, "view": view, "score": scores[view]} for view in VIEWS]
    return rows


def best(rows: list[dict], view: str) -> Config:
    """The grid point with the highest score on `view` (the first of ties, in grid order)."""
    top = max((r for r in rows if r["view"] == view), key=lambda r: r["score"])
    return Config(top["lr"], top["homeostasis_rate"], top["epochs"])


def searched(
    data: MetaData, setting: Setting, params: BaselinesParams
) -> tuple[list[dict], dict[str, Config]]:
    """The ES ablation: (every candidate's rows, the best candidate per view), one meta-training's budget."""
    rule, lr = gain_search.ABLATED, getattr(setting.rules, f"{gain_search.ABLATED}_lr")
    targets = validation_targets(data, setting.meta.validation_fraction, setting.meta.seed)

    def config(gains: tuple[float, ...], rate: float) -> Config:
        return Config(lr, rate, setting.hebbian.epochs, gains)

    def score(gains: tuple[float, ...], rate: float) -> dict[str, float]:
        return validation_score(rule, config(gains, rate), targets, setting, params.seeds)

    es = setting.es
    budget = es.generations * es.population * es.networks_per_dataset // len(params.seeds)
    rows = gain_search.search(score, setting.stab.homeostasis_rate, budget, es.seed)
    return rows, {view: config(*gain_search.best(rows, view)) for view in VIEWS}


def tuned(
    name: str, data: MetaData, targets: dict[str, Target], setting: Setting, params: BaselinesParams
) -> tuple[RunResult, list[dict], dict[str, Config]]:
    """(the tuned reference `name` judged on every target, the search table, the chosen config per view)."""
    start = time.perf_counter()
    rule = reference_rule(name)
    if name == SEARCHED:
        rows, chosen = searched(data, setting, params)
    else:
        rows = search(rule, data, setting, params)
        chosen = {view: best(rows, view) for view in VIEWS}
    log.info("%s: tuned in %.0fs: %s", name, time.perf_counter() - start, chosen)
    scored = {}
    for config in dict.fromkeys(chosen.values()):
        rule_fn, run = built(rule, config, setting)
        scored[config] = {
            t: score_rule(rule_fn, target, run, f"{name} -> {t}") for t, target in targets.items()
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
    return [f"{r}-tuned" for r in params.rules] + [SEARCHED] + list(UNTUNED)


def reference_rule(name: str) -> str:
    """The registered rule a tuned reference runs (`hebb-tuned`, `hebb-es` -> `hebb`)."""
    return gain_search.ABLATED if name == SEARCHED else name.removesuffix("-tuned")


def config_of(chosen: dict) -> Config:
    """A `Config` from its JSON form (metrics/baselines.json)."""
    return Config(**{**chosen, "gains": tuple(chosen.get("gains", Config.gains))})


def run_job(job: Job) -> Reference:
    """A pure function of `job`, so the fan-out may run the references anywhere, in any order."""
    if job.name in UNTUNED:
        return Reference(untuned(job.name, job.targets, job.setting), [], {})
    return Reference(*tuned(job.name, job.data, job.targets, job.setting, job.params))
