"""CI workspaces: a fresh git + DVC copy of the repository at CI size, reproduced from scratch.

A CI workspace is a copy of the repository (the work tree, or `git archive` of a revision) whose
params.yaml has `ci/params-overrides.yaml` merged in and none of the full run's outputs, so
`dvc repro` in it recomputes every stage with the workspace's own code. `metric_diff` compares
the metrics of two of them, or of one against the committed baseline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

OVERRIDES = Path("ci/params-overrides.yaml")
OUTPUTS = (
    "data",
    "metrics",
    "reports",
    "dvc.lock",
    "ci/metrics",
)  # the full run's outputs never enter a CI run


class CIError(RuntimeError):
    """A CI run or comparison could not be done; the message says why and what to do."""


# ---- params


def merge_overrides(params: dict, overrides: dict, where: str = "") -> dict:
    """`params` with `overrides` merged in, mapping by mapping; every overridden key must exist."""
    merged = dict(params)
    for key, value in overrides.items():
        name = f"{where}{key}"
        if key not in params:
            raise CIError(f"{OVERRIDES}: {name} is not a key of params.yaml (update the overrides)")
        if isinstance(value, dict) and isinstance(params[key], dict):
            merged[key] = merge_overrides(params[key], value, f"{name}.")
        else:
            merged[key] = value
    return merged


def ci_params(params_path: Path, overrides_path: Path) -> dict:
    """The CI-sized params: params.yaml with the overrides merged in."""
    params = yaml.safe_load(Path(params_path).read_text())
    overrides = yaml.safe_load(Path(overrides_path).read_text()) or {}
    return merge_overrides(params, overrides)


# ---- workspaces


def _env(workspace: Path | None = None) -> dict:
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    env.update(GIT_AUTHOR_NAME="ci", GIT_AUTHOR_EMAIL="ci@localhost")
    env.update(GIT_COMMITTER_NAME="ci", GIT_COMMITTER_EMAIL="ci@localhost")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `python` in dvc.yaml is ours
    if workspace is not None:  # the workspace's own code, not the editable install's
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(workspace / "src"), env.get("PYTHONPATH")]))
    return env


def _run(args: list[str], cwd: Path, workspace: Path | None = None, **kwargs) -> str:
    result = subprocess.run(args, cwd=cwd, env=_env(workspace), capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise CIError(f"`{' '.join(args)}` failed in {cwd} (exit {result.returncode}):\n{tail}")
    return result.stdout


def _copy_source(repo: Path, dest: Path, rev: str | None) -> None:
    if rev is None:  # the work tree: tracked and untracked files that git does not ignore
        listing = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], repo)
        for name in filter(None, listing.split("\0")):
            source = repo / name
            if source.is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest / name)
        return
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "archive", "--format=tar", rev], cwd=repo, stdout=archive, check=True)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(dest, filter="data")


def materialise(repo: Path, dest: Path, rev: str | None = None, overrides: Path | None = None) -> Path:
    """A fresh git + DVC repository at `dest`: the source of `rev` (or the work tree), CI-sized params.

    The overrides always come from `repo`'s work tree, so a base revision that predates them (or
    changed them) runs at the same size as the head.
    """
    repo, dest = Path(repo).resolve(), Path(dest).resolve()
    overrides = Path(overrides) if overrides else repo / OVERRIDES
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    _copy_source(repo, dest, rev)
    for name in OUTPUTS:
        path = dest / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    params = ci_params(dest / "params.yaml", overrides)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    _run(["git", "init", "-q"], dest)
    if not (dest / ".dvc").is_dir():
        _run([sys.executable, "-m", "dvc", "init", "-q"], dest)
    _run(["git", "add", "-A"], dest)
    _run(["git", "commit", "-q", "-m", f"CI-sized run of {rev or 'the work tree'}"], dest)
    return dest


def reproduce(workspace: Path) -> None:
    """`dvc repro` in the workspace, with its own code; the log goes to `<workspace>.log`."""
    reproduce_together([workspace])


def reproduce_together(workspaces: list[Path]) -> None:
    """`dvc repro` in every workspace at once, each with its own code and `<workspace>.log`.

    Why at once: a CI-sized pipeline is ~90 stages of one-core Python start-up, so two runs side
    by side on 2 cores take little more than one (the determinism test needs two).
    """
    running = []
    for workspace in map(lambda w: Path(w).resolve(), workspaces):
        log = workspace.with_name(workspace.name + ".log")
        out = log.open("w")
        command = [sys.executable, "-m", "dvc", "repro"]
        process = subprocess.Popen(
            command, cwd=workspace, env=_env(workspace), stdout=out, stderr=subprocess.STDOUT
        )
        running.append((workspace, log, out, process))
    failed = []
    for workspace, log, out, process in running:
        if process.wait() != 0:
            failed.append((workspace, log))
        out.close()
    if failed:
        workspace, log = failed[0]
        tail = "\n".join(log.read_text().strip().splitlines()[-20:])
        raise CIError(f"dvc repro failed in {workspace} (full log: {log}):\n{tail}")


def save_baseline(workspace: Path, dest: Path) -> list[Path]:
    """Replace the JSON metrics under `dest` by the workspace's (`metrics/**/*.json`)."""
    source = Path(workspace) / "metrics"
    if Path(dest).exists():
        shutil.rmtree(dest)
    written = []
    for path in sorted(source.rglob("*.json")):
        target = Path(dest) / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        written.append(target)
    return written


# ---- dvc's own diffs between two workspaces


def dvc_diffs(base: Path, head: Path, plots: Path | None = None) -> str:
    """`dvc metrics diff` and `dvc params diff` (Markdown) of head against base, and `dvc plots diff`.

    Both are recorded as commits of one scratch repository, so DVC compares them as revisions.
    """
    base, head = Path(base).resolve(), Path(head).resolve()
    tracked = ("params.yaml", "dvc.yaml", "dvc.lock", "metrics", "reports")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        _run(["git", "init", "-q"], scratch)
        _run([sys.executable, "-m", "dvc", "init", "-q"], scratch)
        for i, source in enumerate((base, head)):
            for name in tracked:
                target = scratch / name
                if target.is_dir():
                    shutil.rmtree(target)
                if (source / name).is_dir():
                    shutil.copytree(source / name, target)
                elif (source / name).exists():
                    shutil.copy2(source / name, target)
            if i == 0:
                _run(["git", "add", "-A"], scratch)
                _run(["git", "commit", "-q", "-m", "base"], scratch)
        metrics = _run([sys.executable, "-m", "dvc", "metrics", "diff", "HEAD", "--md"], scratch)
        params = _run([sys.executable, "-m", "dvc", "params", "diff", "HEAD", "--md"], scratch)
        if plots is not None:
            plots = Path(plots).resolve()
            _run([sys.executable, "-m", "dvc", "plots", "diff", "HEAD", "--out", str(plots)], scratch)

    def table(text: str, empty: str) -> str:  # dvc prints only the header when nothing changed
        return text.strip() if len(text.strip().splitlines()) > 2 else empty

    return (
        f"### dvc metrics diff\n\n{table(metrics, 'No metric changed.')}\n\n"
        f"### dvc params diff\n\n{table(params, 'No param changed.')}\n"
    )
