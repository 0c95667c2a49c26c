"""The shared entry point of `stages/*.py`: logging, and one-line errors instead of tracebacks."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from metahebb.artifacts import ArtifactError
from metahebb.params import ParamError


class DivergenceError(RuntimeError):
    """NaN or infinity in weights or losses; the message names the step, dataset and seed."""


def run(main: Callable[[list[str]], None]) -> None:
    """Call `main(argv)`; report expected failures as one line on stderr and exit 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        main(sys.argv[1:])
    except (ParamError, ArtifactError, DivergenceError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
