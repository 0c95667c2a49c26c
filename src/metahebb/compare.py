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

Every run (variant x meta seed x held-out dataset) is an independent `Run`: a pure function of its
own fields, fanned out over workers by `metahebb.fanout` and pooled in run order, so the result
does not depend on how many workers there were or which finished first.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from metahebb.evaluation import summarise
from metahebb.fanout import Workers, run_jobs
from metahebb.generalisation import Target
from metahebb.hebbian_train import train_hebbian
from metahebb.meta_data import MetaData
from metahebb.metrics.emd import latent_emd
from metahebb.metrics.svm import svm_accuracy_vs_labels
from metahebb.outer import Groups, make_optimiser, meta_learn
from metahebb.params import (
    CompareParams,
    ESParams,
    EvaluateParams,
    HebbianParams,
    KCapRNNParams,
    MetaParams,
    Params,
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
    device: str = "cpu"

    @classmethod
    def of(cls, p: Params, device: str = "cpu") -> Setting:
        """The groups of the params root that a comparison reads."""
        return cls(
            p.kcap_rnn,
            p.stabilisers,
            p.rules,
            p.meta_train,
            p.es,
            p.train_hebbian,
            p.evaluate,
            p.meta_compare,
            device,
        )


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


def score_features(
    train: list[np.ndarray], test: list[np.ndarray], target: Target, evaluate: EvaluateParams, emd: bool
) -> dict[str, list[float]]:
    """Per seed of features (train, test): SVM accuracy at each label count, and the EMD to the true
    latents if `emd` (and the target has them). Any features: a rule's code, its states, the input."""
    split = target.split()
    scores: dict[str, list[float]] = {}
    for tr, te in zip(train, test, strict=True):
        for key, acc in svm_accuracy_vs_labels(tr, te, split, evaluate).items():
            scores.setdefault(f"svm_{key}", []).append(acc)
        if emd and target.z is not None:
            scores.setdefault("emd", []).append(latent_emd(te, split.z_test, evaluate))
    return scores


def score_rule(
    rule: Rule, target: Target, setting: Setting, name: str = ""
) -> dict[str, dict[str, list[float]]]:
    """Per view and seed. "last" (the code x_{T+1}): SVM accuracy at each label count, EMD (targets
    with true latents) and distinct codes; "concat" (every state): SVM accuracy only."""
    hebbian = dataclasses.replace(setting.hebbian, seeds=setting.compare.seeds)
    evaluate = dataclasses.replace(setting.evaluate, svm_labels=list(setting.compare.labels))
    result = train_hebbian(
        target.x, target.is_test, rule, setting.rnn, setting.stab, hebbian, name=name, device=setting.device
    )
    last = score_features(*result.views["last"], target, evaluate, emd=True)
    last["codes"] = [c["distinct_codes_last"] for c in result.collapse]
    return {"last": last, "concat": score_features(*result.views["concat"], target, evaluate, emd=False)}


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
) -> tuple[Rule, dict, float, dict[str, np.ndarray]]:
    """Rule `name` meta-trained on `datasets` with the run's optimiser and objective; its theta;
    seconds; the meta-training history (meta-loss or fitness per step)."""
    start = time.perf_counter()
    rule = make_rule(name, run.rules, run.rnn.T)
    optimiser = make_optimiser(Groups(run.rnn, run.stab, run.meta, run.es), run.device, log_every=50)
    result = meta_learn(rule, data.subset(datasets), optimiser)
    elapsed = time.perf_counter() - start
    log.info("%s on %s: %.1fs, %s", name, "+".join(datasets), elapsed, result.summary)
    return make_rule(name, run.rules, run.rnn.T, theta=result.theta), result.theta, elapsed, result.history


@dataclass(frozen=True)
class Run:
    """One independent job: a variant meta-trained once (meta seed, datasets), judged on targets."""

    variant: str
    meta_seed: int | None  # None: a fixed rule, nothing to meta-train
    datasets: tuple[str, ...]  # meta-training datasets
    targets: tuple[str, ...]  # judged on these
    data: MetaData
    target_data: dict[str, Target]
    setting: Setting

    @property
    def name(self) -> str:
        if self.meta_seed is None:
            return self.variant
        held_out = [d for d in self.setting.meta.datasets if d not in self.datasets]
        return f"seed{self.meta_seed}" + "".join(f"_without_{d}" for d in held_out)


@dataclass(frozen=True)
class RunResult:
    scores: dict[str, dict[str, list[float]]]  # target -> score -> per network seed (the last state)
    concat: dict[str, dict[str, list[float]]]  # the same for the concatenated states (SVM only)
    theta: dict | None
    seconds: float
    history: dict[str, np.ndarray]


def run_one(run: Run) -> RunResult:
    """Meta-train (unless fixed), then score the rule on every target: a pure function of `run`."""
    name, optimizer, objective = parse_variant(run.variant)
    if optimizer is None:
        setting, theta, seconds, history = run.setting, None, 0.0, {}
        rule = make_rule(name, setting.rules, setting.rnn.T)
    else:
        setting = seeded(run.setting, optimizer, objective, run.meta_seed)
        rule, theta, seconds, history = meta_trained_rule(name, run.data, list(run.datasets), setting)
    views = {
        t: score_rule(rule, run.target_data[t], setting, f"{run.variant}/{run.name} -> {t}")
        for t in run.targets
    }
    scores = {t: v["last"] for t, v in views.items()}
    return RunResult(scores, {t: v["concat"] for t, v in views.items()}, theta, seconds, history)


def compare_variant(
    variant: str, data: MetaData, targets: dict[str, Target], setting: Setting, workers: Workers
) -> tuple[dict, dict[str, RunResult]]:
    """(metrics, runs by name): scores pooled over runs x seeds per target; every run's result."""
    meta_seeds = [None] if parse_variant(variant)[1] is None else setting.compare.meta_seeds
    runs = [
        Run(variant, s, tuple(setting.meta.datasets), tuple(targets), data, targets, setting)
        for s in meta_seeds
    ]
    results = run_jobs(run_one, runs, workers, variant)
    metrics = {
        "meta_runs": 0 if meta_seeds == [None] else len(meta_seeds),
        "targets": {t: pool([r.scores[t] for r in results]) for t in targets},
    }
    return metrics, {run.name: result for run, result in zip(runs, results, strict=True)}


def leave_one_out(
    variant: str, data: MetaData, targets: dict[str, Target], setting: Setting, workers: Workers
) -> tuple[dict, dict[str, RunResult]]:
    """(metrics, runs by name): per meta seed and meta-training dataset that is a target, the variant
    meta-trained on the other datasets and judged on that one alone."""
    if parse_variant(variant)[1] is None:
        raise ValueError(f"{variant}: a fixed rule has no meta-training to leave a dataset out of")
    datasets = setting.meta.datasets
    runs = [
        Run(variant, s, tuple(d for d in datasets if d != t), (t,), data, {t: targets[t]}, setting)
        for s in setting.compare.meta_seeds
        for t in datasets
        if t in targets
    ]
    results = run_jobs(run_one, runs, workers, f"{variant} (leave one out)")
    held_out: dict[str, list] = {}
    for run, result in zip(runs, results, strict=True):
        held_out.setdefault(run.targets[0], []).append(result.scores[run.targets[0]])
    metrics = {
        "meta_runs": len(setting.compare.meta_seeds),
        "leave_one_out": {t: pool(r) for t, r in held_out.items()},
    }
    return metrics, {run.name: result for run, result in zip(runs, results, strict=True)}


def run_table(runs: dict[str, RunResult]) -> Any:
    """Every score of every run, one row per (run, target, view, score, network seed): the unit of
    run-level statistics (the pooled metrics above treat runs x seeds as one sample)."""
    import pandas as pd

    rows = [
        (name, target, view, key, seed, value)
        for name, run in runs.items()
        for view, by_target in (("last", run.scores), ("concat", run.concat))
        for target, scores in by_target.items()
        for key, values in scores.items()
        for seed, value in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["run", "target", "view", "score", "seed_index", "value"])
