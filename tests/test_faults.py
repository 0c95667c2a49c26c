"""Faults at every kind of stage: SIGKILL right after a temporary file is created, before its
rename and after the first rename; SIGINT; a full disk; a file-size limit; an unwritable
directory. Each leaves every output whole (the old file or none), says one line and exits 2
where the stage survives, and the next run removes the stale temporary files and succeeds.

The stages run in forked children of this process (modules already imported, so a stage takes
a fraction of a second), each under a memory cap and a time bound, in a copy of a micro
pipeline built once per test process from dvc.yaml. `tests/test_interruption.py` kills a real
`meta_train` subprocess mid-run; `tests/test_entry_points.py` holds --help and wrong arguments.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import os
import re
import resource
import runpy
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import torch
import yaml

from metahebb import stage as stage_module

REPO = Path(__file__).resolve().parents[1]
ROOTS = stage_module.OUTPUT_ROOTS
# Merged onto the CI-sized params: the smallest pipeline every stage runs on (about 15 s in all);
# what the report compares (rnn and mlp, none and hebb, learned and learned_extended) stays in.
MICRO = {
    "datasets": ["circles", "moons"],
    "runtime": {"workers": 1},  # fan-out jobs in the stage's own process
    "backprop": {"seeds": [0]},
    "evaluate": {"svm_labels": [2, "all"], "svm_draws": 1, "emd_points": 20},
    "meta_train": {"datasets": ["circles", "moons"], "steps": 3, "population": 2, "batch_size": 4},
    "train_hebbian": {"rules": ["none", "hebb"], "seeds": [0], "epochs": 1},
    "semi_supervised": {"labels": [2], "curve_labels": 2, "draws": 1, "epochs": 1, "meta_steps": 2},
    "generalisation": {"sources": ["circles"], "targets": ["circles", "moons"], "labels": 2},
    "es": {"generations": 1, "population": 2},
    "meta_compare": {
        "variants": {"fixed": ["none"], "gradient": ["table-gradient-paper"], "es": []},
        "leave_one_out": {"fixed": [], "gradient": ["table-gradient-paper"], "es": []},
        "meta_seeds": [0],
        "targets": ["circles"],
        "labels": [2],
        "seeds": [0],
    },
}


def merged(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = merged(base[key], value) if both else value
    return out


def micro_params() -> dict:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params = merged(params, yaml.safe_load((REPO / "ci" / "params-overrides.yaml").read_text()))
    return merged(params, MICRO)


# ---- dvc.yaml as a list of commands, in an order that runs every stage after its inputs


class Stage(NamedTuple):
    name: str
    argv: list[str]
    params: list[str]
    deps: list[str]
    outs: list[str]


REF = re.compile(r"\$\{([\w.]+)\}")


def _lookup(params: dict, dotted: str):
    for part in dotted.split("."):
        params = params[part]
    return params


def _word(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)  # DVC writes `true`


def expand(params: dict, dvc_yaml: Path = REPO / "dvc.yaml") -> list[Stage]:
    """Every stage of dvc.yaml for these params, its foreach and matrix items expanded."""
    found = []
    for name, spec in yaml.safe_load(dvc_yaml.read_text())["stages"].items():
        body, items = spec, [("", {})]
        if "foreach" in spec:
            body = spec["do"]
            values = _lookup(params, REF.fullmatch(spec["foreach"]).group(1))
            items = [(_word(v), {"item": v}) for v in values]
        elif "matrix" in spec:
            axes = {
                k: _lookup(params, REF.fullmatch(v).group(1)) if isinstance(v, str) else v
                for k, v in spec["matrix"].items()
            }
            items = [
                ("-".join(map(_word, combo)), {f"item.{k}": v for k, v in zip(axes, combo, strict=True)})
                for combo in itertools.product(*axes.values())
            ]
        for suffix, ctx in items:

            def sub(text: str, ctx: dict = ctx) -> str:
                return REF.sub(lambda m: _word(ctx[m[1]] if m[1] in ctx else _lookup(params, m[1])), text)

            def paths(entries) -> list[str]:
                return [sub(e if isinstance(e, str) else next(iter(e))) for e in entries or []]

            outs = [p for key in ("outs", "metrics", "plots") for p in paths(body.get(key))]
            found.append(
                Stage(
                    f"{name}@{suffix}" if suffix else name,
                    sub(body["cmd"]).split()[1:],
                    [str(p) for p in body.get("params", [])],
                    paths(body.get("deps")),
                    outs,
                )
            )
    return ordered(found)


def _reads(a: Stage, b: Stage) -> bool:
    return any(d == o or d.startswith(f"{o}/") or o.startswith(f"{d}/") for d in a.deps for o in b.outs)


def ordered(stages: list[Stage]) -> list[Stage]:
    done, todo = [], list(stages)
    while todo:
        ready = next(s for s in todo if not any(_reads(s, t) for t in todo if t is not s))
        done.append(ready)
        todo.remove(ready)
    return done


# ---- a stage in a forked child, under a memory cap and a time bound


def preimport() -> None:
    """What the stages import, imported once here so that a forked stage starts in milliseconds."""
    import importlib
    import pkgutil

    import metahebb

    torch.set_num_threads(1)
    for name in (
        "torch._inductor",
        "scipy",
        "sklearn.svm",
        "sklearn.linear_model",
        "ot",
        "matplotlib.pyplot",
    ):
        importlib.import_module(name)
    for info in pkgutil.walk_packages(metahebb.__path__, "metahebb."):
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: S112 - a module that fails to import fails in its stage instead
            continue


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))


def _child(cwd: Path, argv: list[str], before: Callable[[], None] | None, memory: int, err: int) -> int:
    os.chdir(cwd)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the child ends with os._exit
    os.dup2(err, 2)
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    limit = _vm_size() + memory
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.argv = list(argv)
    if before is not None:
        before()
    try:
        runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        return 1
    return 0


def _drain(fd: int, chunks: list[bytes]) -> None:
    with contextlib.suppress(BlockingIOError):
        chunks.extend(iter(lambda: os.read(fd, 65536), b""))


def run_stage(
    cwd: Path,
    argv: list[str],
    before: Callable[[], None] | None = None,
    memory: int = 2**31,
    timeout: float = 120,
) -> tuple[int | None, str]:
    """(exit status, stderr) of `python <argv>` run in `cwd` by a forked child: -9 for SIGKILL,
    None when it ran past `timeout` (then killed). `before` runs in the child first (a fault)."""
    read, write = os.pipe()  # a pipe, not a file: a fault may limit file sizes
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read)
            code = _child(cwd, argv, before, memory, write)
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write)
    os.set_blocking(read, False)
    chunks, code, deadline = [], None, time.monotonic() + timeout
    while True:
        _drain(read, chunks)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
        time.sleep(0.005)
    _drain(read, chunks)
    os.close(read)
    return code, b"".join(chunks).decode(errors="replace")


def one_line(code: int | None, stderr: str) -> str:
    """The one `error: ...` line of a stage that stopped (the last; log and progress lines may
    come before it), asserting exit status 2 and no traceback."""
    lines = [line for line in re.split(r"[\r\n]+", stderr) if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert code == 2 and len(errors) == 1 and lines[-1] == errors[0], (code, stderr[-3000:])
    assert "Traceback" not in stderr and "out of memory" not in errors[0], stderr[-3000:]
    return errors[0]


# ---- the micro pipeline, built once per test process


_BUILT: dict[str, Path] = {}


def micro_pipeline(root: Path) -> Path:
    """A directory with stages/, the micro params and every stage's outputs (shared: copy it)."""
    if "micro" not in _BUILT:
        preimport()
        cwd = root / "micro"
        shutil.copytree(REPO / "stages", cwd / "stages", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(REPO / "benchmarks/results", cwd / "benchmarks/results")  # a dep of `report`
        params = micro_params()
        (cwd / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        for s in expand(params):
            code, err = run_stage(cwd, s.argv)
            assert code == 0, f"{s.name}: {err[-3000:]}"
        _BUILT["micro"] = cwd
    return _BUILT["micro"]


def clone(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, symlinks=True)
    return dest


def snapshot(cwd: Path) -> dict[str, str]:
    """sha256 of every output file, temporary files included."""
    return {
        p.relative_to(cwd).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for root in ROOTS
        for p in sorted((cwd / root).rglob("*"))
        if p.is_file()
    }


def temp_files(cwd: Path) -> list[Path]:
    return [p for root in ROOTS for p in (cwd / root).rglob(".*.tmp")]


def assert_whole(cwd: Path) -> None:
    """Every output a later stage could read loads (temporary files are never read)."""
    for root in ROOTS:
        for path in (cwd / root).rglob("*"):
            if not path.is_file() or path.name.endswith(".tmp"):
                continue
            if path.suffix == ".pt":
                torch.load(path, weights_only=True)
            elif path.suffix == ".npz":
                with np.load(path, allow_pickle=False) as data:
                    [data[k] for k in data.files]
            elif path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix in (".csv", ".md"):
                assert path.read_text().strip(), path
            elif path.suffix == ".png":
                assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path


# ---- faults, delivered from inside the child at exact points of an atomic write


def _is_output(path) -> bool:
    try:
        rel = Path(os.path.abspath(path)).relative_to(Path.cwd())
    except ValueError:
        return False
    return rel.parts[:1] and rel.parts[0] in ROOTS


def at_temp_created(action: Callable[[str], None]) -> Callable[[], None]:
    """`action(tmp)` right after the first temporary output file is created."""

    def before() -> None:
        real = tempfile.mkstemp

        def mkstemp(*args, **kwargs):
            fd, tmp = real(*args, **kwargs)
            if _is_output(tmp):
                action(tmp)
            return fd, tmp

        tempfile.mkstemp = mkstemp

    return before


def at_rename(action: Callable[[str], None], after: int = 0) -> Callable[[], None]:
    """`action(dst)` at the rename of a whole temporary file into place, once `after` renames are done."""

    def before() -> None:
        real, done = os.replace, []

        def replace(src, dst, *args, **kwargs):
            if _is_output(dst):
                if len(done) == after:
                    action(os.fspath(dst))
                done.append(dst)
            return real(src, dst, *args, **kwargs)

        os.replace = replace

    return before


def kill(_path: str) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def interrupt(_path: str) -> None:
    os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C: KeyboardInterrupt at the next bytecode


def fail_with(code: int) -> Callable[[str], None]:
    """A write that fails with `code` (a full disk, a read-only file system, a denied directory)."""

    def action(path: str) -> None:
        if path.endswith(".tmp") and os.path.exists(path):
            os.unlink(path)  # a failed mkstemp leaves no file
        raise OSError(code, os.strerror(code), path)

    return action


# ---- the tests

# One stage of each kind the pipeline has: data, backprop, frozen-rule and learned-rule training,
# meta-training, evaluation, the readout, figures, cross-task generalisation, comparison, report.
KINDS = [
    "make_data@circles",
    "train_backprop@circles-mlp",
    "train_hebbian@circles-hebb",
    "train_learned@circles-learned",
    "meta_train@learned",
    "evaluate_learned@circles-learned",
    "semi_supervised@circles",
    "figures",
    "generalisation",
    "meta_compare_fixed@none",
    "report",
]
CORE = KINDS[:5]


@pytest.fixture(scope="module")
def stages() -> dict[str, Stage]:
    return {s.name: s for s in expand(micro_params())}


@pytest.fixture(scope="module")
def micro(tmp_path_factory) -> Path:
    return micro_pipeline(tmp_path_factory.mktemp("faults"))


@pytest.fixture(scope="module")
def work(micro, tmp_path_factory) -> Path:
    """One copy shared by the tests of this module: each leaves it whole again."""
    return clone(micro, tmp_path_factory.mktemp("work") / "w")


def _age_temp_files(cwd: Path) -> list[Path]:
    stale = temp_files(cwd)
    old = time.time() - stage_module.STALE_SECONDS - 60
    for path in stale:
        os.utime(path, (old, old))
    return stale


def _owned(path: str, s: Stage) -> bool:
    return path.startswith("data/checkpoints/") or any(path == o or path.startswith(f"{o}/") for o in s.outs)


def assert_old_or_whole(cwd: Path, before: dict[str, str], s: Stage) -> None:
    """Every file is as it was, or a whole output of stage `s`; temporary files aside."""
    after = snapshot(cwd)
    changed = [p for p, h in after.items() if before.get(p) != h and not p.endswith(".tmp")]
    assert all(_owned(p, s) for p in changed), changed
    assert set(before) <= set(after), set(before) - set(after)  # no old output removed
    assert_whole(cwd)


def _killed_then_rerun(work: Path, s: Stage, fault: Callable[[], None]) -> None:
    before = snapshot(work)
    code, err = run_stage(work, s.argv, fault)
    assert code == -signal.SIGKILL, (code, err[-3000:])
    assert_old_or_whole(work, before, s)
    stale = _age_temp_files(work)
    code, err = run_stage(work, s.argv)
    assert code == 0, err[-3000:]
    assert not [p for p in stale if p.exists()] and not temp_files(work)
    assert_whole(work)


@pytest.mark.parametrize("name", KINDS)
def test_sigkill_right_after_a_temporary_file_is_created(work, stages, name):
    s = stages[name]
    _killed_then_rerun(work, s, at_temp_created(kill))


@pytest.mark.parametrize("name", CORE)
@pytest.mark.parametrize("after", [0, 1], ids=["before the first rename", "after the first rename"])
def test_sigkill_at_a_rename(work, stages, name, after):
    s = stages[name]
    if after and len(s.outs) < 2:
        pytest.skip("one output")
    _killed_then_rerun(work, s, at_rename(kill, after))


@pytest.mark.parametrize("name", KINDS)
def test_sigint_mid_write_is_one_line_and_leaves_the_old_outputs(work, stages, name):
    s = stages[name]
    before = snapshot(work)
    line = one_line(*run_stage(work, s.argv, at_rename(interrupt)))
    assert line.startswith("error: interrupted")
    assert snapshot(work) == before  # no new file, no temporary file, the old ones untouched


@pytest.mark.parametrize(
    "code, words",
    [(errno.ENOSPC, "no space left"), (errno.EROFS, "read-only"), (errno.EACCES, "permission denied")],
)
@pytest.mark.parametrize("name", CORE)
def test_a_full_disk_or_unwritable_directory_is_one_line(work, stages, name, code, words):
    s = stages[name]
    before = snapshot(work)
    for fault in (at_temp_created(fail_with(code)), at_rename(fail_with(code))):
        line = one_line(*run_stage(work, s.argv, fault))
        assert words in line and "then rerun" in line, line
        assert snapshot(work) == before


@pytest.mark.parametrize("name", KINDS)
def test_a_file_size_limit_is_one_line_for_every_writer(work, stages, name):
    """`ulimit -f`: the real writers (numpy, torch, pandas, matplotlib, text) fail mid-write."""
    s = stages[name]
    before = snapshot(work)

    def before_run() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

    line = one_line(*run_stage(work, s.argv, before_run))
    assert "file too large" in line, line
    assert_old_or_whole(work, before, s)  # outputs under 64 bytes were written, whole
    assert not temp_files(work)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_a_read_only_output_directory_is_one_line(work, stages):
    s = stages["make_data@circles"]
    before = snapshot(work)
    target = work / "data" / "datasets"
    target.chmod(0o555)
    try:
        line = one_line(*run_stage(work, s.argv))
    finally:
        target.chmod(0o755)
    assert "permission denied" in line
    assert snapshot(work) == before


@pytest.mark.slow
def test_a_real_sigkill_when_a_temporary_file_appears(work, stages):
    """Not planted: a real `python stages/meta_train.py` killed from outside as soon as it has a
    temporary file (a checkpoint or an output), at whatever point of the write that is."""
    import subprocess

    s = stages["meta_train@learned"]
    original = (work / "params.yaml").read_text()
    params = yaml.safe_load(original)
    params["meta_train"].update(steps=400, checkpoint_every=5)
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), OMP_NUM_THREADS="1")
    try:
        proc = subprocess.Popen([sys.executable, *s.argv], cwd=work, env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not temp_files(work) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert_whole(work)
        _age_temp_files(work)
        code, err = run_stage(work, s.argv)
        assert code == 0 and not temp_files(work), err[-3000:]
    finally:
        (work / "params.yaml").write_text(original)
        assert run_stage(work, s.argv)[0] == 0
