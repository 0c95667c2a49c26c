"""The params schema: every bad value is one ParamError line naming the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from metahebb.params import (
    BackpropParams,
    DataParams,
    EvaluateParams,
    HebbianParams,
    KCapRNNParams,
    MetaParams,
    ParamError,
    RuleParams,
    StabiliserParams,
    check_label_counts,
    load_datasets,
    parse_group,
)


@pytest.fixture
def raw(repo):
    return yaml.safe_load((repo / "params.yaml").read_text())


def test_default_params_validate(raw):
    parse_group(DataParams, raw["data"], "data")
    parse_group(BackpropParams, raw["backprop"], "backprop")
    parse_group(EvaluateParams, raw["evaluate"], "evaluate")


def test_default_issue3_params_validate(raw):
    for group, cls in [
        ("kcap_rnn", KCapRNNParams),
        ("stabilisers", StabiliserParams),
        ("rules", RuleParams),
        ("meta_train", MetaParams),
        ("train_hebbian", HebbianParams),
    ]:
        parse_group(cls, raw[group], group)


@pytest.mark.parametrize(
    "group, cls, key, value, needle",
    [
        ("data", DataParams, "ambient_dim", 1, "data.ambient_dim=1"),
        ("data", DataParams, "noise", -0.1, "data.noise=-0.1"),
        ("data", DataParams, "n_samples", "many", "expected an integer"),
        ("data", DataParams, "n_samples", 10.5, "expected an integer"),
        ("data", DataParams, "class_balance", 1.0, "data.class_balance"),
        ("data", DataParams, "test_fraction", 0.999, "data.test_fraction"),
        ("backprop", BackpropParams, "lr", -1e-3, "backprop.lr=-0.001"),
        ("backprop", BackpropParams, "architectures", [], "non-empty"),
        ("backprop", BackpropParams, "architectures", ["mlp", "cnn"], "backprop.architectures='cnn'"),
        ("backprop", BackpropParams, "seeds", [0, 0], "unique"),
        ("backprop", BackpropParams, "latent_layer", 4, "backprop.latent_layer=4"),
        ("backprop", BackpropParams, "activation", "gelu", "one of tanh"),
        ("backprop", BackpropParams, "epochs", True, "expected an integer"),
        ("evaluate", EvaluateParams, "svm_labels", [], "non-empty"),
        ("evaluate", EvaluateParams, "svm_labels", [2, "some"], "'some'"),
        ("evaluate", EvaluateParams, "svm_labels", [1], "item 1"),
        ("evaluate", EvaluateParams, "emd_cost", "cosine", "evaluate.emd_cost='cosine'"),
        ("evaluate", EvaluateParams, "emd_points", 1, "evaluate.emd_points=1"),
    ],
)
def test_bad_value_is_one_line_naming_the_key(raw, group, cls, key, value, needle):
    bad = copy.deepcopy(raw[group])
    bad[key] = value
    with pytest.raises(ParamError) as err:
        parse_group(cls, bad, group)
    message = str(err.value)
    assert needle in message and "\n" not in message


def test_unknown_and_missing_keys(raw):
    extra = dict(raw["data"], n_sampels=3)
    with pytest.raises(ParamError, match=r"data.n_sampels: unknown key"):
        parse_group(DataParams, extra, "data")
    missing = {k: v for k, v in raw["data"].items() if k != "noise"}
    with pytest.raises(ParamError, match=r"data.noise: missing key"):
        parse_group(DataParams, missing, "data")
    with pytest.raises(ParamError, match=r"data: expected a mapping"):
        parse_group(DataParams, [1, 2], "data")


def test_label_count_above_training_split():
    check_label_counts([2, 8, "all"], n_train=8)
    with pytest.raises(ParamError, match="16 labels requested but the training split has 8 points"):
        check_label_counts([2, 16], n_train=8)


def test_unknown_dataset(tmp_path):
    (tmp_path / "params.yaml").write_text("datasets: [circles, spirals]\n")
    with pytest.raises(
        ParamError, match="datasets='spirals': accepted values are one of circles, moons, blobs"
    ):
        load_datasets(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("datasets: [circles\n")
    with pytest.raises(ParamError, match="not valid YAML"):
        load_datasets(tmp_path / "params.yaml")
