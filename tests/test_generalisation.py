import dataclasses
from functools import partial

import numpy as np
import pytest
import torch
from tiny import ES, META, RNN, STAB

from metahebb.artifacts import save_arrays, save_torch
from metahebb.datasets import digits
from metahebb.generalisation import (
    Target,
    check_label_count,
    generalisation_matrix,
    matrix_rules,
    matrix_table,
    meta_sources,
    meta_train_rows,
    source_data,
)
from metahebb.meta_data import MetaData
from metahebb.params import (
    DataParams,
    EvaluateParams,
    HebbianParams,
    ParamError,
    RuleParams,
)
from metahebb.rules import make_rule

DATA = DataParams(
    n_samples=1000,
    noise=0.08,
    circles_factor=0.5,
    blobs_std=1.0,
    blobs_distance=4.0,
    class_balance=0.5,
    ambient_dim=10,
    test_fraction=0.3,
    seed=0,
    projection_seed=0,
)
RULES = RuleParams(
    hebb_lr=0.01, oja_lr=0.01, hidden=8, init_step=0.002, neighbours=1, seed=0, base="hebb", max_step=0.01
)
META = dataclasses.replace(META, steps=3, lr=0.01, population=2, batch_size=8, reset_every=10)
HEBB = HebbianParams(rules=["none"], epochs=2, batch_size=8, seeds=[0, 1])
EVALUATE = EvaluateParams(
    latent_dim=2,
    emd_points=100,
    emd_normalise="zscore",
    emd_align="procrustes",
    emd_cost="sqeuclidean",
    emd_max_iter=100_000,
    svm_labels=[2, "all"],
    svm_draws=2,
    svm_kernel="rbf",
    svm_c=1.0,
    seed=0,
)


def two_class_target(n: int = 60, seed: int = 0) -> Target:
    """Two Gaussian clusters in 2D, projected to 5D: a target with true latents."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    z = rng.standard_normal((n, 2)) + 3.0 * y[:, None]
    x = z @ rng.standard_normal((2, 5))
    return Target(x.astype(np.float32), y, np.arange(n) % 3 == 0, z.astype(np.float32))


def three_class_target(n: int = 45) -> Target:
    """Three classes in 7D and no true latent, like digits."""
    rng = np.random.default_rng(1)
    y = np.arange(n) % 3
    x = rng.standard_normal((n, 7)) + 2.0 * np.eye(7)[y]
    return Target(x.astype(np.float32), y, np.arange(n) % 4 == 0)


# ---- digits loader


@pytest.mark.parametrize("inputs, width", [("raw", 64), ("projected", DATA.ambient_dim)])
def test_digits_shapes_labels_split_and_standardisation(inputs, width):
    arrays = digits.load(DATA, inputs)
    x, y, is_test = arrays["x"], arrays["y"], arrays["is_test"]
    assert x.shape == (1797, width) and x.dtype == np.float32 and np.isfinite(x).all()
    assert set(np.unique(y)) == set(range(10))
    assert is_test.sum() == round(1797 * DATA.test_fraction)
    train = x[~is_test]
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-4)
    std = train.std(axis=0)
    np.testing.assert_allclose(std[std > 0], 1, atol=1e-4)
    assert ("projection" in arrays) == (inputs == "projected")


def test_digits_is_deterministic_and_seeded():
    a, b = digits.load(DATA, "projected"), digits.load(DATA, "projected")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    other_split = digits.load(dataclasses.replace(DATA, seed=1), "projected")
    assert not np.array_equal(a["is_test"], other_split["is_test"])
    other_projection = digits.load(dataclasses.replace(DATA, projection_seed=1), "projected")
    np.testing.assert_array_equal(a["is_test"], other_projection["is_test"])
    assert not np.array_equal(a["x"], other_projection["x"])


def test_digits_projection_is_a_linear_map_of_the_raw_pixels():
    raw, projected = digits.load(DATA, "raw"), digits.load(DATA, "projected")
    mapped = raw["x"] @ projected["projection"]
    mapped = (mapped - mapped[~raw["is_test"]].mean(0)) / mapped[~raw["is_test"]].std(0)
    np.testing.assert_allclose(mapped, projected["x"], atol=1e-3)
    assert np.linalg.matrix_rank(projected["projection"]) == DATA.ambient_dim


# ---- the matrix


def test_rows_single_sources_and_leave_one_out():
    rows = meta_sources(["circles", "moons"], True, ["circles", "moons", "blobs"])
    assert rows == {
        "circles": ["circles"],
        "moons": ["moons"],
        "all_but_circles": ["moons", "blobs"],
        "all_but_moons": ["circles", "blobs"],
    }
    assert meta_sources(["circles"], False, ["circles"]) == {"circles": ["circles"]}
    with pytest.raises(ParamError, match="leaves nothing"):
        meta_sources(["circles"], True, ["circles"])


def test_source_data_holds_the_training_points_of_every_dataset_a_row_needs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for i, ds in enumerate(["moons", "circles", "blobs"]):
        t = two_class_target(30, i)
        save_arrays(f"data/datasets/{ds}.npz", x=t.x, y=t.y, is_test=t.is_test)
    data = source_data({"circles": ["circles"], "all_but_blobs": ["moons", "circles"]})
    assert sorted(data.x) == ["circles", "moons"]  # blobs is needed by no row
    train = ~two_class_target(30, 0).is_test
    assert data.x["moons"].shape == (train.sum(), 5) and np.array_equal(
        data.y["moons"], two_class_target(30, 0).y[train]
    )
    np.testing.assert_allclose(data.x["moons"].mean(axis=0), 0, atol=1e-5)  # standardised on its own points


def test_tiny_matrix_has_every_row_and_target_with_values_in_range(tmp_path, monkeypatch):
    sources = {"circles": two_class_target(40, 2), "moons": two_class_target(40, 3)}
    data = MetaData({d: t.x for d, t in sources.items()}, {d: t.y for d, t in sources.items()})
    rows = meta_sources(["circles", "moons"], True, ["circles", "moons"])
    new_rule = partial(make_rule, "learned", RULES, RNN.T)
    trained = meta_train_rows(rows, data, new_rule, RNN, STAB, META, ES)
    assert list(trained) == ["circles", "moons", "all_but_circles", "all_but_moons"]
    assert trained["all_but_circles"] is trained["moons"]  # the same datasets are meta-trained once
    monkeypatch.chdir(tmp_path)  # `all` is the meta_train stage's rule
    save_torch("data/rules/learned.pt", {"theta": trained["circles"].theta})
    rules = matrix_rules("learned", trained, ["none", "hebb"], RULES, RNN.T)
    assert list(rules) == [*trained, "all", "none", "hebb"]
    for row in [*trained, "all"]:
        theta = trained["circles" if row == "all" else row].theta
        assert all(torch.equal(v, theta[k]) for k, v in rules[row].state_dict().items())
    targets = {"two": two_class_target(), "three": three_class_target()}

    matrix = generalisation_matrix(rules, targets, RNN, STAB, HEBB, EVALUATE, labels=6)
    assert list(matrix) == list(rules)
    for cells in matrix.values():
        assert list(cells) == ["two", "three"]
        assert set(cells["two"]) == {"svm_acc", "emd"} and set(cells["three"]) == {"svm_acc"}
        for cell in cells.values():
            for summary in cell.values():
                assert set(summary) == {"mean", "std", "ci95"}
                assert all(np.isfinite(v) and v >= 0 for v in summary.values())
            assert 0 <= cell["svm_acc"]["mean"] <= 1
    table = matrix_table(matrix)
    assert list(table.columns) == ["row", "target", "svm_acc", "svm_acc_ci95"]
    assert len(table) == len(rules) * 2 and np.isfinite(table[["svm_acc", "svm_acc_ci95"]]).all().all()


def test_too_many_labels_fail_with_one_line_before_training():
    targets = {"two": two_class_target(60)}  # 40 training points
    with pytest.raises(ParamError) as err:
        generalisation_matrix({}, targets, RNN, STAB, HEBB, EVALUATE, labels=41)
    assert "training split of two has only 40 points" in str(err.value) and "\n" not in str(err.value)
    check_label_count(40, targets)


def test_labels_must_fit_the_smallest_class():
    target = two_class_target(60)
    y = np.where(np.arange(60) < 6, 1, 0)  # 4 training points of class 1 (every third point is test)
    lopsided = {"lopsided": dataclasses.replace(target, y=y)}
    with pytest.raises(ParamError, match="5 points per class"):
        check_label_count(10, lopsided)
    check_label_count(8, lopsided)
