from __future__ import annotations

import numpy as np
import pytest

from metahebb.artifacts import ArtifactError, load_arrays, save_arrays, save_json, writer
from metahebb.latents import load_latents, save_latents


def test_arrays_round_trip_and_leave_no_temp_files(tmp_path):
    path = save_arrays(tmp_path / "a" / "x.npz", x=np.arange(3.0))
    np.testing.assert_array_equal(load_arrays(path, required=("x",))["x"], np.arange(3.0))
    assert [p.name for p in path.parent.iterdir()] == ["x.npz"]


def test_unreadable_missing_and_nan_files_name_the_file(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match=r"bad.npz: unreadable.*the stage that writes it"):
        load_arrays(tmp_path / "bad.npz")
    (tmp_path / "data/datasets").mkdir(parents=True)
    (tmp_path / "data/datasets/moons.npz").write_bytes(b"")
    with pytest.raises(ArtifactError, match=r"moons.npz: unreadable.*`dvc repro -f make_data@moons`"):
        load_arrays(tmp_path / "data/datasets/moons.npz")
    with pytest.raises(ArtifactError, match="gone.npz: file not found"):
        load_arrays(tmp_path / "gone.npz")
    save_arrays(tmp_path / "nan.npz", x=np.array([1.0, np.nan]))
    with pytest.raises(ArtifactError, match="x holds NaN"):
        load_arrays(tmp_path / "nan.npz", required=("x",))
    with pytest.raises(ArtifactError, match="lacks y"):
        load_arrays(tmp_path / "nan.npz", required=("y",))


def test_json_refuses_nan_and_rounds(tmp_path):
    with pytest.raises(ArtifactError, match="m.json.a.b"):
        save_json(tmp_path / "m.json", {"a": {"b": float("nan")}})
    assert not (tmp_path / "m.json").exists()
    save_json(tmp_path / "m.json", {"a": 0.1 + 0.2})
    assert (tmp_path / "m.json").read_text().strip() == '{\n  "a": 0.3\n}'


def test_latents_round_trip(tmp_path):
    train, test = np.ones((2, 5, 3)), np.zeros((2, 4, 3))
    save_latents(tmp_path / "l.npz", {"last": (train, test), "concat": (train, test)}, seeds=[3, 4])
    views, seeds = load_latents(tmp_path / "l.npz")
    assert list(views) == ["last", "concat"] and list(seeds) == [3, 4]
    with pytest.raises(ValueError, match="expected shape"):
        save_latents(tmp_path / "l.npz", {"last": (train[0], test)}, seeds=[3, 4])


@pytest.mark.parametrize(
    "path, stage",
    [
        ("data/datasets/circles.npz", "make_data@circles"),
        ("data/latents/moons/true.npz", "make_data@moons"),
        ("data/latents/moons/rnn.npz", "train_backprop@moons-rnn"),
        ("data/latents/blobs/oja.npz", "train_hebbian@blobs-oja"),
        ("data/latents/blobs/learned_extended.npz", "train_learned@blobs-learned_extended"),
        ("data/rules/learned.pt", "meta_train@learned"),
        ("data/meta_compare/hebb.pt", "meta_compare_fixed@hebb"),
        ("data/meta_compare/table-es-ridge.pt", "meta_compare_es@table-es-ridge"),
        (
            "data/meta_compare_loo/learned-gradient-paper.pt",
            "meta_compare_loo_gradient@learned-gradient-paper",
        ),
        ("data/generalisation/circles.pt", "generalisation"),
        ("data/semi_supervised/moons_meta_readout.pt", "semi_supervised@moons"),
        ("data/models/blobs/mlp.pt", "train_backprop@blobs-mlp"),
        ("metrics/evaluate/moons/true_svm.csv", "evaluate_reference@moons-true"),
        ("metrics/evaluate/moons/learned_extended.json", "evaluate_learned@moons-learned_extended"),
        ("metrics/evaluate/moons/oja_svm.csv", "evaluate_hebbian@moons-oja"),
        ("metrics/train/moons/rnn_loss.csv", "train_backprop@moons-rnn"),
        ("metrics/train/moons/hebb.json", "train_hebbian@moons-hebb"),
        ("metrics/semi_supervised/blobs_epochs.csv", "semi_supervised@blobs"),
        ("metrics/meta_train/learned.csv", "meta_train@learned"),
        ("metrics/meta_compare/timing/table-es-ridge.json", "meta_compare_es@table-es-ridge"),
        ("metrics/meta_compare/none.json", "meta_compare_fixed@none"),
        ("metrics/meta_compare_loo/table-es-ridge.json", "meta_compare_loo_es@table-es-ridge"),
        ("reports/results.md", "figures"),
        ("elsewhere/x.npz", None),
    ],
)
def test_hints_name_the_one_stage_to_force(path, stage):
    """A bare `dvc repro -f` reruns hours of meta-training; the hint names the stage that writes the file."""
    assert writer(path) == stage
