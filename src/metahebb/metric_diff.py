"""CI-sized pipeline runs and the diff of their metrics, judged by per-metric tolerances.

A CI workspace is a copy of the repository (the work tree, or `git archive` of a revision) whose
params.yaml has `ci/params-overrides.yaml` merged in, reproduced from scratch with `dvc repro`.
Its JSON metrics are compared with a baseline (`ci/metrics/`, or the CI workspace of another
revision) under `ci/tolerances.yaml`: the first rule whose pattern matches `<file>:<key>`
(`<file>` relative to `metrics/`, `<key>` the dotted path inside the JSON) gives the tolerance and
which direction is better; a metric that moved beyond its tolerance in the bad direction is
flagged, and any flag is a failure.

    python -m metahebb.metric_diff run [--rev REV]     # work tree vs ci/metrics/ (or vs REV)
    python -m metahebb.metric_diff baseline            # regenerate ci/metrics/ from the work tree
    python -m metahebb.metric_diff workspace DEST [--rev REV]
    python -m metahebb.metric_diff compare OLD_METRICS NEW_METRICS
    python -m metahebb.metric_diff dvc-diff BASE_WS HEAD_WS --plots DIR
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

OVERRIDES = Path("ci/params-overrides.yaml")
TOLERANCES = Path("ci/tolerances.yaml")
BASELINE = Path("ci/metrics")
WORK = Path("ci/work")
OUTPUTS = (
    "data",
    "metrics",
    "reports",
    "dvc.lock",
    "ci/metrics",
)  # the full run's outputs never enter a CI run
DIRECTIONS = ("higher", "lower", "any", "ignore")


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
    workspace = Path(workspace).resolve()
    log = workspace.with_name(workspace.name + ".log")
    with log.open("w") as out:
        result = subprocess.run(
            [sys.executable, "-m", "dvc", "repro"],
            cwd=workspace,
            env=_env(workspace),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if result.returncode != 0:
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


# ---- metrics and tolerances


def flatten(value, prefix: str = "") -> dict[str, float]:
    """Every number in a JSON value, keyed by its dotted path (strings and nulls are skipped)."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    elif isinstance(value, bool | int | float):
        return {prefix: float(value)}
    else:
        return {}
    flat: dict[str, float] = {}
    for key, inner in items:
        flat.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def load_metrics(root: Path) -> dict[str, dict[str, float]]:
    """`{file relative to root: {dotted key: value}}` for every JSON file under root."""
    root = Path(root)
    if not root.is_dir():
        raise CIError(f"{root}: no metrics directory (make diff-baseline writes ci/metrics/)")
    return {
        path.relative_to(root).as_posix(): flatten(json.loads(path.read_text()))
        for path in sorted(root.rglob("*.json"))
    }


@dataclass(frozen=True)
class Rule:
    pattern: str
    better: str  # higher | lower | any (a change either way is bad) | ignore
    tolerance: float


def load_tolerances(path: Path) -> list[Rule]:
    """The rules of the tolerance file, in order; the first match wins, so the last is a catch-all."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    rules = []
    for i, entry in enumerate(raw.get("rules", [])):
        rule = Rule(
            str(entry["pattern"]), str(entry.get("better", "any")), float(entry.get("tolerance", 0.0))
        )
        if rule.better not in DIRECTIONS or not rule.tolerance >= 0:
            raise CIError(
                f"{path}: rules[{i}] ({rule.pattern}): better must be one of {', '.join(DIRECTIONS)} "
                f"and tolerance >= 0, got better={rule.better!r} tolerance={rule.tolerance}"
            )
        rules.append(rule)
    return rules


def match(rules: list[Rule], file: str, key: str) -> Rule:
    name = f"{file}:{key}"
    for rule in rules:
        if fnmatch.fnmatchcase(name, rule.pattern):
            return rule
    return Rule("(no rule)", "ignore", math.inf)


@dataclass(frozen=True)
class Row:
    file: str
    key: str
    old: float | None
    new: float | None
    rule: Rule

    @property
    def change(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def flag(self) -> str:
        """'' when fine; otherwise why this metric fails the check."""
        if self.rule.better == "ignore":
            return ""
        if self.new is None:
            return "missing"
        if self.old is None:
            return ""  # a new metric has nothing to degrade from
        change, tol = self.change, self.rule.tolerance
        worse = {"higher": -change, "lower": change, "any": abs(change)}[self.rule.better]
        return "worse" if worse > tol else ""


def compare(old: dict, new: dict, rules: list[Rule]) -> list[Row]:
    """One row per metric present on either side, in file then key order."""
    rows = []
    for file in sorted(set(old) | set(new)):
        before, after = old.get(file, {}), new.get(file, {})
        for key in sorted(set(before) | set(after)):
            rows.append(Row(file, key, before.get(key), after.get(key), match(rules, file, key)))
    return rows


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _direction(rule: Rule) -> str:
    return {"higher": "≥ -", "lower": "≤ +", "any": "±", "ignore": ""}[rule.better]


def markdown(rows: list[Row], show_all: bool = False) -> str:
    """The table of changed (or all, or flagged) metrics, flagged rows first, and a verdict line."""
    flagged = [r for r in rows if r.flag]
    shown = rows if show_all else [r for r in rows if r.flag or r.change != 0]
    shown = sorted(shown, key=lambda r: (not r.flag, r.file, r.key))
    lines = ["| path | metric | old | new | change | tolerance | flag |", "|---|---|---|---|---|---|---|"]
    for r in shown:
        change = "-" if r.change is None else f"{r.change:+.4g}"
        tol = "ignored" if r.rule.better == "ignore" else f"{_direction(r.rule)}{r.rule.tolerance:g}"
        flag = f"**{r.flag}**" if r.flag else ""
        lines.append(
            f"| {r.file} | {r.key} | {_number(r.old)} | {_number(r.new)} | {change} | {tol} | {flag} |"
        )
    changed = sum(1 for r in rows if r.change != 0)
    summary = f"{len(rows)} metrics, {changed} changed, {len(flagged)} beyond tolerance in the bad direction."
    if not shown:
        return f"No metric changed ({len(rows)} metrics).\n"
    return "\n".join(lines) + f"\n\n{summary}\n"


def verdict(rows: list[Row], baseline: str) -> str:
    flagged = [r for r in rows if r.flag]
    if not flagged:
        return f"OK: no metric degraded beyond its tolerance against {baseline}."
    names = ", ".join(f"{r.file}:{r.key}" for r in flagged[:5]) + (" ..." if len(flagged) > 5 else "")
    return (
        f"FAILED: {len(flagged)} metric(s) degraded beyond their tolerance ({TOLERANCES}) against "
        f"{baseline}: {names}. Fix the regression, or if the change is intended, regenerate the "
        "baseline with `make diff-baseline` and commit ci/metrics/."
    )


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


# ---- command line


def _check(old_dir: Path, new_dir: Path, tolerances: Path, baseline: str, show_all: bool) -> int:
    rows = compare(load_metrics(old_dir), load_metrics(new_dir), load_tolerances(tolerances))
    print(f"## Metric diff of the CI-sized pipeline against {baseline}\n")
    print(markdown(rows, show_all))
    message = verdict(rows, baseline)
    print(message)
    if any(r.flag for r in rows):
        print(message, file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m metahebb.metric_diff", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repo", type=Path, default=Path("."), help="the repository (default: .)")
    parser.add_argument("--tolerances", type=Path, default=None, help=f"default: <repo>/{TOLERANCES}")
    parser.add_argument("--all", action="store_true", help="list unchanged metrics too")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="CI-sized run of the work tree, diffed against ci/metrics/ or --rev")
    run.add_argument("--rev", default=None, help="compare with the CI-sized run of this git revision")
    run.add_argument("--work", type=Path, default=None, help=f"workspaces go here (default: <repo>/{WORK})")
    base = sub.add_parser("baseline", help="regenerate ci/metrics/ from a CI-sized run of the work tree")
    base.add_argument("--work", type=Path, default=None)
    ws = sub.add_parser("workspace", help="materialise and reproduce one CI workspace")
    ws.add_argument("dest", type=Path)
    ws.add_argument("--rev", default=None)
    cmp = sub.add_parser("compare", help="diff two metrics directories")
    cmp.add_argument("old", type=Path)
    cmp.add_argument("new", type=Path)
    cmp.add_argument("--label", default=None, help="what the old side is, for the messages")
    dd = sub.add_parser(
        "dvc-diff", help="dvc metrics/params diff (Markdown) and plots diff of two workspaces"
    )
    dd.add_argument("base", type=Path)
    dd.add_argument("head", type=Path)
    dd.add_argument("--plots", type=Path, default=None, help="write `dvc plots diff` here")
    args = parser.parse_args(argv)

    repo = args.repo.resolve()
    tolerances = args.tolerances or repo / TOLERANCES
    work = (getattr(args, "work", None) or repo / WORK).resolve()
    try:
        if args.command == "workspace":
            reproduce(materialise(repo, args.dest, args.rev))
            return 0
        if args.command == "compare":
            return _check(args.old, args.new, tolerances, args.label or str(args.old), args.all)
        if args.command == "dvc-diff":
            print(dvc_diffs(args.base, args.head, args.plots))
            return 0
        print(f"Reproducing the CI-sized pipeline of the work tree in {work / 'head'} ...", file=sys.stderr)
        head = materialise(repo, work / "head")
        reproduce(head)
        if args.command == "baseline":
            written = save_baseline(head, repo / BASELINE)
            print(f"Wrote {len(written)} metrics files to {repo / BASELINE}; commit them.", file=sys.stderr)
            return 0
        if args.rev is None:
            return _check(
                repo / BASELINE, head / "metrics", tolerances, f"the committed {BASELINE}", args.all
            )
        print(f"Reproducing the CI-sized pipeline of {args.rev} in {work / 'base'} ...", file=sys.stderr)
        old = materialise(repo, work / "base", args.rev)
        reproduce(old)
        return _check(old / "metrics", head / "metrics", tolerances, args.rev, args.all)
    except (CIError, OSError, subprocess.CalledProcessError, yaml.YAMLError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
