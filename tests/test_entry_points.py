"""Every stage script: --help, a usage line for wrong arguments, one line for Ctrl-C, a full disk
or an unwritable directory, and no partial output or stale temporary file after any of them."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_interruption import stage_dir, start_until_checkpoint

from metahebb import artifacts, stage

STAGES = sorted(p.name for p in (Path(__file__).resolve().parents[1] / "stages").glob("*.py"))


def _run(repo: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, f"stages/{script}", *args], cwd=repo, capture_output=True, text=True
    )


@pytest.mark.parametrize("script", STAGES)
def test_help_prints_the_usage(repo, script):
    result = _run(repo, script, "--help")
    assert result.returncode == 0 and result.stdout.startswith(f"usage: python stages/{script}"), result
    assert not result.stderr


@pytest.mark.parametrize("script", STAGES)
def test_wrong_arguments_get_one_usage_line(repo, script):
    for args in (("a", "b", "c"), ("--bogus",)):
        result = _run(repo, script, *args)
        assert result.returncode == 2, result
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: wrong arguments") and f"usage: python stages/{script}" in line


def _fake_stage(monkeypatch, repo, tmp_path, main, argv=()):
    monkeypatch.chdir(repo)  # the real params.yaml validates
    monkeypatch.setattr(sys, "argv", ["stages/fake.py", *argv])
    fake = type(sys)("__main__")
    fake.__doc__ = "A stage for the test.\n\npython stages/fake.py\n"
    monkeypatch.setitem(sys.modules, "__main__", fake)
    with pytest.raises(SystemExit) as exit_:
        stage.run(main)
    return exit_.value.code


def test_ctrl_c_is_one_line(monkeypatch, repo, tmp_path, capsys):
    def main(argv):
        raise KeyboardInterrupt

    assert _fake_stage(monkeypatch, repo, tmp_path, main) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: interrupted")


@pytest.mark.parametrize(
    "code, words",
    [(errno.ENOSPC, "no space left"), (errno.EROFS, "read-only"), (errno.EACCES, "permission denied")],
)
def test_a_full_disk_or_unwritable_directory_is_one_line_and_leaves_nothing(
    monkeypatch, repo, tmp_path, capsys, code, words
):
    """The writer fails mid-write (a patched `np.savez_compressed`): one line, no file, no temp file."""
    target = tmp_path / "out" / "x.npz"

    def full(*args, **kwargs):
        Path(args[0].name).write_bytes(b"half")  # some bytes reached the temporary file
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(artifacts.np, "savez_compressed", full)

    def main(argv):
        artifacts.save_arrays(target, x=[1.0])

    assert _fake_stage(monkeypatch, repo, tmp_path, main) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and words in line
    assert list((tmp_path / "out").iterdir()) == []  # neither x.npz nor its temporary file


def test_stale_temporary_files_of_a_killed_stage_are_removed_on_the_next_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = tmp_path / "data" / "rules" / ".learned.pt.abc123.tmp"
    new = tmp_path / "metrics" / ".m.json.def456.tmp"
    for path in (old, new):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"partial")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert stage.remove_stale_temp_files() == 1  # a fresh one may belong to a stage still writing
    assert not old.exists() and new.exists()


@pytest.mark.slow
def test_sigint_stops_a_real_stage_with_one_line_and_no_output(repo, tmp_path):
    cwd = stage_dir(repo, tmp_path / "interrupted")
    checkpoint = cwd / "data" / "checkpoints" / "meta_train_learned.pt"
    proc = start_until_checkpoint(cwd, checkpoint)
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    assert out.strip().splitlines()[-1].startswith("error: interrupted") and "Traceback" not in out
    assert not (cwd / "data" / "rules").exists() and not (cwd / "metrics").exists()
