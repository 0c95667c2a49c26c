"""The schema machinery: a field's accepted range beside it, one-line errors, groups parsed from YAML.

A group is a frozen dataclass whose fields carry `field(metadata=spec(...))`; `parse_group` builds
it from the params file's mapping and raises `ParamError` (one line naming the key, the value and
what is accepted) for an unknown, missing, mistyped or out-of-range key, then calls the group's
`check()` for cross-field rules. `choices` may be a function: the registries own their names
(`metahebb.names`), and the schema asks them when it checks.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml

MAX_SEED = 2**32 - 1  # numpy and torch generators accept every seed up to here


class ParamError(ValueError):
    """A bad value in params.yaml; the message is the single line the user sees."""


def spec(
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple | Callable[[], tuple] | None = None,
    nonempty: bool = False,
    unique: bool = False,
) -> dict:
    """Accepted range of a field, checked for scalars and for every item of a list."""
    return {
        "ge": ge,
        "gt": gt,
        "le": le,
        "lt": lt,
        "choices": choices,
        "nonempty": nonempty,
        "unique": unique,
    }


def choices_of(rule: dict) -> tuple | None:
    """A field's accepted choices; a function (a registry's names) is asked now."""
    choices = rule.get("choices")
    return choices() if callable(choices) else choices


def _describe(rule: dict) -> str:
    parts = []
    if choices_of(rule) is not None:
        parts.append("one of " + ", ".join(map(str, choices_of(rule))))
    for key, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if rule.get(key) is not None:
            parts.append(f"{sign} {rule[key]}")
    return " and ".join(parts)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is typing.Literal or origin is typing.Literal:
        return " or ".join(repr(a) for a in typing.get_args(tp))
    return {int: "an integer", float: "a number", str: "a string", bool: "true/false"}.get(tp, str(tp))


def _matches(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin is list:
        return isinstance(value, list) and all(_matches(v, typing.get_args(tp)[0]) for v in value)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(tp))
    if origin is typing.Literal:
        return value in typing.get_args(tp)
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, tp)


def _check_range(key: str, value: Any, rule: dict) -> None:
    items = value if isinstance(value, list) else [value]
    if rule.get("nonempty") and isinstance(value, list) and not value:
        raise ParamError(f"{key}: must be a non-empty list")
    if rule.get("unique") and isinstance(value, list) and len(set(map(str, value))) != len(value):
        raise ParamError(f"{key}={value!r}: items must be unique")
    choices = choices_of(rule)
    for item in items:
        if isinstance(item, str | bool):
            ok = choices is None or item in choices
        else:
            ok = (
                (choices is None or item in choices)
                and (rule.get("ge") is None or item >= rule["ge"])
                and (rule.get("gt") is None or item > rule["gt"])
                and (rule.get("le") is None or item <= rule["le"])
                and (rule.get("lt") is None or item < rule["lt"])
            )
        if not ok:
            raise ParamError(f"{key}={item!r}: accepted values are {_describe(rule)}")


G = TypeVar("G")


def key_name(key: Any) -> str:
    """A YAML key as it can appear in a one-line message (keys may be numbers or hold newlines)."""
    return key if isinstance(key, str) and key.isidentifier() else repr(key)


def parse_group(cls: type[G], raw: Any, prefix: str) -> G:
    """Build dataclass `cls` from the dict `raw`, validating every field; `prefix` names it in errors."""
    if not isinstance(raw, dict):
        raise ParamError(f"{prefix}: expected a mapping of keys, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields), key=str)
    if unknown:
        raise ParamError(
            f"{prefix}.{key_name(unknown[0])}: unknown key; accepted keys are {', '.join(fields)}"
        )
    values = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}"
        tp = hints[name]
        if name not in raw:
            raise ParamError(f"{key}: missing key ({_type_name(tp)})")
        value = raw[name]
        if dataclasses.is_dataclass(tp):
            values[name] = parse_group(tp, value, key)
            continue
        if not _matches(value, tp):
            raise ParamError(f"{key}={value!r}: expected {_type_name(tp)}")
        if tp is float:
            value = float(value)
            if not math.isfinite(value):
                raise ParamError(f"{key}={value!r}: expected a finite number")
        if f.metadata:
            _check_range(key, value, dict(f.metadata))
        values[name] = value
    group = cls(**values)
    check = getattr(group, "check", None)
    if check is not None:
        check(prefix)
    return group


def read_params(path: str | Path = "params.yaml") -> dict:
    """The whole params file as a dict (read once per process while the file is unchanged; callers
    must not modify it), with a one-line error when it is missing or not YAML."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ParamError(f"{path}: file not found (run from the repository root)") from None
    return _read_params(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _read_params(path: Path, mtime_ns: int, size: int) -> dict:
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ParamError(f"{path}: file not found (run from the repository root)") from None
    except yaml.YAMLError as err:
        raise ParamError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ParamError(f"{path}: expected a mapping of parameter groups")
    return raw


def load_group(cls: type[G], name: str, path: str | Path = "params.yaml") -> G:
    """Validated group `name` of the params file."""
    raw = read_params(path)
    if name not in raw:
        raise ParamError(f"{name}: missing group in {path}")
    return parse_group(cls, raw[name], name)


def load_datasets(path: str | Path = "params.yaml", raw: dict | None = None) -> list[str]:
    from metahebb.params.data import DATASET_NAMES

    """The top-level `datasets` list that every per-dataset stage iterates over (of `raw` if given)."""
    raw = read_params(path) if raw is None else raw
    if "datasets" not in raw:
        raise ParamError("datasets: missing key (a list of dataset names)")
    value = raw["datasets"]
    if not _matches(value, list[str]):
        raise ParamError(f"datasets={value!r}: expected a list of strings")
    _check_range("datasets", value, spec(choices=DATASET_NAMES, nonempty=True, unique=True))
    return value


def require_choice(key: str, value: str, accepted: typing.Iterable[str]) -> None:
    """One-line error for a command-line argument (dataset, model) outside its list."""
    accepted = list(accepted)
    if value not in accepted:
        raise ParamError(f"{key}={value!r}: accepted values are one of {', '.join(accepted)}")
