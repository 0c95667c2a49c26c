"""The shared entry point of `stages/*.py`: logging, and one-line errors instead of tracebacks.

A guard: it decides whether and how a stage ends, never what it computes, so it is no stage's
dependency (tests/import_closure.py). Every way a stage can stop early is one line on stderr and
exit status 2: bad params (before anything is written), bad input files, divergence, wrong
arguments, Ctrl-C, a full disk or an unwritable output directory. Outputs are written atomically
(`metahebb.artifacts`), so none of these leaves a partial file; temporary files that a SIGKILL
left behind are removed when the next stage starts.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from metahebb import validate
from metahebb.artifacts import ArtifactError
from metahebb.errors import DivergenceError
from metahebb.params import ParamError
from metahebb.params_file import clip

OUTPUT_ROOTS = ("data", "metrics", "reports")
STALE_SECONDS = 600  # an atomic write takes seconds; a temp file this old belongs to a killed stage
WRITE_ERRORS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
                errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
                errno.EFBIG: "file too large for the file-size limit (ulimit -f)"}  # fmt: skip


def usage_forms() -> list[list[str]]:
    """The `python stages/<name>.py <arg> ...` lines of the running stage's docstring, as words
    (a trailing `(comment)` dropped)."""
    doc = sys.modules["__main__"].__doc__ or ""
    forms = []
    for line in doc.splitlines():
        words = line.split()
        if words[:2] and words[0] == "python" and words[1].startswith("stages/"):
            forms.append(words[: next((i for i, w in enumerate(words) if w.startswith("(")), len(words))])
    return forms


def usage() -> str:
    return " | ".join(" ".join(form) for form in usage_forms()) or f"python {sys.argv[0]}"


def accepts(argv: list[str]) -> bool:
    """Whether argv fits one of the usage lines (`<name>` is any word, other words are literal)."""
    forms = usage_forms()
    fits = [
        len(form) - 2 == len(argv)
        and all(
            w == a or (w.startswith("<") and not a.startswith("-"))
            for w, a in zip(form[2:], argv, strict=True)
        )
        for form in forms
    ]
    return not forms or any(fits)


def remove_stale_temp_files(roots: tuple[str, ...] = OUTPUT_ROOTS, age: float = STALE_SECONDS) -> int:
    """Delete `.<name>.<random>.tmp` files (atomic writes cut short by a kill) older than `age` s."""
    removed, now = 0, time.time()
    for root in roots:
        for path in Path(root).rglob(".*.tmp") if Path(root).is_dir() else []:
            try:
                if now - path.stat().st_mtime > age:
                    path.unlink()
                    removed += 1
            except OSError:
                pass
    return removed


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def run(main: Callable[[list[str]], None]) -> None:
    """Validate the whole params file, then call `main(argv)`; report expected failures as one line
    on stderr and exit 2, before anything is written when the params are bad."""
    argv = sys.argv[1:]
    if argv[:1] in (["-h"], ["--help"]):
        try:
            print(f"usage: {usage()}\n\n{(sys.modules['__main__'].__doc__ or '').strip()}", flush=True)
        except BrokenPipeError:  # `--help | head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    if not accepts(argv):
        _fail(f"wrong arguments {clip(repr(argv))}; usage: {usage()}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        validate.check("params.yaml")  # every group and the cross-group checks, in milliseconds
        remove_stale_temp_files()
        main(argv)
    except (ParamError, ArtifactError, DivergenceError) as err:
        _fail(str(err))
    except KeyboardInterrupt:
        _fail("interrupted; no output was written partly (every output is written atomically)")
    except (MemoryError, RuntimeError) as err:  # torch's failed allocation is a RuntimeError
        if isinstance(err, RuntimeError) and "alloc" not in str(err) and "out of memory" not in str(err):
            raise
        _fail(
            "out of memory; `python -m metahebb.validate` estimates each stage's largest allocation "
            "before it starts, and this one it missed: make the batch sizes, populations or widths smaller"
        )
    except OSError as err:
        if err.errno not in WRITE_ERRORS:
            raise
        where = err.filename or "an output"
        _fail(
            f"{where}: {WRITE_ERRORS[err.errno]}; free space or make the output directory writable, then rerun"
        )
