"""The names each registry owns, asked of the registry itself when the schema checks a value.

Adding a rule, an objective, an outer optimiser or a task family is one file plus one line in its
registry (`rules/__init__.py`, `objectives/__init__.py`, `outer/__init__.py`, `tasks/__init__.py`); the params schema accepts
the new name without being told. A guard: it decides only which names a params file may use,
never what a stage computes, so it is no stage's dependency (tests/import_closure.py). The
imports are lazy: the registries load torch, which most of the schema does not need.
"""

from __future__ import annotations


def rules() -> tuple[str, ...]:
    from metahebb.rules import RULES

    return tuple(RULES)


def meta_trained_rules() -> tuple[str, ...]:
    """Rules whose theta comes from meta-training."""
    from metahebb.rules import META_TRAINED

    return tuple(META_TRAINED)


def fixed_rules() -> tuple[str, ...]:
    return tuple(r for r in rules() if r not in meta_trained_rules())


def optimizers() -> tuple[str, ...]:
    from metahebb.outer import OPTIMIZERS

    return tuple(OPTIMIZERS)


def objectives() -> tuple[str, ...]:
    from metahebb.objectives import OBJECTIVES

    return tuple(OBJECTIVES)


def label_objectives() -> tuple[str, ...]:
    """Objectives that read labels of validation points."""
    from metahebb.objectives import OBJECTIVES

    return tuple(n for n, o in OBJECTIVES.items() if o.uses_labels)


def gradient_free_objectives() -> tuple[str, ...]:
    """Objectives with no gradient: only a gradient-free optimiser (`es`) can use them."""
    from metahebb.objectives import OBJECTIVES

    return tuple(n for n, o in OBJECTIVES.items() if not o.differentiable)


def task_families() -> tuple[str, ...]:
    """Families of generated meta-training tasks (`metahebb.tasks`)."""
    from metahebb.tasks import FAMILIES

    return tuple(FAMILIES)
