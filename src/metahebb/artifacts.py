"""Atomic reads and writes of stage outputs.

Every output is written to a temporary file beside its destination and renamed into place,
so a stage killed at any moment leaves the old file or none, never a truncated one.
Every read checks what the file holds (`artifact_schemas`) and fails with one line naming the
file and the stage to force, so a stage never starts computing from a bad input.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from metahebb import artifact_schemas as schemas
from metahebb.artifact_schemas import BadContents, Schema


class ArtifactError(RuntimeError):
    """A missing or unreadable input file; the message is the single line the user sees."""


# Which dvc.yaml stage writes a path, so a hint can name it: forcing one stage costs seconds to
# minutes, a bare `dvc repro -f` reruns hours of meta-training.
_WRITERS = (
    (r"data/datasets/(\w+)\.npz", "make_data@{0}"),
    (r"data/latents/(\w+)/(?:raw|true)\.npz", "make_data@{0}"),
    (r"data/(?:latents|models)/(\w+)/(mlp|rnn)\.(?:npz|pt)", "train_backprop@{0}-{1}"),
    (r"data/latents/(\w+)/(learned\w*|table|attention)\.npz", "train_learned@{0}-{1}"),
    (r"data/latents/(\w+)/(\w+)\.npz", "train_hebbian@{0}-{1}"),
    (r"data/rules/(\w+)\.pt", "meta_train@{0}"),
    (r"data/meta_compare/(\w+)\.pt", "meta_compare_fixed@{0}"),
    (r"data/meta_compare/([\w]+-(gradient|es)-\w+)\.pt", "meta_compare_{1}@{0}"),
    (r"data/meta_compare_loo/([\w]+-(gradient|es)-\w+)\.pt", "meta_compare_loo_{1}@{0}"),
    (r"data/generalisation/.*", "generalisation"),
    (r"data/semi_supervised/(\w+)_meta_readout\.pt", "semi_supervised@{0}"),
    (r"data/checkpoints/meta_train_(\w+)\.pt", "meta_train@{0}"),
    (r"metrics/train/(\w+)/(mlp|rnn)(?:_loss)?\.(?:json|csv)", "train_backprop@{0}-{1}"),
    (r"metrics/train/(\w+)/(learned\w*?|table|attention)(?:_loss)?\.(?:json|csv)", "train_learned@{0}-{1}"),
    (r"metrics/train/(\w+)/(\w+?)(?:_loss)?\.(?:json|csv)", "train_hebbian@{0}-{1}"),
    (r"metrics/evaluate/(\w+)/(raw|true)(?:_svm)?\.(?:json|csv)", "evaluate_reference@{0}-{1}"),
    (r"metrics/evaluate/(\w+)/(mlp|rnn)(?:_svm)?\.(?:json|csv)", "evaluate_backprop@{0}-{1}"),
    (
        r"metrics/evaluate/(\w+)/(learned\w*?|table|attention)(?:_svm)?\.(?:json|csv)",
        "evaluate_learned@{0}-{1}",
    ),
    (r"metrics/evaluate/(\w+)/(\w+?)(?:_svm)?\.(?:json|csv)", "evaluate_hebbian@{0}-{1}"),
    (r"metrics/semi_supervised/(\w+?)(?:_accuracy|_epochs)?\.(?:json|csv)", "semi_supervised@{0}"),
    (r"metrics/meta_train/(\w+)\.(?:json|csv)", "meta_train@{0}"),
    (r"metrics/generalisation/.*", "generalisation"),
    (r"metrics/meta_compare/(?:timing/)?(\w+)\.json", "meta_compare_fixed@{0}"),
    (r"metrics/meta_compare/(?:timing/)?([\w]+-(gradient|es)-\w+)\.json", "meta_compare_{1}@{0}"),
    (r"metrics/meta_compare_loo/([\w]+-(gradient|es)-\w+)\.json", "meta_compare_loo_{1}@{0}"),
    (r"reports/results\.md", "figures"),
)


def writer(path: str | Path) -> str | None:
    """The stage that writes `path` (relative to the repository root), if it is a pipeline output."""
    rel = Path(path).as_posix()
    for pattern, stage in _WRITERS:  # the first match wins
        match = re.search(rf"(?:^|/){pattern}$", rel)
        if match:
            return stage.format(*match.groups())
    return None


def regenerate(path: str | Path) -> str:
    """The hint of a bad input file: the exact stage to force."""
    stage = writer(path)
    return (
        f"regenerate it with `dvc repro -f {stage}`"
        if stage
        else "regenerate it with the stage that writes it"
    )


def bad_file(path: str | Path, what: str) -> ArtifactError:
    """The one-line error of a file that exists but cannot be used; `what` may quote the file."""
    what = " ".join(str(what).split())
    what = what if len(what) <= 200 else what[:197] + "..."
    return ArtifactError(f"{path}: {what}; {regenerate(path)}")


def _unreadable(path: Path, err: Exception) -> ArtifactError:
    if isinstance(err, FileNotFoundError):
        return ArtifactError(f"{path}: file not found; {make_hint(path)}")
    if isinstance(err, IsADirectoryError):
        return bad_file(path, "is a directory, not a file")
    return bad_file(path, f"unreadable ({type(err).__name__})")


def make_hint(path: str | Path) -> str:
    stage = writer(path)
    return f"run `dvc repro {stage}` to make it" if stage else "run `dvc repro` to make it"


def _atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def save_arrays(path: str | Path, **arrays: Any) -> Path:
    """Compressed `.npz` of named arrays."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **{k: np.asarray(v) for k, v in arrays.items()})

    return _atomic_write(path, write)


def load_arrays(
    path: str | Path, required: tuple[str, ...] = (), schema: Schema | None = None
) -> dict[str, np.ndarray]:
    """All arrays of an `.npz` file, checked: `required` keys present, the kinds and shapes of the
    `schema` (by default the one its path has, `artifact_schemas.SCHEMAS`), floats finite."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as err:  # zip, pickle and header errors all mean the same to a user
        raise _unreadable(path, err) from None
    check_arrays(path, arrays, required, schema or schemas.schema_for(path.as_posix()))
    return arrays


def check_arrays(
    path: str | Path, arrays: dict[str, np.ndarray], required: tuple[str, ...], schema: Schema | None = None
) -> None:
    """`artifact_schemas.check_arrays`, failing with one line naming the file."""
    try:
        schemas.check_arrays(arrays, required, schema)
    except BadContents as err:
        raise bad_file(path, str(err)) from None


def _check_finite(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_finite(v, f"{where}[{i}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ArtifactError(f"{where}: {value} is not a finite number; metrics files never hold NaN")


def _rounded(value: Any, digits: int) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v, digits) for v in value]
    if isinstance(value, float) and value != 0.0:
        return round(value, digits - 1 - math.floor(math.log10(abs(value))))
    return value


def save_json(path: str | Path, data: dict, digits: int = 6) -> Path:
    """Small metrics JSON of plain floats, rounded to `digits` significant digits so diffs stay
    readable; refuses NaN and infinity (DVC cannot diff them)."""
    _check_finite(data, str(path))
    text = json.dumps(_rounded(data, digits), indent=2) + "\n"
    return _atomic_write(path, lambda tmp: tmp.write_text(text))


def load_json(path: str | Path, required: tuple[str, ...] = ()) -> dict:
    """A metrics JSON object holding the dotted key paths `required` (`*`: every key), finite."""
    path = Path(path)
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise bad_file(path, "not valid JSON") from None
    except OSError as err:
        raise _unreadable(path, err) from None
    try:
        schemas.check_keys(data, required)
        schemas.check_finite(data)
    except BadContents as err:
        raise bad_file(path, str(err)) from None
    return data


def save_table(path: str | Path, frame: Any) -> Path:
    """A pandas DataFrame as CSV, the format `dvc plots` reads."""
    numeric = frame.select_dtypes("number")
    if not np.isfinite(numeric.to_numpy(dtype=float)).all():
        raise ArtifactError(f"{path}: table holds NaN or infinity")
    return _atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6g"))


def load_table(path: str | Path, columns: tuple[str, ...] = ()) -> Any:
    """A `save_table` CSV as a DataFrame, with the numeric `columns` and finite numbers."""
    import pandas as pd

    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except Exception as err:  # empty, binary or ragged files alike
        raise _unreadable(path, err) from None
    try:
        schemas.check_table(frame, columns)
    except BadContents as err:
        raise bad_file(path, str(err)) from None
    return frame


def save_text(path: str | Path, text: str) -> Path:
    return _atomic_write(path, lambda tmp: tmp.write_text(text))


def load_text(path: str | Path) -> str:
    """A `save_text` file (UTF-8), with one line naming the file if it is bad."""
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8")
    except Exception as err:  # missing, a directory, or not text
        raise _unreadable(path, err) from None


def save_figure(path: str | Path, figure: Any, dpi: int = 110) -> Path:
    """A matplotlib figure as PNG, without the timestamp metadata that would change its hash."""
    return _atomic_write(
        path, lambda tmp: figure.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    )


def save_torch(path: str | Path, obj: Any) -> Path:
    import torch

    def write(tmp: Path) -> None:
        # Through a handle: given a path, torch.save records the (random) temporary name in the
        # archive, and the file's hash would change on every run.
        with open(tmp, "wb") as fh:
            torch.save(obj, fh)

    return _atomic_write(path, write)


def load_torch(path: str | Path, required: tuple[str, ...] = ()) -> Any:
    """A `save_torch` file (tensors, dicts, numbers only), a dict with the dotted key paths
    `required` if given, its floats finite; one line naming the file if it is bad."""
    import torch

    path = Path(path)
    try:
        obj = torch.load(path, weights_only=True)
    except Exception as err:  # truncated zips and foreign pickles alike
        raise _unreadable(path, err) from None
    try:
        if required:
            schemas.check_keys(obj, required)
        schemas.check_finite(obj)
    except BadContents as err:
        raise bad_file(path, str(err)) from None
    return obj


def load_theta(path: str | Path, reference: dict, at: tuple[str, ...] = ("theta",)) -> dict:
    """The theta stored at key path `at` of a rule file, checked against `reference` (the rule's
    own `state_dict()`): the same keys and shapes, floating, finite."""
    obj = load_torch(path, required=(".".join(at),))
    for key in at:
        obj = obj[key]
    try:
        schemas.check_state(obj, reference)
    except BadContents as err:
        raise bad_file(path, str(err)) from None
    return obj
