"""A stage killed at any moment leaves complete files or none; meta-training resumes exactly."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from tiny import META, RNN, RULES, STAB

from metahebb.artifacts import load_arrays, load_json, save_arrays
from metahebb.datasets import make_dataset
from metahebb.outer import checkpoint as meta_train_module
from metahebb.outer.gradient import meta_train
from metahebb.params import (
    DataParams,
    parse_group,
    read_params,
)
from metahebb.rules import make_rule

META = dataclasses.replace(META, reset_every=5)


def tiny_data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    proj = rng.standard_normal((2, 5))
    return {name: (rng.standard_normal((80, 2)) @ proj).astype(np.float32) for name in ("circles", "moons")}


class Killed(BaseException):
    """Stands for SIGKILL in-process: nothing after it runs, not even `except Exception`."""


def test_resumed_meta_training_ends_with_the_same_theta(tmp_path, monkeypatch):
    params = dataclasses.replace(META, steps=11, checkpoint_every=4)
    data = tiny_data()
    whole = meta_train(data, make_rule("learned", RULES, RNN.T), RNN, STAB, params, log_every=0)

    saves = []
    real_save = meta_train_module.save_torch

    def save_then_die(path, obj):
        real_save(path, obj)
        saves.append(obj["step"])
        if len(saves) == 2:
            raise Killed

    checkpoint = tmp_path / "checkpoints" / "meta_train_learned.pt"
    monkeypatch.setattr(meta_train_module, "save_torch", save_then_die)
    with pytest.raises(Killed):
        meta_train(
            data, make_rule("learned", RULES, RNN.T), RNN, STAB, params, log_every=0, checkpoint=checkpoint
        )
    assert saves == [4, 8] and torch.load(checkpoint, weights_only=True)["step"] == 8

    monkeypatch.setattr(meta_train_module, "save_torch", real_save)
    resumed = meta_train(
        data, make_rule("learned", RULES, RNN.T), RNN, STAB, params, log_every=0, checkpoint=checkpoint
    )
    assert resumed.theta.keys() == whole.theta.keys()
    for k in whole.theta:
        assert torch.equal(resumed.theta[k], whole.theta[k]), k
    for k in whole.history:
        np.testing.assert_array_equal(resumed.history[k], whole.history[k])
    assert resumed.summary == whole.summary


def test_a_checkpoint_of_other_params_is_ignored(tmp_path):
    data = tiny_data()
    params = dataclasses.replace(META, steps=6, checkpoint_every=2)
    checkpoint = tmp_path / "meta_train_learned.pt"
    other = dataclasses.replace(params, lr=0.5, steps=7)  # leaves a checkpoint at step 6
    meta_train(data, make_rule("learned", RULES, RNN.T), RNN, STAB, other, log_every=0, checkpoint=checkpoint)
    assert checkpoint.exists()
    fresh = meta_train(data, make_rule("learned", RULES, RNN.T), RNN, STAB, params, log_every=0)
    again = meta_train(
        data, make_rule("learned", RULES, RNN.T), RNN, STAB, params, log_every=0, checkpoint=checkpoint
    )
    for k in fresh.theta:
        assert torch.equal(again.theta[k], fresh.theta[k])
    checkpoint.write_bytes(b"not a checkpoint")  # unreadable: a fresh start, not a crash
    again = meta_train(
        data, make_rule("learned", RULES, RNN.T), RNN, STAB, params, log_every=0, checkpoint=checkpoint
    )
    for k in fresh.theta:
        assert torch.equal(again.theta[k], fresh.theta[k])


# ---- the real stage, killed with SIGKILL

STAGE_PARAMS = {
    "datasets": ["circles", "moons"],
    "data": {"n_samples": 120},
    "kcap_rnn": {"m": 16, "k": 4},
    "meta_train": {
        "rules": ["learned", "learned_extended"],  # the report compares both
        "datasets": ["circles", "moons"],
        "steps": 600,
        "population": 4,
        "reset_every": 50,
        "batch_size": 8,
        "checkpoint_every": 25,
    },
    "generalisation": {"sources": ["circles"], "targets": ["circles", "moons"], "labels": 8},
    "evaluate": {"svm_labels": [2, 8, "all"]},
    "semi_supervised": {"labels": [2, 8], "curve_labels": 8},
    "meta_compare": {"targets": ["circles", "moons"]},
}


def stage_dir(repo: Path, tmp: Path) -> Path:
    tmp.mkdir(parents=True)
    params = read_params(repo / "params.yaml")
    for group, overrides in STAGE_PARAMS.items():
        if isinstance(overrides, dict):
            params[group].update(overrides)
        else:
            params[group] = overrides
    (tmp / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (tmp / "stages").mkdir()
    (tmp / "stages" / "meta_train.py").write_text((repo / "stages" / "meta_train.py").read_text())
    data = parse_group(DataParams, params["data"], "data")
    for ds in params["datasets"]:
        save_arrays(tmp / "data" / "datasets" / f"{ds}.npz", **make_dataset(ds, data).arrays())
    return tmp


def start(cwd: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    args = [sys.executable, "stages/meta_train.py", "learned"]
    return subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def start_until_checkpoint(cwd: Path, checkpoint: Path) -> subprocess.Popen:
    """The stage started, and still running once its first checkpoint is on disk."""
    proc = start(cwd)
    deadline = time.monotonic() + 60
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, f"finished before its first checkpoint:\n{proc.communicate()[0]}"
    return proc


def assert_complete(cwd: Path) -> None:
    """Every file a later stage could read is whole (temporary files are never read)."""
    for path in (cwd / "data").rglob("*"):
        if path.is_dir() or path.name.endswith(".tmp"):
            continue
        if path.suffix == ".pt":
            torch.load(path, weights_only=True)
        elif path.suffix == ".npz":
            load_arrays(path)
    for path in (cwd / "metrics").rglob("*.json"):
        load_json(path)


@pytest.mark.slow
def test_a_killed_meta_train_stage_resumes_to_the_same_theta(repo, tmp_path):
    cwd = stage_dir(repo, tmp_path / "killed")
    checkpoint = cwd / "data" / "checkpoints" / "meta_train_learned.pt"
    proc = start_until_checkpoint(cwd, checkpoint)
    time.sleep(0.05)  # somewhere inside the next checkpoint interval
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (cwd / "data" / "rules" / "learned.pt").exists() and not (cwd / "metrics").exists()
    assert_complete(cwd)
    killed_at = torch.load(checkpoint, weights_only=True)["step"]
    assert 0 < killed_at < 600

    out, _ = start(cwd).communicate()
    assert f"resuming after step {killed_at}" in out, out
    assert not checkpoint.exists()  # deleted once the outputs are written
    assert_complete(cwd)
    resumed = torch.load(cwd / "data" / "rules" / "learned.pt", weights_only=True)["theta"]

    whole_dir = stage_dir(repo, tmp_path / "whole")
    params = yaml.safe_load((whole_dir / "params.yaml").read_text())
    params["meta_train"]["checkpoint_every"] = 0
    (whole_dir / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out, _ = start(whole_dir).communicate()
    whole = torch.load(whole_dir / "data" / "rules" / "learned.pt", weights_only=True)["theta"]
    for k in whole:
        assert torch.equal(resumed[k], whole[k]), k
    assert (cwd / "metrics" / "meta_train" / "learned.csv").read_text() == (
        whole_dir / "metrics" / "meta_train" / "learned.csv"
    ).read_text()
