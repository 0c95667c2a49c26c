"""A corpus of corrupted input files: each gives one line naming the file and the stage to force.

For every kind of file the pipeline reads, a valid file is written by the pipeline's own writer and
then broken: random bytes, zero length, truncated, and (where the kind has them) wrong keys,
shapes, dtypes, lengths or split sizes, and non-finite values. The loader the stage uses must
raise `ArtifactError` with a one-line message naming the file and holding `dvc repro -f`.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from tiny import DATA, RNN, RULES

from metahebb.artifact_schemas import EVALUATE_KEYS, SVM_COLUMNS, split_sizes
from metahebb.artifacts import (
    ArtifactError,
    load_arrays,
    load_json,
    load_table,
    load_text,
    load_theta,
    load_torch,
    save_arrays,
    save_text,
    save_torch,
)
from metahebb.datasets import make_dataset
from metahebb.latents import load_latents, save_latents
from metahebb.outer.checkpoint import load_checkpoint
from metahebb.rules import load_rule, make_rule

REPO = Path(__file__).resolve().parents[1]
MOONS = make_dataset("moons", DATA).arrays()
N_TRAIN, N_TEST = split_sizes(MOONS)


def theta(rule: str = "learned") -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in make_rule(rule, RULES, RNN.T).state_dict().items()}


def latents() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    views = {v: (rng.random((2, N_TRAIN, 3)), rng.random((2, N_TEST, 3))) for v in ("last", "concat")}
    arrays = {"seeds": np.array([0, 1]), "views": np.array(list(views))}
    for v, (train, test) in views.items():
        arrays |= {f"{v}.train": train.astype(np.float32), f"{v}.test": test.astype(np.float32)}
    return arrays


def write_npz(path: Path, arrays: dict) -> None:
    save_arrays(path, **arrays)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)  # not save_table: it refuses the NaN the corpus needs


def write_json(path: Path, data: Any) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))  # not save_json: it refuses NaN


# --- content corruptions: each takes the valid object and returns a broken copy ------------------------


def without(key: str) -> Callable[[dict], dict]:
    return lambda d: {k: v for k, v in d.items() if k != key}


def with_value(key: str, value: Any) -> Callable[[dict], dict]:
    return lambda d: {**d, key: value(d[key]) if callable(value) else value}


def nan_at(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.flat[0] = np.nan
    return a


def in_theta(change: Callable[[dict], dict], *at: str) -> Callable[[dict], dict]:
    """A corruption of the theta found at key path `at` of a rule file."""

    def corrupt(obj: dict) -> dict:
        if not at:
            return change(obj)
        return {**obj, at[0]: in_theta(change, *at[1:])(obj[at[0]])}

    return corrupt


def theta_changes(rule: str, *at: str) -> dict[str, Callable[[dict], dict]]:
    """Corruptions of the `rule`'s theta stored at key path `at`."""
    first = next(iter(theta(rule)))
    return {
        "lacks theta": in_theta(without(at[-1]), *at[:-1]),
        "theta not a dict": in_theta(with_value(at[-1], torch.zeros(3)), *at[:-1]),
        "theta lacks a key": in_theta(without(first), *at),
        "theta unknown key": in_theta(with_value("surprise", torch.zeros(1)), *at),
        "theta wrong shape": in_theta(with_value(first, lambda t: torch.zeros(*t.shape, 2)), *at),
        "theta wrong dtype": in_theta(
            with_value(first, lambda t: torch.zeros(t.shape, dtype=torch.int64)), *at
        ),
        "theta NaN": in_theta(with_value(first, lambda t: torch.full(t.shape, float("nan"))), *at),
        "theta infinite": in_theta(with_value(first, lambda t: torch.full(t.shape, float("inf"))), *at),
        "theta value not a tensor": in_theta(with_value(first, 0.5), *at),
    }


@dataclass(frozen=True)
class Kind:
    """A file kind: where it lives, a valid object, its writer, the stage's loader, its corruptions."""

    path: str
    valid: Callable[[], Any]
    write: Callable[[Path, Any], None]
    load: Callable[[Path], Any]
    changes: dict[str, Callable[[Any], Any]] = field(default_factory=dict)


def load_table_rule(path: Path) -> Any:
    return load_theta(path, theta("table"), at=("thetas", "seed0"))


KINDS = {
    "dataset": Kind(
        "data/datasets/moons.npz",
        lambda: dict(MOONS),
        write_npz,
        lambda p: load_arrays(p, required=("x", "y", "is_test")),
        {
            "lacks x": without("x"),
            "lacks is_test": without("is_test"),
            "x 1D": with_value("x", lambda a: a[:, 0]),
            "z 3 columns": with_value("z", lambda a: np.concatenate([a, a[:, :1]], axis=1)),
            "y shorter": with_value("y", lambda a: a[:-1]),
            "is_test longer": with_value("is_test", lambda a: np.concatenate([a, a[:1]])),
            "projection other width": with_value("projection", lambda a: a[:, :-1]),
            "no points": lambda d: {k: (v[:0] if k != "projection" else v) for k, v in d.items()},
            "x integer": with_value("x", lambda a: a.astype(np.int64)),
            "y float": with_value("y", lambda a: a.astype(np.float32)),
            "is_test integer": with_value("is_test", lambda a: a.astype(np.int64)),
            "x string": with_value("x", lambda a: a.astype(str)),
            "x NaN": with_value("x", nan_at),
            "z infinite": with_value("z", lambda a: np.full_like(a, np.inf)),
            "negative labels": with_value("y", lambda a: a - 5),
            "no test points": with_value("is_test", lambda a: np.zeros_like(a)),
            "no training points": with_value("is_test", lambda a: np.ones_like(a)),
        },
    ),
    "latents": Kind(
        "data/latents/moons/hebb.npz",
        latents,
        write_npz,
        lambda p: load_latents(p, (N_TRAIN, N_TEST), views=("last",)),
        {
            "lacks seeds": without("seeds"),
            "lacks a view's test": without("concat.test"),
            "lacks the view last": lambda d: {
                **without("last.train")(without("last.test")(d)),
                "views": np.array(["concat"]),
            },
            "no views": with_value("views", np.array([], dtype=str)),
            "view 2D": with_value("last.train", lambda a: a[0]),
            "train and test widths differ": with_value("last.test", lambda a: a[..., :2]),
            "seeds shorter than views": with_value("seeds", lambda a: a[:1]),
            "views of other widths": with_value("concat.train", lambda a: a[..., :1]),
            "latents integer": with_value("last.train", lambda a: a.astype(np.int32)),
            "seeds float": with_value("seeds", lambda a: a.astype(np.float64)),
            "views not strings": with_value("views", np.array([1, 2])),
            "latents NaN": with_value("last.test", nan_at),
            "latents infinite": with_value("concat.train", lambda a: np.full_like(a, -np.inf)),
            "other training split": with_value("last.train", lambda a: a[:, :-1]),
            "other test split": lambda d: {
                **d,
                "last.test": d["last.test"][:, 1:],
                "concat.test": d["concat.test"][:, 1:],
            },
        },
    ),
    "raw latents": Kind(
        "data/latents/moons/raw.npz",
        lambda: {
            "seeds": np.array([0]),
            "views": np.array(["x"]),
            "x.train": MOONS["x"][~MOONS["is_test"]][None],
            "x.test": MOONS["x"][MOONS["is_test"]][None],
        },
        write_npz,
        lambda p: load_latents(p, (N_TRAIN, N_TEST)),
        {"x NaN": with_value("x.train", nan_at), "wrong split": with_value("x.test", lambda a: a[:, :3])},
    ),
    "rule": Kind(
        "data/rules/learned.pt",
        lambda: {"rule": "learned", "theta": theta()},
        save_torch,
        lambda p: load_rule("learned", RULES, RNN.T),
        {"not a dict": lambda d: torch.zeros(2), **theta_changes("learned", "theta")},
    ),
    "meta_compare rule": Kind(
        "data/meta_compare/table-es-ridge.pt",
        lambda: {"variant": "table-es-ridge", "thetas": {"seed0": theta("table")}},
        save_torch,
        load_table_rule,
        {"lacks thetas": without("thetas"), **theta_changes("table", "thetas", "seed0")},
    ),
    "generalisation row": Kind(
        "data/generalisation/moons.pt",
        lambda: {"rule": "learned", "datasets": ["moons"], "theta": theta(), "summary": {"loss": 0.1}},
        save_torch,
        lambda p: load_theta(p, theta()),
        {"summary NaN": with_value("summary", {"loss": float("nan")}), **theta_changes("learned", "theta")},
    ),
    "semi-supervised readout": Kind(
        "data/semi_supervised/moons_meta_readout.pt",
        lambda: {"theta": theta(), "sources": ["circles"]},
        save_torch,
        lambda p: load_theta(p, theta()),
        theta_changes("learned", "theta"),
    ),
    "backprop model": Kind(
        "data/models/moons/rnn.pt",
        lambda: {"state_dict": {"w": torch.ones(2, 3)}, "seeds": [0, 1]},
        save_torch,
        lambda p: load_torch(p, required=("state_dict", "seeds")),
        {
            "lacks state_dict": without("state_dict"),
            "not a dict": lambda d: [1, 2],
            "weights NaN": with_value("state_dict", {"w": torch.full((2, 3), float("nan"))}),
        },
    ),
    "evaluate metrics": Kind(
        "metrics/evaluate/moons/hebb.json",
        lambda: {"last": {"emd": {"mean": 0.5, "std": 0.1, "ci95": 0.1}, "svm_acc": {"n2": {"mean": 0.6}}}},
        write_json,
        lambda p: load_json(p, EVALUATE_KEYS),
        {
            "a list": lambda d: [d],
            "lacks emd": lambda d: {"last": {"svm_acc": d["last"]["svm_acc"]}},
            "no views": lambda d: {},
            "NaN": lambda d: {"last": {**d["last"], "emd": {"mean": float("nan")}}},
            "infinite": lambda d: {"last": {**d["last"], "svm_acc": float("inf")}},
        },
    ),
    "svm table": Kind(
        "metrics/evaluate/moons/hebb_svm.csv",
        lambda: pd.DataFrame(
            {"n_labels": [2, 4, 8], "accuracy": [0.6, 0.7, 0.8], "accuracy_std": [0.01] * 3}
        ),
        write_csv,
        lambda p: load_table(p, SVM_COLUMNS),
        {
            "lacks a column": lambda f: f.drop(columns="accuracy"),
            "text column": lambda f: f.assign(accuracy=["a", "b", "c"]),
            "no rows": lambda f: f.iloc[:0],
            "NaN": lambda f: f.assign(accuracy=[0.6, float("nan"), 0.8]),
        },
    ),
    "results text": Kind("reports/results.md", lambda: "# results\n\nsome text\n", save_text, load_text),
}

BYTES = {
    "random bytes": lambda valid: np.random.default_rng(1).bytes(512),
    "zero length": lambda valid: b"",
    "truncated": lambda valid: valid[: len(valid) // 2],
    "latin-1 text": lambda valid: "résumé".encode("latin-1"),
}
BYTE_KINDS = {  # which byte corruptions each kind can tell from a valid file
    "results text": ("random bytes", "latin-1 text"),
    "evaluate metrics": ("random bytes", "zero length", "truncated", "latin-1 text"),
}
CASES = [
    (kind, name)
    for kind in KINDS
    for name in [*BYTE_KINDS.get(kind, ("random bytes", "zero length", "truncated")), *KINDS[kind].changes]
]


def test_the_corpus_is_large():
    """The README quotes this count."""
    print(f"{len(CASES)} corrupted files over {len(KINDS)} kinds")
    assert len(CASES) >= 60


def make_case(root: Path, kind: str, name: str) -> Path:
    k = KINDS[kind]
    path = root / k.path
    if name in k.changes:
        k.write(path, k.changes[name](k.valid()))
    else:
        k.write(path, k.valid())
        path.write_bytes(BYTES[name](path.read_bytes()))
    return Path(k.path)


def assert_one_line(message: str, path: Path) -> None:
    assert "\n" not in message and str(path) in message and "dvc repro -f " in message, message


@pytest.mark.parametrize("kind, name", CASES, ids=[f"{k}: {n}" for k, n in CASES])
def test_a_corrupted_file_is_one_line_naming_it(tmp_path, monkeypatch, kind, name):
    monkeypatch.chdir(tmp_path)  # the loaders read pipeline paths relative to the repository root
    rel = make_case(tmp_path, kind, name)
    with pytest.raises(ArtifactError) as err:
        KINDS[kind].load(rel)
    assert_one_line(str(err.value), rel)


@pytest.mark.parametrize("kind", KINDS)
def test_the_valid_file_of_each_kind_loads(tmp_path, monkeypatch, kind):
    """The corpus breaks files the loaders accept, so each failure is the corruption's."""
    monkeypatch.chdir(tmp_path)
    k = KINDS[kind]
    k.write(tmp_path / k.path, k.valid())
    k.load(Path(k.path))


def test_a_directory_in_place_of_a_file_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for kind in ("dataset", "rule", "evaluate metrics", "svm table", "results text"):
        Path(KINDS[kind].path).mkdir(parents=True)
        with pytest.raises(ArtifactError, match="is a directory") as err:
            KINDS[kind].load(Path(KINDS[kind].path))
        assert_one_line(str(err.value), Path(KINDS[kind].path))


def test_a_view_name_from_the_file_cannot_break_the_line(tmp_path):
    path = tmp_path / "data/latents/moons/hebb.npz"
    save_arrays(path, seeds=np.array([0]), views=np.array(["a\nb" * 200]))
    with pytest.raises(ArtifactError) as err:
        load_latents(path)
    assert "\n" not in str(err.value) and len(str(err.value)) < 400


CHECKPOINTS = {
    "random bytes": lambda p: p.write_bytes(np.random.default_rng(2).bytes(300)),
    "zero length": lambda p: p.write_bytes(b""),
    "truncated": lambda p: (
        save_torch(p, {"fingerprint": "k", "step": 1}),
        p.write_bytes(p.read_bytes()[:40]),
    ),
    "not a dict": lambda p: save_torch(p, torch.zeros(3)),
    "lacks keys": lambda p: save_torch(p, {"fingerprint": "k", "step": 4}),
    "a directory": lambda p: p.mkdir(),
}


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_a_bad_checkpoint_is_a_fresh_start_with_a_warning(tmp_path, caplog, name):
    path = tmp_path / "data/checkpoints/meta_train_learned.pt"
    path.parent.mkdir(parents=True)
    CHECKPOINTS[name](path)
    with caplog.at_level(logging.WARNING):
        assert load_checkpoint(path, "k") is None
    assert str(path) in caplog.text and "starting from step 0" in caplog.text


# --- end to end: a real stage script on a corrupted input --------------------------------------------


def stage_dir(tmp: Path) -> Path:
    """A working copy with the real params and their valid moons dataset, so only the corrupted file is bad."""
    from metahebb.params import load_params

    (tmp / "stages").mkdir(parents=True)
    (tmp / "params.yaml").write_text((REPO / "params.yaml").read_text())
    for script in ("train_hebbian.py", "evaluate.py"):
        (tmp / "stages" / script).write_text((REPO / "stages" / script).read_text())
    save_arrays(
        tmp / KINDS["dataset"].path, **make_dataset("moons", load_params(tmp / "params.yaml").data).arrays()
    )
    return tmp


def short_latents(cwd: Path) -> Path:
    """hebb latents one training point short of the dataset's split."""
    n_train, n_test = split_sizes(load_arrays(cwd / KINDS["dataset"].path))
    rng = np.random.default_rng(0)
    path = Path(KINDS["latents"].path)
    save_latents(
        cwd / path, {"last": (rng.random((1, n_train - 1, 4)), rng.random((1, n_test, 4)))}, seeds=[0]
    )
    return path


def files(cwd: Path) -> set[Path]:
    return {
        p.relative_to(cwd) for root in ("data", "metrics") for p in (cwd / root).rglob("*") if p.is_file()
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind, name, args",
    [
        ("dataset", "random bytes", ["train_hebbian.py", "moons", "hebb"]),
        ("dataset", "no training points", ["train_hebbian.py", "moons", "hebb"]),
        ("rule", "theta wrong shape", ["train_hebbian.py", "moons", "learned"]),
        ("latents", "other training split", ["evaluate.py", "moons", "hebb"]),
    ],
)
def test_a_stage_given_a_corrupted_file_stops_with_one_line(tmp_path, kind, name, args):
    cwd = stage_dir(tmp_path)
    rel = short_latents(cwd) if kind == "latents" else make_case(cwd, kind, name)
    before = files(cwd)
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, f"stages/{args[0]}", *args[1:]], cwd=cwd, env=env, capture_output=True, text=True
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and str(rel) in lines[0] and "dvc repro -f " in lines[0], lines
    assert "Traceback" not in proc.stderr + proc.stdout
    assert files(cwd) == before  # nothing written, not even a temporary file
