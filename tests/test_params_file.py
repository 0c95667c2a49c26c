"""Any bytes at all in place of params.yaml: one line, quickly, in bounded memory, nothing written."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metahebb import params_file, validate
from metahebb.params import ParamError

VALID = Path(__file__).resolve().parents[1] / "params.yaml"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)

CASES = {
    "not utf-8": (b"datasets: [circles]\nnoise: \xff\xfe\n", "not UTF-8 text"),
    "nul bytes": (b"\x00\x00\x00", "not"),
    "random bytes": (bytes(range(256)) * 8, "not UTF-8 text"),
    "empty": (b"", "expected a mapping of parameter groups"),
    "a list": (b"- 1\n- 2\n", "expected a mapping of parameter groups, got list"),
    "a scalar": (b"42\n", "got int"),
    "not yaml": (b"datasets: [circles\n", "not valid YAML"),
    "tab indentation": (b"data:\n\tseed: 1\n", "not valid YAML"),
    "alias bomb": (BOMB.encode(), "YAML aliases (*name) are not accepted"),
    "deep nesting": (b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested deeper than 16 levels"),
    "deep mappings": (
        ("".join(f"{' ' * i}k{i}:\n" for i in range(40)) + " " * 40 + "v: 1\n").encode(),
        "nested deeper",
    ),
    "duplicate group": (VALID.read_bytes() + b"\ndata:\n  seed: 1\n", "duplicate key 'data'"),
    "duplicate key in a group": (b"runtime:\n  threads: 1\n  threads: 2\n", "duplicate key 'threads'"),
    "too large": (
        b"# " + b"x" * (params_file.MAX_FILE_BYTES + 10) + b"\n",
        "bytes; a params file has at most",
    ),
    "huge value": (
        VALID.read_bytes().replace(b"seeds: [0, 1, 2, 3, 4]", b"seeds: " + b"[" + b"x," * 50_000 + b"]", 1),
        "",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_any_bytes_give_one_bounded_line(tmp_path, name):
    data, needle = CASES[name]
    path = tmp_path / "params.yaml"
    path.write_bytes(data)
    start = time.perf_counter()
    with pytest.raises(ParamError) as err:
        validate.check(path)
    message = str(err.value)
    assert time.perf_counter() - start < 5.0
    assert "\n" not in message and len(message) <= params_file.MAX_LINE, message[:500]
    assert needle in message, message


def test_a_directory_or_a_missing_file_is_one_line(tmp_path):
    (tmp_path / "params.yaml").mkdir()
    with pytest.raises(ParamError, match="not a regular file"):
        validate.check(tmp_path / "params.yaml")
    with pytest.raises(ParamError, match="file not found"):
        validate.check(tmp_path / "nothing.yaml")


def test_the_real_file_still_validates():
    validate.check(VALID)


def test_the_command_answers_help_and_wrong_arguments_with_a_usage_line(repo):
    run = [sys.executable, "-m", "metahebb.validate"]
    ok = subprocess.run([*run, "--help"], cwd=repo, capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("usage: python -m metahebb.validate")
    bad = subprocess.run([*run, "a.yaml", "b.yaml"], cwd=repo, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("usage:") and "Traceback" not in bad.stderr


@pytest.mark.parametrize("name", ["alias bomb", "duplicate group", "not utf-8"])
def test_a_stage_refuses_the_file_before_writing_anything(repo, tmp_path, name):
    shutil.copytree(repo / "stages", tmp_path / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "params.yaml").write_bytes(CASES[name][0])
    result = subprocess.run(
        [sys.executable, "stages/make_data.py", "circles"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and CASES[name][1] in line
    assert not (tmp_path / "data").exists()
