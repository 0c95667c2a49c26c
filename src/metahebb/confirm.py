"""The confirmatory table: the frozen study rerun on data draws never used in development.

Every choice of the study (ES settings, objectives, rule families, the baselines' grids) was made
while looking at results on one draw (`data.seed`, `data.projection_seed`). Here the
configuration is frozen, including every meta-trained theta of `meta_compare` (all its runs) and
every baseline's tuned settings, and each is applied to fresh networks on `confirm`'s draws:
new samples, new train/test splits and a new random projection of every dataset (digits: a new
split and projection). Nothing is meta-trained or tuned again, so the table asks whether the
rules found on the development draw hold on draws no one looked at. (Meta-training anew on each
draw would also test the meta-training procedure; it costs a whole study per draw.)

Each job is one rule (a variant's run, a fixed rule or a reference) on every draw and target,
scored by `compare.score_rule` on meta_compare's network seeds, label counts and SVM draws; its
table has the run tables' columns plus `draw`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from metahebb.backprop import hidden_states, train_autoencoders
from metahebb.baselines import UNTUNED, Config, built, config_of, untuned
from metahebb.compare import RunResult, Setting, run_table, score_features, score_rule
from metahebb.datasets import digits, make_dataset
from metahebb.gain_search import Scaled
from metahebb.generalisation import Target
from metahebb.params import BackpropParams, DataParams
from metahebb.rules import Rule, make_rule


def draw_targets(names: list[str], data: DataParams, digits_input: str) -> dict[str, Target]:
    """Every target of one data draw, made in memory from `data`'s seeds."""
    targets = {}
    for name in names:
        if name == "digits":
            a = digits.load(data, digits_input)
            targets[name] = Target(a["x"], a["y"], a["is_test"])
        else:
            a = make_dataset(name, data).arrays()
            targets[name] = Target(a["x"], a["y"], a["is_test"], a["z"])
    return targets


@dataclass(frozen=True)
class Job:
    """One frozen rule on every draw: `variant` names it, `run` its meta-training run ("" if none)."""

    variant: str
    run: str
    rule: str  # the registered rule (`table`, `hebb`, ...); unused by `raw`
    theta: dict | None  # a meta-trained run's theta
    chosen: dict[str, Config] | None  # a tuned baseline's settings per view
    draws: list[tuple[int, int]]  # (data.seed, data.projection_seed)
    targets: list[str]
    data: DataParams
    digits_input: str
    setting: Setting
    backprop: BackpropParams | None = None  # the `backprop-rnn` reference: trained anew per draw
    gains: tuple[float, float, float] = (1.0, 1.0, 1.0)  # of the rule's change of M_in, M_rec, M_out


def backprop_result(targets: dict[str, Target], setting: Setting, params: BackpropParams) -> RunResult:
    """The backprop RNN autoencoder on each target (latent h3 as `last`, all states as `concat`),
    one network per meta_compare seed, as the train_backprop stage trains it."""
    params = dataclasses.replace(params, seeds=list(setting.compare.seeds))
    evaluate = dataclasses.replace(setting.evaluate, svm_labels=list(setting.compare.labels))
    device = torch.device(setting.device)
    last, concat = {}, {}
    for t, target in targets.items():
        test = target.is_test
        model = train_autoencoders(target.x[~test], "rnn", params, device).model
        states = [hidden_states(model, target.x[part], len(params.seeds), device) for part in (~test, test)]
        layer = params.latent_layer - 1
        last[t] = score_features(list(states[0][layer]), list(states[1][layer]), target, evaluate, emd=False)
        both = [np.concatenate(s, axis=-1) for s in states]
        concat[t] = score_features(list(both[0]), list(both[1]), target, evaluate, emd=False)
    return RunResult(last, concat, None, 0.0, {})


def _scaled(rule: Rule, gains: tuple[float, float, float]) -> Rule:
    return rule if gains == Job.gains else Scaled(rule, gains)


def _judge(job: Job, targets: dict[str, Target]) -> RunResult:
    if job.backprop is not None:
        return backprop_result(targets, job.setting, job.backprop)
    if job.variant in UNTUNED:
        return untuned(job.variant, targets, job.setting)
    if job.chosen:
        views = {}
        for view, config in job.chosen.items():
            rule, run = built(job.rule, config, job.setting)
            views[view] = {t: score_rule(_scaled(rule, job.gains), v, run)[view] for t, v in targets.items()}
        return RunResult(views["last"], views["concat"], None, 0.0, {})
    rule = _scaled(make_rule(job.rule, job.setting.rules, job.setting.rnn.T, theta=job.theta), job.gains)
    scored = {t: score_rule(rule, v, job.setting) for t, v in targets.items()}
    return RunResult(
        {t: s["last"] for t, s in scored.items()}, {t: s["concat"] for t, s in scored.items()}, None, 0.0, {}
    )


def run_job(job: Job) -> pd.DataFrame:
    """The job's rows on every draw (a pure function of `job`, for the fan-out)."""
    frames = []
    for i, (seed, projection_seed) in enumerate(job.draws):
        data = dataclasses.replace(job.data, seed=seed, projection_seed=projection_seed)
        targets = draw_targets(job.targets, data, job.digits_input)
        frame = run_table({job.run or job.variant: _judge(job, targets)})
        frames.append(frame.assign(draw=i))
    table = pd.concat(frames, ignore_index=True)
    return table[["run", "draw", "target", "view", "score", "seed_index", "value"]]


def summary(table: pd.DataFrame) -> dict:
    """Per view, target and score: the mean over runs, draws and seeds, and each draw's mean."""
    out: dict = {}
    for (view, target, score), rows in table.groupby(["view", "target", "score"], sort=False):
        by_draw = rows.groupby("draw").value.mean()
        out.setdefault(view, {}).setdefault(target, {})[score] = {
            "mean": float(rows.value.mean()),
            "draws": [float(v) for v in by_draw],
            "runs": int(rows.run.nunique()),
        }
    return out


def as_config(chosen: dict) -> dict[str, Config]:
    return {view: config_of(c) for view, c in chosen.items()}
