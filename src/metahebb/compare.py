"""Rules x outer optimisers x objectives: each variant meta-trained several times, judged on fresh networks.

A variant is `<rule>-<optimizer>-<objective>` (`table-es-labels_ce`) or a fixed rule (`hebb`).
Meta-training is itself random, so a meta-trained variant is run once per meta seed (the seed
offsets `meta_train.seed`, `es.seed` and `rules.seed`), and every run's rule then trains one fresh
k-cap RNN per seed on each target's unlabelled training points. Scores of the last state (SVM
accuracy at each label count, EMD to the true latents, distinct codes) are pooled over runs x
seeds for the mean and 95% interval; `run_min`/`run_max` give the spread of the per-run means.

Leave-one-dataset-out (`leave_one_out`, its own stage per variant, so adding one reruns nothing
else): for each meta-training dataset, the variant is meta-trained on the others and judged on it,
so a few-label objective cannot win by encoding the class structure of the very dataset it is
judged on. Digits is never meta-trained on.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import numpy as np

from metahebb.evaluation import summarise
from metahebb.generalisation import Target
from metahebb.hebbian_train import train_hebbian
from metahebb.meta_data import MetaData
from metahebb.metrics.emd import latent_emd
from metahebb.metrics.svm import svm_accuracy_vs_labels
from metahebb.outer import meta_learn
from metahebb.params import (
    CompareParams,
    ESParams,
    EvaluateParams,
    HebbianParams,
    KCapRNNParams,
    MetaParams,
    RuleParams,
    StabiliserParams,
    parse_variant,
)
from metahebb.rules import Rule, make_rule

log = logging.getLogger("meta_compare")


@dataclass(frozen=True)
class Setting:
    """Everything a variant's runs share."""

    rnn: KCapRNNParams
    stab: StabiliserParams
    rules: RuleParams
    meta: MetaParams
    es: ESParams
    hebbian: HebbianParams
    evaluate: EvaluateParams
    compare: CompareParams


def seeded(setting: Setting, optimizer: str, objective: str, meta_seed: int) -> Setting:
    """The setting of one meta-training run: its optimiser and objective, every meta seed offset."""
    return dataclasses.replace(
        setting,
        rules=dataclasses.replace(setting.rules, seed=setting.rules.seed + meta_seed),
        meta=dataclasses.replace(
            setting.meta, optimizer=optimizer, objective=objective, seed=setting.meta.seed + meta_seed
        ),
        es=dataclasses.replace(setting.es, seed=setting.es.seed + meta_seed),
    )


def score_rule(rule: Rule, target: Target, setting: Setting, name: str = "") -> dict[str, list[float]]:
    """Per seed: SVM accuracy at each label count, EMD (targets with true latents) and distinct codes."""
    hebbian = dataclasses.replace(setting.hebbian, seeds=setting.compare.seeds)
    evaluate = dataclasses.replace(setting.evaluate, svm_labels=list(setting.compare.labels))
    result = train_hebbian(target.x, target.is_test, rule, setting.rnn, setting.stab, hebbian, name=name)
    train, test = result.views["last"]
    split = target.split()
    scores: dict[str, list[float]] = {}
    for s in range(len(train)):
        for key, acc in svm_accuracy_vs_labels(train[s], test[s], split, evaluate).items():
            scores.setdefault(f"svm_{key}", []).append(acc)
        if target.z is not None:
            scores.setdefault("emd", []).append(latent_emd(test[s], split.z_test, evaluate))
        scores.setdefault("codes", []).append(result.collapse[s]["distinct_codes_last"])
    return scores


def pool(runs: list[dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """Mean and 95% interval over every (run, seed), and the range of the per-run means."""
    out = {}
    for key in runs[0]:
        per_run = [np.mean(r[key]) for r in runs]
        out[key] = {
            **summarise([v for r in runs for v in r[key]]),
            "run_min": float(min(per_run)),
            "run_max": float(max(per_run)),
        }
    return out


def meta_trained_rule(
    name: str, data: MetaData, datasets: list[str], run: Setting
) -> tuple[Rule, dict, float]:
    """Rule `name` meta-trained on `datasets` with the run's optimiser and objective; its theta; seconds."""
    start = time.perf_counter()
    rule = make_rule(name, run.rules, run.rnn.T)
    result = meta_learn(rule, data.subset(datasets), run.rnn, run.stab, run.meta, run.es, log_every=0)
    elapsed = time.perf_counter() - start
    log.info("%s on %s: %.1fs, %s", name, "+".join(datasets), elapsed, result.summary)
    return make_rule(name, run.rules, run.rnn.T, theta=result.theta), result.theta, elapsed


def compare_variant(
    variant: str, data: MetaData, targets: dict[str, Target], setting: Setting
) -> tuple[dict, dict[str, dict]]:
    """(metrics, run record): pooled scores per target; every run's theta and wall time."""
    name, optimizer, objective = parse_variant(variant)
    T = setting.rnn.T
    if optimizer is None:  # a fixed rule: no meta-training, no meta seeds
        rule = make_rule(name, setting.rules, T)
        scores = {
            t: pool([score_rule(rule, target, setting, f"{variant} -> {t}")]) for t, target in targets.items()
        }
        return {"meta_runs": 0, "targets": scores}, {"thetas": {}, "seconds": []}

    runs: dict[str, list] = {t: [] for t in targets}
    seconds, thetas = [], {}
    for meta_seed in setting.compare.meta_seeds:
        run = seeded(setting, optimizer, objective, meta_seed)
        rule, theta, elapsed = meta_trained_rule(name, data, run.meta.datasets, run)
        seconds.append(elapsed)
        thetas[f"seed{meta_seed}"] = theta
        for t, target in targets.items():
            runs[t].append(score_rule(rule, target, run, f"{variant}/{meta_seed} -> {t}"))
    metrics = {"meta_runs": len(setting.compare.meta_seeds), "targets": {t: pool(r) for t, r in runs.items()}}
    return metrics, {"thetas": thetas, "seconds": seconds}


def leave_one_out(
    variant: str, data: MetaData, targets: dict[str, Target], setting: Setting
) -> tuple[dict, dict[str, dict]]:
    """(metrics, thetas): per meta seed and meta-training dataset that is a target, the variant
    meta-trained on the other datasets and judged on that one alone."""
    name, optimizer, objective = parse_variant(variant)
    if optimizer is None:
        raise ValueError(f"{variant}: a fixed rule has no meta-training to leave a dataset out of")
    held_out: dict[str, list] = {}
    thetas = {}
    for meta_seed in setting.compare.meta_seeds:
        run = seeded(setting, optimizer, objective, meta_seed)
        for t in [d for d in run.meta.datasets if d in targets]:
            rule, theta, _ = meta_trained_rule(name, data, [d for d in run.meta.datasets if d != t], run)
            thetas[f"seed{meta_seed}_without_{t}"] = theta
            held_out.setdefault(t, []).append(
                score_rule(rule, targets[t], run, f"{variant}/{meta_seed} -> {t} (held out)")
            )
    metrics = {
        "meta_runs": len(setting.compare.meta_seeds),
        "leave_one_out": {t: pool(r) for t, r in held_out.items()},
    }
    return metrics, thetas
