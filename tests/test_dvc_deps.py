"""dvc.yaml lists exactly the package files each stage imports: no stale result, no needless rerun."""

from __future__ import annotations

import pytest
import yaml
from import_closure import GUARDS, ROOT, closure


def stage_definitions() -> dict[str, dict]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return {name: stage.get("do", stage) for name, stage in stages.items()}


def listed_code(deps: list[str]) -> set[str]:
    """The package and stage files a deps list names, folders expanded to their .py files."""
    files = set()
    for dep in deps:
        if not dep.startswith(("src/", "stages/")):
            continue
        path = ROOT / dep
        found = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        files |= {p.relative_to(ROOT).as_posix() for p in found if "__pycache__" not in p.parts}
    return files


@pytest.mark.parametrize("name", sorted(stage_definitions()))
def test_deps_are_the_import_closure(name: str) -> None:
    stage = stage_definitions()[name]
    script = stage["cmd"].split()[1]
    expected = closure(script) | {script}
    listed = listed_code(stage.get("deps", []))
    assert not expected - listed, f"{name}: dvc.yaml misses {sorted(expected - listed)}"
    assert not listed - expected, f"{name}: dvc.yaml lists {sorted(listed - expected)}, never imported"


def test_every_listed_dep_exists() -> None:
    for name, stage in stage_definitions().items():
        for dep in stage.get("deps", []):
            if dep.startswith(("src/", "stages/")):
                assert (ROOT / dep).exists(), f"{name}: {dep} does not exist"


def test_closure_follows_imports_inside_functions() -> None:
    """A lazy import counts: `runtime.configure` imports params inside the function."""
    assert "src/metahebb/params/__init__.py" in closure("src/metahebb/runtime.py")
    assert not GUARDS & closure("stages/meta_compare.py")


def test_the_deps_fixer_agrees_with_this_test():
    """`python tests/fix_dvc_deps.py` on the committed dvc.yaml changes nothing (it is what the README
    tells a newcomer to run after adding a module)."""
    from fix_dvc_deps import fix

    text = (ROOT / "dvc.yaml").read_text()
    assert fix(text) == text
