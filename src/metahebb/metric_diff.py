"""CI-sized pipeline runs and the diff of their metrics, judged by per-metric tolerances.

The JSON metrics of a CI workspace (`ci_workspace`: the pipeline reproduced from scratch at CI
size) are compared with a baseline (`ci/metrics/`, or the CI workspace of another revision)
under `ci/tolerances.yaml`: the first entry whose pattern matches `<file>:<key>`
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
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from metahebb.ci_workspace import (
    CIError,
    dvc_diffs,
    materialise,
    reproduce,
    reproduce_together,
    save_baseline,
)

TOLERANCES = Path("ci/tolerances.yaml")
BASELINE = Path("ci/metrics")
WORK = Path("ci/work")
DIRECTIONS = ("higher", "lower", "any", "ignore")


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
class Tolerance:
    """How far a metric whose `<file>:<key>` matches `pattern` may move, and which way is better."""

    pattern: str
    better: str  # higher | lower | any (a change either way is bad) | ignore
    limit: float  # the file's `tolerance`


def load_tolerances(path: Path) -> list[Tolerance]:
    """The entries of the tolerance file, in order; the first match wins, so the last is a catch-all."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    tolerances = []
    for i, entry in enumerate(raw.get("rules", [])):
        tol = Tolerance(
            str(entry["pattern"]), str(entry.get("better", "any")), float(entry.get("tolerance", 0.0))
        )
        if tol.better not in DIRECTIONS or not tol.limit >= 0:
            raise CIError(
                f"{path}: rules[{i}] ({tol.pattern}): better must be one of {', '.join(DIRECTIONS)} "
                f"and tolerance >= 0, got better={tol.better!r} tolerance={tol.limit}"
            )
        tolerances.append(tol)
    return tolerances


def match(tolerances: list[Tolerance], file: str, key: str) -> Tolerance:
    name = f"{file}:{key}"
    for tol in tolerances:
        if fnmatch.fnmatchcase(name, tol.pattern):
            return tol
    return Tolerance("(no rule)", "ignore", math.inf)


@dataclass(frozen=True)
class Row:
    file: str
    key: str
    old: float | None
    new: float | None
    tolerance: Tolerance

    @property
    def change(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def flag(self) -> str:
        """'' when fine; otherwise why this metric fails the check."""
        if self.tolerance.better == "ignore":
            return ""
        if self.new is None:
            return "missing"
        if self.old is None:
            return ""  # a new metric has nothing to degrade from
        change, tol = self.change, self.tolerance.limit
        worse = {"higher": -change, "lower": change, "any": abs(change)}[self.tolerance.better]
        return "worse" if worse > tol else ""


def compare(old: dict, new: dict, tolerances: list[Tolerance]) -> list[Row]:
    """One row per metric present on either side, in file then key order."""
    rows = []
    for file in sorted(set(old) | set(new)):
        before, after = old.get(file, {}), new.get(file, {})
        for key in sorted(set(before) | set(after)):
            rows.append(Row(file, key, before.get(key), after.get(key), match(tolerances, file, key)))
    return rows


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _direction(tol: Tolerance) -> str:
    return {"higher": "≥ -", "lower": "≤ +", "any": "±", "ignore": ""}[tol.better]


def markdown(rows: list[Row], show_all: bool = False) -> str:
    """The table of changed (or all, or flagged) metrics, flagged rows first, and a verdict line."""
    flagged = [r for r in rows if r.flag]
    shown = rows if show_all else [r for r in rows if r.flag or r.change != 0]
    shown = sorted(shown, key=lambda r: (not r.flag, r.file, r.key))
    lines = ["| path | metric | old | new | change | tolerance | flag |", "|---|---|---|---|---|---|---|"]
    for r in shown:
        change = "-" if r.change is None else f"{r.change:+.4g}"
        tol = (
            "ignored" if r.tolerance.better == "ignore" else f"{_direction(r.tolerance)}{r.tolerance.limit:g}"
        )
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


def _parser() -> argparse.ArgumentParser:
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
        head = materialise(repo, work / "head")
        if args.command == "baseline":
            print(f"Reproducing the CI-sized pipeline of the work tree in {head} ...", file=sys.stderr)
            reproduce(head)
            written = save_baseline(head, repo / BASELINE)
            print(f"Wrote {len(written)} metrics files to {repo / BASELINE}; commit them.", file=sys.stderr)
            return 0
        if args.rev is None:
            print(f"Reproducing the CI-sized pipeline of the work tree in {head} ...", file=sys.stderr)
            reproduce(head)
            return _check(
                repo / BASELINE, head / "metrics", tolerances, f"the committed {BASELINE}", args.all
            )
        old = materialise(repo, work / "base", args.rev)
        print(
            f"Reproducing the CI-sized pipelines of the work tree and {args.rev} side by side ...",
            file=sys.stderr,
        )
        reproduce_together([head, old])
        return _check(old / "metrics", head / "metrics", tolerances, args.rev, args.all)
    except (CIError, OSError, subprocess.CalledProcessError, yaml.YAMLError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
