"""Which files of the package a stage script runs: its import closure, derived from the source.

    python tests/import_closure.py stages/meta_compare.py    # the files dvc.yaml must list

Every `import metahebb...` / `from metahebb... import ...` anywhere in a file counts (also those
inside functions), and importing a submodule runs its parent packages' `__init__.py`. Modules
that only decide *whether* a stage may run, never what it computes (`GUARDS`), are left out and
not followed: editing the params checks must not rerun hours of meta-training.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src"
GUARDS = frozenset(
    {
        "src/metahebb/stage.py",
        "src/metahebb/validate.py",
        "src/metahebb/names.py",  # which names the schema accepts, asked of the registries
        "src/metahebb/artifact_schemas.py",  # whether an input file is well-formed
        "src/metahebb/params_file.py",
        "src/metahebb/limits.py",
        "src/metahebb/consistency.py",  # what the groups say about each other
    }
)


def module_file(name: str) -> Path | None:
    """The file of module `metahebb.a.b`: a/b.py or a/b/__init__.py, if it exists."""
    base = PACKAGE.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_modules(path: Path) -> set[str]:
    """Names of the metahebb modules `path` imports (a `from m import x` counts m.x if it is a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.split(".")[0] == "metahebb"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "metahebb":
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names if module_file(f"{node.module}.{a.name}")}
    with_parents = set()
    for name in names:
        parts = name.split(".")
        with_parents |= {".".join(parts[: i + 1]) for i in range(len(parts))}
    return with_parents


def closure(script: str | Path) -> set[str]:
    """Repository-relative paths of every package file that running `script` imports, guards excluded."""
    seen: set[str] = set()
    todo = [ROOT / script]
    while todo:
        for name in imported_modules(todo.pop()):
            path = module_file(name)
            rel = path.relative_to(ROOT).as_posix() if path else None
            if rel and rel not in seen and rel not in GUARDS:
                seen.add(rel)
                todo.append(path)
    return seen


if __name__ == "__main__":
    for script in sys.argv[1:]:
        print(f"{script}:")
        for rel in sorted(closure(script)):
            print(f"  - {rel}")
