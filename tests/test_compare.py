"""meta_compare: variant names, pooling over runs x seeds, one-line param errors, a tiny end-to-end run."""

import copy
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml
from tiny import DATA, META, RNN, RULES, STAB

from metahebb import compare
from metahebb.compare import Setting, compare_variant, leave_one_out, pool
from metahebb.datasets import make_dataset
from metahebb.fanout import Workers
from metahebb.generalisation import Target
from metahebb.meta_data import MetaData, training_points
from metahebb.params import (
    CompareParams,
    ESParams,
    EvaluateParams,
    HebbianParams,
    MetaParams,
    ParamError,
    VariantLists,
    parse_group,
    parse_variant,
)

# ---------------------------------------------------------------- variant names


@pytest.mark.parametrize(
    "variant, parsed",
    [
        ("table-es-labels_ce", ("table", "es", "labels_ce")),
        ("learned-gradient-paper", ("learned", "gradient", "paper")),
        ("hebb", ("hebb", None, None)),
    ],
)
def test_parse_variant_accepts_a_fixed_rule_or_rule_optimizer_objective(variant, parsed):
    assert parse_variant(variant) == parsed


@pytest.mark.parametrize("variant", ["foo", "table-es", "learned-gradient-nope", "hebb-es-paper", "table"])
def test_parse_variant_rejects_anything_else_in_one_line(variant):
    with pytest.raises(ParamError) as err:
        parse_variant(variant)
    message = str(err.value)
    assert message.startswith("meta_compare.variants: ") and repr(variant) in message
    assert "\n" not in message


VARIANTS = {"fixed": ["hebb"], "gradient": [], "es": ["table-es-ridge"]}
NO_LOO = {"fixed": [], "gradient": [], "es": []}

# ---------------------------------------------------------------- pooling


def test_pool_spreads_over_every_run_and_seed_and_ranges_the_run_means():
    runs = [{"acc": [1.0, 2.0]}, {"acc": [3.0, 5.0]}]
    (pooled,) = pool(runs).values()
    std = math.sqrt(8.75 / 3)  # the four values around their mean 2.75
    assert pooled["mean"] == pytest.approx(2.75)
    assert pooled["std"] == pytest.approx(std)
    assert pooled["ci95"] == pytest.approx(3.182446305284263 * std / 2)  # t(0.975, 3 dof)
    assert (pooled["run_min"], pooled["run_max"]) == (1.5, 4.0)


def test_pool_of_one_run_has_its_mean_as_its_range():
    (pooled,) = pool([{"codes": [4.0, 6.0, 8.0]}]).values()
    assert pooled["run_min"] == pooled["run_max"] == pooled["mean"] == 6.0


# ---------------------------------------------------------------- bad params


BAD = [
    (MetaParams, "meta_train", {"optimizer": "adam"}, "meta_train.optimizer='adam'"),
    (MetaParams, "meta_train", {"objective": "nope"}, "meta_train.objective='nope'"),
    (
        MetaParams,
        "meta_train",
        {"objective": "labels_ce", "objective_labels": 0},
        "meta_train.objective_labels=0",
    ),
    (
        MetaParams,
        "meta_train",
        {"optimizer": "gradient", "objective": "labels_acc"},
        "meta_train.objective='labels_acc'",
    ),
    (ESParams, "es", {"population": 1}, "es.population=1"),
    (ESParams, "es", {"sigma": 0}, "es.sigma="),
    (ESParams, "es", {"sigma": -1}, "es.sigma="),
    (
        CompareParams,
        "meta_compare",
        {"variants": VARIANTS | {"es": ["tables-es-paper"]}},
        "meta_compare.variants",
    ),
    (
        CompareParams,
        "meta_compare",
        {"variants": VARIANTS | {"fixed": ["learned"]}},
        "meta_compare.variants.fixed",
    ),
    (
        CompareParams,
        "meta_compare",
        {"variants": VARIANTS | {"gradient": ["table-es-ridge"]}},
        "meta_compare.variants.gradient: 'table-es-ridge' is not a <rule>-gradient-<objective>",
    ),
    (
        CompareParams,
        "meta_compare",
        {"variants": VARIANTS, "leave_one_out": NO_LOO | {"es": ["table-es-paper"]}},
        "meta_compare.leave_one_out",
    ),
    (
        CompareParams,
        "meta_compare",
        {"variants": VARIANTS, "leave_one_out": NO_LOO | {"fixed": ["hebb"]}},
        "meta_compare.leave_one_out.fixed",
    ),
    (
        CompareParams,
        "meta_compare",
        {"variants": {"fixed": [], "gradient": [], "es": []}},
        "meta_compare.variants: every list is empty",
    ),
]


@pytest.mark.parametrize("cls, group, over, needle", BAD, ids=[f"{g}-{o}" for _, g, o, _ in BAD])
def test_bad_params_fail_with_one_line_naming_the_key(raw, cls, group, over, needle):
    assert parse_group(cls, raw[group], group)  # the file's own group is valid
    with pytest.raises(ParamError) as err:
        parse_group(cls, {**raw[group], **over}, group)
    message = str(err.value)
    assert "\n" not in message and needle in message, message


def test_validate_command_and_a_stage_refuse_a_bad_es_group_in_one_line(raw, repo, tmp_path):
    """The command exits 1 (like every `validate` problem); a stage exits 2 before writing anything."""
    bad = copy.deepcopy(raw)
    bad["es"]["population"] = 1
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(bad))
    result = subprocess.run(
        [sys.executable, "-m", "metahebb.validate", str(tmp_path / "params.yaml")],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: es.population=1: accepted values are >= 2"), line

    shutil.copytree(repo / "stages", tmp_path / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    stage = subprocess.run(
        [sys.executable, "stages/meta_compare.py", "hebb"], cwd=tmp_path, capture_output=True, text=True
    )
    assert stage.returncode == 2
    (line,) = stage.stderr.splitlines()
    assert line.startswith("error: es.population=1"), line
    assert not (tmp_path / "data").exists() and not (tmp_path / "metrics").exists()


# ---------------------------------------------------------------- a tiny comparison


def tiny_setting() -> Setting:
    return Setting(
        rnn=RNN,
        stab=STAB,
        rules=RULES,
        meta=META,
        es=ESParams(
            generations=2, population=4, sigma=0.1, networks_per_dataset=1, epochs=1, batch_size=16, seed=0
        ),
        hebbian=HebbianParams(rules=["hebb"], epochs=1, batch_size=16, seeds=[9]),
        evaluate=EvaluateParams(
            latent_dim=2,
            emd_points=50,
            emd_normalise="zscore",
            emd_align="procrustes",
            emd_cost="sqeuclidean",
            emd_max_iter=100_000,
            svm_labels=["all"],
            svm_draws=2,
            svm_kernel="rbf",
            svm_c=1.0,
            seed=0,
        ),
        compare=CompareParams(
            variants=VariantLists(fixed=["hebb"], gradient=[], es=["table-es-ridge"]),
            meta_seeds=[0, 1],
            leave_one_out=VariantLists(fixed=[], gradient=[], es=["table-es-ridge"]),
            targets=["circles", "moons"],
            labels=[2, 4],
            seeds=[0, 1],
        ),
    )


def assert_pooled(scores: dict) -> None:
    """Every score of the comparison: SVM at each label count, EMD, distinct codes; all finite."""
    assert set(scores) == {"svm_n2", "svm_n4", "emd", "codes"}
    for stats in scores.values():
        assert set(stats) == {"mean", "std", "ci95", "run_min", "run_max"}
        assert all(np.isfinite(v) for v in stats.values())
        assert stats["run_min"] <= stats["mean"] <= stats["run_max"]


def tiny_data() -> tuple[MetaData, dict[str, Target]]:
    arrays = {d: make_dataset(d, DATA).arrays() for d in ("circles", "moons")}
    points = {d: training_points(a) for d, a in arrays.items()}
    data = MetaData({d: x for d, (x, _) in points.items()}, {d: y for d, (_, y) in points.items()})
    targets = {d: Target(a["x"], a["y"], a["is_test"], a["z"]) for d, a in arrays.items()}
    return data, targets


def test_compare_variant_on_a_tiny_setup(monkeypatch):
    data, targets = tiny_data()
    setting = tiny_setting()
    seen = []  # the datasets each meta-training run was given
    real = compare.meta_learn
    monkeypatch.setattr(
        compare, "meta_learn", lambda rule, d, *a, **k: seen.append(list(d.x)) or real(rule, d, *a, **k)
    )
    serial = Workers(1)  # in this process, so the monkeypatch sees every run

    fixed, runs = compare_variant("hebb", data, targets, setting, serial)
    assert fixed["meta_runs"] == 0 and "leave_one_out" not in fixed
    assert list(runs) == ["hebb"] and runs["hebb"].theta is None and runs["hebb"].seconds == 0.0
    assert set(fixed["targets"]) == set(targets) and not seen
    for scores in fixed["targets"].values():
        assert_pooled(scores)

    metrics, runs = compare_variant("table-es-ridge", data, targets, setting, serial)
    assert metrics["meta_runs"] == 2 and "leave_one_out" not in metrics
    assert set(metrics["targets"]) == set(targets)
    for scores in metrics["targets"].values():
        assert_pooled(scores)
    assert seen == [["circles", "moons"]] * 2  # once per meta seed, on every dataset
    assert list(runs) == ["seed0", "seed1"] and all(r.seconds > 0 for r in runs.values())
    assert all(len(r.history["fitness_median"]) == setting.es.generations for r in runs.values())

    table = compare.run_table(runs)  # one row per run x target x view x score x network seed
    seeds, labels = len(setting.compare.seeds), len(setting.compare.labels)
    for target in targets:
        rows = table[(table.run == "seed1") & (table.target == target)]
        last, concat = rows[rows.view == "last"], rows[rows.view == "concat"]
        assert (
            set(concat.score) == {f"svm_n{n}" for n in setting.compare.labels}
            and len(concat) == seeds * labels
        )
        for key, values in runs["seed1"].scores[target].items():
            assert last[last.score == key].value.tolist() == values  # the values `pool` summarises
    assert table[table.score.str.startswith("svm_")].value.between(0, 1).all()

    seen.clear()
    held, runs = leave_one_out("table-es-ridge", data, targets, setting, serial)
    assert held["meta_runs"] == 2 and set(held["leave_one_out"]) == set(targets)
    for scores in held["leave_one_out"].values():
        assert_pooled(scores)
    # per meta seed: each dataset held out in turn (judged on the one left out)
    assert seen == [["moons"], ["circles"]] * 2
    assert set(runs) == {f"seed{s}_without_{d}" for s in (0, 1) for d in ("circles", "moons")}
    with pytest.raises(ValueError, match="fixed rule"):
        leave_one_out("hebb", data, targets, setting, serial)


@pytest.mark.slow
def test_results_do_not_depend_on_the_number_of_workers():
    """One worker (this process) and two local Dask worker processes: identical theta and metrics."""
    data, targets = tiny_data()
    setting = tiny_setting()
    one = leave_one_out("table-es-ridge", data, targets, setting, Workers(1))
    two = leave_one_out("table-es-ridge", data, targets, setting, Workers(2))
    assert one[0] == two[0]  # metrics, bit for bit
    assert list(one[1]) == list(two[1])  # runs in job order, whatever order they finished in
    for a, b in zip(one[1].values(), two[1].values(), strict=True):
        assert a.theta.keys() == b.theta.keys() and all(torch.equal(a.theta[k], b.theta[k]) for k in a.theta)
        assert all(np.array_equal(a.history[k], b.history[k]) for k in a.history)
