"""The whole params file checked at once: every group, then what groups say about each other.

    python -m metahebb.validate [params.yaml]

prints one line per problem (the key, the value, what is accepted) and exits 1, or prints
`params.yaml: valid`. Every stage runs the same check (without the data) when it starts,
through `metahebb.stage.run`, so a bad file stops the pipeline before anything is written.

In order: each group's schema, what the groups say about each other (`metahebb.consistency`),
then whether it fits the machine (`metahebb.limits`: sizes, and the memory of each stage's
largest allocation); the command's per-class label check draws the datasets, so it runs last.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from pathlib import Path
from typing import Any

from metahebb.consistency import cross_group_problems
from metahebb.limits import limit_problems
from metahebb.params import ParamError, Params, key_name, load_datasets, parse_group
from metahebb.params_file import clip, read_params_file

# Every group of the params root, in its order: the schema has one list of groups, not two.
GROUPS: dict[str, type] = {
    f.name: typing.get_type_hints(Params)[f.name] for f in dataclasses.fields(Params) if f.name != "datasets"
}
TOP_LEVEL = ("datasets", *GROUPS)


def _parse(raw: dict) -> tuple[dict[str, Any], list[str]]:
    """Every group that parses, and one line for each that does not."""
    groups: dict[str, Any] = {}
    problems = []
    unknown = sorted(set(raw) - set(TOP_LEVEL), key=str)
    problems += [f"{key_name(k)}: unknown group; accepted groups are {', '.join(TOP_LEVEL)}" for k in unknown]
    if "datasets" not in raw:
        problems.append("datasets: missing key (a list of dataset names)")
    else:
        try:
            groups["datasets"] = load_datasets(raw=raw)
        except ParamError as err:
            problems.append(str(err))
    for name, cls in GROUPS.items():
        if name not in raw:
            problems.append(f"{name}: missing group")
            continue
        try:
            groups[name] = parse_group(cls, raw[name], name)
        except ParamError as err:
            problems.append(str(err))
    return groups, problems


def problems(raw: dict, with_data: bool = False) -> list[str]:
    """One line per problem of the params `raw`; empty when it is valid.

    `with_data` also checks label counts per class, drawing each dataset's labels (about a second).
    """
    groups, found = _parse(raw)
    found += cross_group_problems(groups)
    found = found or limit_problems(groups)  # sizes and memory only once everything else holds
    if with_data and not found:  # drawing the labels allocates the datasets: only once they fit
        found = cross_group_problems(groups, with_data=True)
    return [clip(line) for line in found]  # a huge value is cut, never printed whole


def check_raw(raw: dict, with_data: bool = False) -> None:
    """Raise ParamError with the first problem of the params `raw`."""
    found = problems(raw, with_data)
    if found:
        raise ParamError(found[0])


def check(path: str | Path = "params.yaml", with_data: bool = False) -> None:
    """Raise ParamError with the first problem of the params file."""
    check_raw(read_params_file(path), with_data)


USAGE = "usage: python -m metahebb.validate [params.yaml]"


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(f"{USAGE}\n\n{__doc__.strip().splitlines()[0]}")
        return 0
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(
            f"{USAGE}\nerror: expected at most one params file, got {clip(' '.join(argv))}", file=sys.stderr
        )
        return 2
    path = argv[0] if argv else "params.yaml"
    try:
        found = problems(read_params_file(path), with_data=True)
    except ParamError as err:
        found = [str(err)]
    for line in found:
        print(f"error: {clip(line)}", file=sys.stderr)
    if found:
        return 1
    print(f"{path}: valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
