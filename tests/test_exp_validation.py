"""`dvc exp run -S` cannot bypass validation: an invalid value fails before any stage writes.

A changed value reruns the stages that track it and always `report` (it depends on the whole
params.yaml); each stage validates the whole file first, so whichever runs first stops the
experiment with the one-line message, also for a key that no stage reads (`runtime.workers`).
The micro pipeline (tests/test_faults.py) is put under git and DVC as if `dvc repro` had made it
(`dvc commit -f` records every stage), so only the experiment's own stages run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_faults import REPO, micro_pipeline, snapshot


def _env(cwd: Path) -> dict:
    env = dict(os.environ, DVC_NO_ANALYTICS="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t")
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t", PYTHONPATH=str(cwd / "src"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `python` in dvc.yaml is ours
    return env


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=_env(cwd), capture_output=True, text=True, timeout=300)


def _ok(cwd: Path, *args: str) -> str:
    result = _run(cwd, *args)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def dvc(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


@pytest.fixture(scope="module")
def repo_done(tmp_path_factory) -> Path:
    """A git + DVC repository whose whole micro pipeline is up to date."""
    cwd = tmp_path_factory.mktemp("exp") / "repo"
    shutil.copytree(micro_pipeline(tmp_path_factory.mktemp("micro")), cwd, symlinks=True)
    shutil.copytree(REPO / "src", cwd / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("dvc.yaml", ".dvcignore", ".gitignore"):
        shutil.copy(REPO / name, cwd / name)
    _ok(cwd, "git", "init", "-q")
    _ok(cwd, *dvc("init", "-q"))
    _ok(cwd, *dvc("commit", "-f", "-q"))  # every stage recorded as run, from the outputs at hand
    _ok(cwd, "git", "add", "-A")
    _ok(cwd, "git", "commit", "-q", "-m", "micro pipeline")
    assert "up to date" in _ok(cwd, *dvc("status"))
    return cwd


@pytest.mark.slow
@pytest.mark.parametrize(
    "setting, message",
    [
        ("runtime.workers=-3", "error: runtime.workers=-3: accepted values are"),  # read by no stage
        ("evaluate.svm_c=-1", "error: evaluate.svm_c=-1.0: accepted values are > 0.0"),
        ("meta_train.checkpoint_every=-1", "error: meta_train.checkpoint_every=-1: accepted values are"),
        ("train_hebbian.rules=[hebb]", "error: semi_supervised.baseline_rule='none': no rule of"),
    ],
)
def test_an_invalid_experiment_fails_before_any_stage_writes(repo_done, tmp_path, setting, message):
    cwd = shutil.copytree(repo_done, tmp_path / "repo", symlinks=True)
    before = snapshot(cwd)
    result = _run(cwd, *dvc("exp", "run", "-S", setting))
    assert result.returncode != 0, result.stdout
    errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("error: ")]
    assert errors and errors[0].startswith(message), result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    after = snapshot(cwd)
    assert {p: h for p, h in after.items() if p in before} == {p: before[p] for p in after if p in before}
    assert set(after) <= set(before)  # nothing written; DVC may have removed a stale stage's outputs
    refs = _ok(cwd, "git", "for-each-ref", "--format=%(refname)", "refs/exps").split()
    assert [r for r in refs if not r.startswith("refs/exps/exec/")] == []  # no experiment recorded
