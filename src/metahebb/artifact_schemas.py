"""What a valid input file holds, checked before a stage computes anything from it.

Checks only decide whether a stage may run, never what it computes (like `validate`), and they
know no paths: each raises `BadContents(what)`, which `artifacts` turns into one line naming the
file and the stage to force. A shape is a tuple of ints and names; a name stands for one size
throughout a file, and `known` sizes (a dataset's split) carry it across files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Shape = tuple[int | str, ...]
KINDS = {"f": "floating", "iu": "integer", "b": "boolean", "U": "string"}  # numpy dtype.kind letters


class BadContents(ValueError):
    """What is wrong inside a readable file, in words without the path."""


@dataclass(frozen=True)
class Schema:
    """Arrays a file may hold, with their shapes and dtype kinds (keys of `KINDS`)."""

    shapes: Mapping[str, Shape]
    kinds: Mapping[str, str]
    nonnegative: tuple[str, ...] = ()
    split: str | None = None  # a boolean test mask that must leave points on both sides
    known: Mapping[str, int] = field(default_factory=dict)


DATASET = Schema(
    shapes={"x": ("N", "D"), "z": ("N", 2), "y": ("N",), "is_test": ("N",), "projection": (2, "D")},
    kinds={"x": "f", "z": "f", "y": "iu", "is_test": "b", "projection": "f"},
    nonnegative=("y",),
    split="is_test",
)
# Files checked by their path alone; a latents file's schema depends on its views (`latents_schema`).
SCHEMAS = ((re.compile(r"(?:^|/)data/datasets/\w+\.npz$"), DATASET),)

# Key paths of metrics files that stages index directly (deeper ones go through `report.get`).
EVALUATE_KEYS = ("*.emd.mean", "*.svm_acc")
SVM_COLUMNS = ("n_labels", "accuracy", "accuracy_std")


def schema_for(path: str) -> Schema | None:
    """The schema of a pipeline file found by its path, if it has one."""
    return next((schema for pattern, schema in SCHEMAS if pattern.search(path)), None)


def latents_schema(views: list[str], split: tuple[int, int] | None = None) -> Schema:
    """A latents file of `views`; with `split` (n_train, n_test), the dataset's split sizes."""
    shapes: dict[str, Shape] = {"seeds": ("S",), "views": ("V",)}
    kinds = {"seeds": "iu", "views": "U"}
    for v in views:
        for part in ("train", "test"):
            shapes[f"{v}.{part}"] = ("S", f"N_{part}", f"H_{v}")
            kinds[f"{v}.{part}"] = "f"
    known = dict(zip(("N_train", "N_test"), split, strict=True)) if split else {}
    return Schema(shapes, kinds, known=known)


def _render(shape: Shape, sizes: dict[str, int]) -> str:
    dims = [f"{d}={sizes[d]}" if isinstance(d, str) and d in sizes else str(d) for d in shape]
    return f"({', '.join(dims)})"


def _check_shape(key: str, a: np.ndarray, shape: Shape, sizes: dict[str, int]) -> None:
    fits = a.ndim == len(shape) and all(
        sizes.setdefault(d, n) == n if isinstance(d, str) else d == n
        for d, n in zip(shape, a.shape, strict=True)
    )
    if not fits:
        raise BadContents(f"{key} has shape {a.shape}, expected {_render(shape, sizes)}")
    if any(isinstance(d, str) and n == 0 for d, n in zip(shape, a.shape, strict=True)):
        raise BadContents(f"{key} is empty (shape {a.shape})")


def check_arrays(arrays: Mapping[str, np.ndarray], required: tuple[str, ...], schema: Schema | None) -> None:
    """`required` keys present; every array the schema names of its kind and shape; floats finite."""
    missing = [k for k in required if k not in arrays]
    if missing:
        raise BadContents(f"lacks {', '.join(missing)}")
    schema = schema or Schema({}, {})
    sizes = dict(schema.known)
    for key in [k for k in schema.shapes if k in arrays]:
        a, kind = arrays[key], schema.kinds[key]
        if a.dtype.kind not in kind:
            raise BadContents(f"{key} has dtype {a.dtype}, expected {KINDS[kind]}")
        _check_shape(key, a, schema.shapes[key], sizes)
    for key in dict.fromkeys([*required, *(k for k in schema.shapes if k in arrays)]):
        a = arrays[key]
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise BadContents(f"{key} holds NaN or infinity")
    for key in [k for k in schema.nonnegative if k in arrays]:
        if (arrays[key] < 0).any():
            raise BadContents(f"{key} holds negative values")
    mask = arrays.get(schema.split) if schema.split else None
    if mask is not None and (mask.all() or not mask.any()):
        side = "training" if mask.all() else "test"
        raise BadContents(f"{schema.split} leaves no {side} points")


def check_state(state: Any, reference: Mapping[str, Any]) -> None:
    """A rule's theta: the keys, shapes and (floating) dtypes of `reference`, finite values."""
    import torch

    if not isinstance(state, Mapping):
        raise BadContents(f"theta is a {type(state).__name__}, not a dict of tensors")
    missing = [k for k in reference if k not in state]
    extra = [str(k) for k in state if k not in reference]
    if missing:
        raise BadContents(f"theta lacks {', '.join(missing)}: not this rule's, or of other params")
    if extra:
        raise BadContents(f"theta has unknown {', '.join(extra)}: not this rule's")
    for key, ref in reference.items():
        t = state[key]
        if not isinstance(t, torch.Tensor):
            raise BadContents(f"theta[{key}] is a {type(t).__name__}, not a tensor")
        if t.shape != ref.shape:
            raise BadContents(f"theta[{key}] has shape {tuple(t.shape)}, expected {tuple(ref.shape)}")
        if ref.is_floating_point() != t.is_floating_point():
            raise BadContents(f"theta[{key}] has dtype {t.dtype}, expected {_dtype_word(ref)}")
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise BadContents(f"theta[{key}] holds NaN or infinity")


def _dtype_word(t: Any) -> str:
    return "a floating dtype" if t.is_floating_point() else str(t.dtype)


def check_finite(value: Any, where: str = "") -> None:
    """Every float and floating tensor inside nested dicts and lists is finite."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            check_finite(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            check_finite(v, f"{where}[{i}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise BadContents(f"{where or 'the value'} is {value}, not a finite number")
    elif hasattr(value, "is_floating_point") and value.is_floating_point():
        import torch

        if not torch.isfinite(value).all():
            raise BadContents(f"{where or 'the tensor'} holds NaN or infinity")


def check_keys(value: Any, required: tuple[str, ...]) -> None:
    """A dict holding every dotted path of `required`; `*` stands for every key at its level."""
    if not isinstance(value, Mapping):
        raise BadContents(f"holds a {type(value).__name__}, expected a dict")
    for path in required:
        _check_path(value, path.split("."), "")


def _check_path(value: Any, parts: list[str], where: str) -> None:
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    if isinstance(value, Mapping) and head == "*" and not value:
        raise BadContents(f"holds no entries {f'under {where}' if where else 'at all'}")
    if not isinstance(value, Mapping) or (head != "*" and head not in value):
        raise BadContents(f"lacks {where + '.' if where else ''}{head}")
    for key in value if head == "*" else [head]:
        _check_path(value[key], rest, f"{where}.{key}" if where else str(key))


def check_table(frame: Any, columns: tuple[str, ...]) -> None:
    """A metrics table with at least one row, the numeric `columns`, and finite numbers."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BadContents(f"lacks column {', '.join(missing)}")
    if frame.empty:
        raise BadContents("holds no rows")
    numeric = frame.select_dtypes("number")
    wrong = [c for c in columns if c not in numeric.columns]
    if wrong:
        raise BadContents(f"column {', '.join(wrong)} is not numeric")
    if not np.isfinite(numeric.to_numpy(dtype=float)).all():
        raise BadContents("holds NaN or infinity")


def split_sizes(dataset: Mapping[str, np.ndarray]) -> tuple[int, int]:
    """(n_train, n_test) of a dataset file's arrays: the sizes its latents files must have."""
    n_test = int(dataset["is_test"].sum())
    return len(dataset["is_test"]) - n_test, n_test
