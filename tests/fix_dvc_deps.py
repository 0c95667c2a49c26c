"""Rewrite the code deps of every stage in dvc.yaml to the stage script's import closure.

    python tests/fix_dvc_deps.py        # after adding, moving or deleting a module

Only the `- src/...` and `- stages/...` items of each `deps:` list change (folders are kept as one
item when the stage imports every module in them); data deps, comments and anchors stay as written.
tests/test_dvc_deps.py checks the result.
"""

from __future__ import annotations

import re

from import_closure import GUARDS, ROOT, closure

PACKAGE_DIRS = sorted(
    p for p in (ROOT / "src/metahebb").rglob("*") if p.is_dir() and "__pycache__" not in p.parts
)


def collapsed(files: set[str]) -> list[str]:
    """`files` with every package folder whose modules (no guard among them) are all in it as one item."""
    items = set(files)
    for folder in PACKAGE_DIRS:
        modules = {
            p.relative_to(ROOT).as_posix() for p in folder.rglob("*.py") if "__pycache__" not in p.parts
        }
        rel = folder.relative_to(ROOT).as_posix()
        if (
            modules
            and modules <= files
            and not modules & GUARDS
            and not any(rel.startswith(i + "/") for i in items)
        ):
            items = {i for i in items if not i.startswith(rel + "/")} | {rel}
    return sorted(items, key=lambda i: (not i.startswith("stages/"), i))


def fix(text: str) -> str:
    lines, out, script = text.splitlines(keepends=True), [], None
    i = 0
    while i < len(lines):
        line = lines[i]
        cmd = re.match(r"\s+cmd: python (\S+)", line)
        if cmd:
            script = cmd.group(1)
        if re.match(r"\s+deps:( &\w+)?\s*$", line) and script:
            out.append(line)
            i += 1
            block = []
            while i < len(lines) and re.match(r"\s+- ", lines[i]):
                block.append(lines[i])
                i += 1
            code = [b for b in block if re.match(r"\s+- (src|stages)/", b)]
            indent = re.match(r"(\s+- )", block[0]).group(1) if block else "        - "
            new = [f"{indent}{item}\n" for item in collapsed(closure(script) | {script})]
            first = block.index(code[0]) if code else 0
            rest = [b for b in block if b not in code]
            out.extend(rest[:first] + new + rest[first:])
            continue
        out.append(line)
        i += 1
    return "".join(out)


if __name__ == "__main__":
    path = ROOT / "dvc.yaml"
    path.write_text(fix(path.read_text()))
