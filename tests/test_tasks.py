"""The generated task distribution (issue 15): tasks, their draws, and CMA-ES meta-training on them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from test_compare import tiny_setting
from tiny import DATA, ES, META, RNN, RULES, STAB

from metahebb import task_study
from metahebb.confirm import draw_targets
from metahebb.meta_data import FixedTasks, MetaData, split_data
from metahebb.outer.es import Fitness, es_train
from metahebb.outer.population import flatten
from metahebb.params import DATASET_NAMES
from metahebb.rules import make_rule
from metahebb.runtime import generator
from metahebb.tasks import FAMILIES, TaskDistribution, sample_task

DIST = TaskDistribution(tuple(FAMILIES), per_draw=2, n_samples=60, dim=5, noise=0.2, nonlinear=0.5,
                        validation_fraction=0.4)  # fmt: skip


def test_no_family_is_a_test_dataset():
    assert not set(FAMILIES) & {*DATASET_NAMES, "digits"}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_gives_two_classes_of_2d_points_reproducibly(family):
    z, y = FAMILIES[family](np.random.default_rng(3), 400, 0.1)
    again = FAMILIES[family](np.random.default_rng(3), 400, 0.1)
    assert z.shape == (400, 2) and y.shape == (400,) and np.isfinite(z).all()
    assert set(np.unique(y)) == {0, 1} and 0.1 < y.mean() < 0.9
    assert np.array_equal(z, again[0]) and np.array_equal(y, again[1])


@pytest.mark.parametrize("nonlinear", [False, True])
def test_a_task_is_standardised_in_the_ambient_dimension(nonlinear):
    x, y = sample_task("xor", 300, 7, 0.1, nonlinear, np.random.default_rng(0))
    assert x.shape == (300, 7) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=0), 1, atol=1e-4)
    rank = np.linalg.matrix_rank(x.astype(np.float64), tol=1e-6)
    assert (rank > 2) == nonlinear  # a linear projection of 2D latents has rank 2; tanh does not


def test_a_draw_is_fresh_tasks_of_fixed_sizes_reproducible_from_the_generator():
    a, b = DIST.draw(generator(0)), DIST.draw(generator(0))
    c = DIST.draw(generator(1))
    assert len(a.inner) == 2 and all(t.shape == (36, 5) for t in a.inner)
    assert all(t.shape == (24, 5) for t in a.val_x) and all(t.shape == (24,) for t in a.val_y)
    assert all(torch.equal(u, v) for u, v in zip(a.inner + a.val_x, b.inner + b.val_x, strict=True))
    assert not torch.equal(a.inner[0], c.inner[0])


def test_fixed_tasks_draw_nothing_from_the_generator():
    """The meta-training datasets' split leaves ES's random stream as it was (results unchanged)."""
    x = {"a": np.random.default_rng(0).standard_normal((40, 5)).astype(np.float32)}
    data = MetaData(x, {"a": np.arange(40) % 2})
    gen = generator(5)
    FixedTasks(split_data(data, 0.3, 0)).draw(gen)
    assert torch.equal(gen.get_state(), generator(5).get_state())


def _meta(objective: str = "labels_acc"):
    return dataclasses.replace(META, objective=objective, objective_labels=4, validation_fraction=0.4)


def test_fitness_on_a_distribution_is_finite_and_judges_new_tasks_each_generation():
    rule = make_rule("table", RULES, RNN.T)
    fitness = Fitness(rule, DIST, RNN, STAB, _meta(), ES)
    candidates = flatten(rule)[None].repeat(3, 1)
    gen = generator(2)
    first = fitness(candidates, gen)
    tasks = fitness.parts.inner[0]
    fitness(candidates, gen)
    assert torch.isfinite(first).all() and torch.allclose(first, first[0].expand(3))  # equal candidates
    again = Fitness(rule, DIST, RNN, STAB, _meta(), ES)(candidates, generator(2))
    assert torch.equal(first, again)
    assert fitness.which == [0, 1]  # one network per task of the draw
    assert not torch.equal(tasks, fitness.parts.inner[0])  # a second generation judges new tasks
    assert len(fitness.parts.inner) == DIST.per_draw


def test_es_on_a_distribution_is_reproducible_and_moves_theta():
    rule = make_rule("table", RULES, RNN.T)
    a = es_train(DIST, rule, RNN, STAB, _meta(), ES, log_every=0)
    b = es_train(DIST, make_rule("table", RULES, RNN.T), RNN, STAB, _meta(), ES, log_every=0)
    assert all(torch.equal(a.theta[k], b.theta[k]) for k in a.theta)
    start = dict(rule.named_parameters())
    assert any(not torch.equal(a.theta[k], start[k].detach()) for k in a.theta)
    assert len(a.history["fitness_median"]) == ES.generations


def test_a_task_run_never_meta_trains_on_a_target_and_is_judged_on_every_target_and_draw(monkeypatch):
    setting = dataclasses.replace(tiny_setting(), meta=_meta(), es=dataclasses.replace(ES, generations=1))
    seen = []
    real = task_study.meta_learn
    monkeypatch.setattr(
        task_study, "meta_learn", lambda rule, data, opt: seen.append(data) or real(rule, data, opt)
    )
    targets = draw_targets(["circles", "moons"], DATA, "projected")
    run = task_study.TaskRun(
        "table-es-labels_acc", 0, DIST, targets, [(101, 201)], DATA, "projected", setting
    )
    out = task_study.run_task(run)
    assert seen == [DIST]  # the distribution, and nothing of the targets
    assert set(out.result.scores) == {"circles", "moons"} and set(out.result.concat) == {"circles", "moons"}
    assert set(out.confirm.target) == {"circles", "moons"} and set(out.confirm.draw) == {0}
    assert set(out.confirm.run) == {"seed0"}


def test_the_report_judges_a_tasks_variant_on_every_target_with_its_label_budget(tmp_path, monkeypatch):
    from pathlib import Path

    from metahebb import inference_inputs
    from metahebb.params import load_params

    p = load_params(Path(__file__).parents[1] / "params.yaml")
    none = dataclasses.replace(p.meta_compare.variants, gradient=[], es=[])
    variant = p.tasks.variants[0]
    p = dataclasses.replace(
        p,
        meta_compare=dataclasses.replace(p.meta_compare, variants=none),
        tasks=dataclasses.replace(p.tasks, variants=[variant]),
    )
    monkeypatch.chdir(tmp_path)
    rows = [
        (run, t, "last", "codes", 0, 3.0 if (run, t) == ("seed1", "moons") else 40.0)
        for run in ("seed0", "seed1")
        for t in p.meta_compare.targets
    ]
    for folder in ("runs", "confirm"):
        (tmp_path / f"metrics/meta_tasks/{folder}").mkdir(parents=True)
        frame = pd.DataFrame(rows, columns=list(inference_inputs.COLUMNS))
        frame.to_csv(tmp_path / f"metrics/meta_tasks/{folder}/{variant}.csv", index=False)
    (tmp_path / f"metrics/meta_tasks/{variant}.json").write_text('{"labels_seen_per_run": 1234}')

    tables = inference_inputs.task_tables(p, "metrics/meta_tasks/runs/{}.csv")
    assert list(tables) == [f"{variant}@tasks"]
    assert list(tables[f"{variant}@tasks"]) == p.meta_compare.targets  # every target, digits too
    (budget,) = inference_inputs.task_budgets(p)
    assert f"`{variant}@tasks`: 1234 labelled points" in budget and "none of any target" in budget
    (collapsed,) = inference_inputs.collapsed_runs(p)
    assert collapsed == f"- `{variant}@tasks`: 1 of 2 runs collapse somewhere (seed1: moons)."
