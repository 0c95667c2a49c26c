"""The params file read whatever its bytes: one line, quickly and in bounded memory.

A guard (like `validate`): it decides whether a stage may start, never what it computes, so it is
no stage's dependency. DVC refuses duplicate keys; an alias bomb expands a kilobyte of YAML into
gigabytes; deep nesting exhausts the parser's recursion; none of them may give a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from metahebb.params import ParamError

MAX_FILE_BYTES = 1 << 20  # a params file is a few kilobytes; more is a mistake, not a study
MAX_DEPTH = 16  # groups nest two or three levels deep
MAX_LINE = 500  # characters of one error line: a huge value is cut, never printed whole


__all__ = ["MAX_LINE", "clip", "read_params_file"]


def clip(line: str) -> str:
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 5] + " ..."


class _StrictLoader(yaml.SafeLoader):
    """YAML as DVC accepts it, bounded: no duplicate keys (DVC refuses them), no aliases (an alias
    bomb expands a kilobyte into gigabytes), no nesting deeper than MAX_DEPTH."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise ParamError(
                f"line {mark.line + 1}: YAML aliases (*name) are not accepted; write the value out"
            )
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParamError(
                f"line {self.peek_event().start_mark.line + 1}: nested deeper than {MAX_DEPTH} levels"
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        seen: set[str] = set()
        for key_node, _ in node.value:
            key = repr(self.construct_object(key_node, deep=True))
            if key in seen:
                raise ParamError(
                    f"line {key_node.start_mark.line + 1}: duplicate key {clip(key)} (DVC refuses duplicate keys)"
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_params_file(path: str | Path = "params.yaml") -> dict:
    """The params file as a dict, whatever its bytes: one line, quickly and in bounded memory, for a
    missing file, a directory or device, more than MAX_FILE_BYTES, bytes that are not UTF-8, YAML
    that does not parse, duplicate keys, aliases, deep nesting, or a top level that is not a mapping."""
    path = Path(path)
    if not path.exists():
        raise ParamError(f"{path}: file not found (run from the repository root)")
    if not path.is_file():
        raise ParamError(f"{path}: not a regular file; expected the YAML params file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ParamError(f"{path}: {path.stat().st_size} bytes; a params file has at most {MAX_FILE_BYTES}")
    data = path.read_bytes()[: MAX_FILE_BYTES + 1]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ParamError(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except ParamError as err:
        raise ParamError(f"{path}: {err}") from None
    except yaml.YAMLError as err:
        raise ParamError(clip(f"{path}: not valid YAML ({str(err).splitlines()[0]})")) from None
    except RecursionError:
        raise ParamError(f"{path}: nested too deeply") from None
    if not isinstance(raw, dict):
        raise ParamError(f"{path}: expected a mapping of parameter groups, got {type(raw).__name__}")
    return raw
