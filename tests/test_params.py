"""The params schema: every bad value is one ParamError line naming the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metahebb import validate
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


# ---- property: any mutation of params.yaml validates or fails with one ParamError line

DEFAULTS = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())
PATHS = [(g,) for g in DEFAULTS] + [
    (g, k) for g, group in DEFAULTS.items() if isinstance(group, dict) for k in group
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["all", "none", "hebb", "learned", "circles", "digits", "linear", "ste"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3)
    ),
    max_leaves=6,
)
MUTATION = st.tuples(
    st.sampled_from(["set", "delete", "extra"]), st.sampled_from(PATHS), VALUES, st.text(max_size=6)
)


def apply(raw: dict, op: str, path: tuple, value, extra_key: str) -> None:
    target = raw
    for p in path[:-1]:
        if not isinstance(target.get(p), dict):
            return
        target = target[p]
    if op == "set":
        target[path[-1]] = value
    elif op == "delete":
        target.pop(path[-1], None)
    elif isinstance(target.get(path[-1]), dict):
        target[path[-1]][extra_key] = value
    else:
        target[extra_key] = value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MUTATION, min_size=1, max_size=4))
def test_random_mutations_validate_or_fail_with_one_line(mutations):
    raw = copy.deepcopy(DEFAULTS)
    for mutation in mutations:
        apply(raw, *mutation)
    problems = validate.problems(raw)  # any other exception fails the test
    assert all(isinstance(p, str) and p and "\n" not in p for p in problems)
    try:
        validate.check_raw(raw)
    except ParamError as err:
        assert str(err) == problems[0]
    else:
        assert problems == []
