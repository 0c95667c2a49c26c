"""The shared entry point of `stages/*.py`: logging, and one-line errors instead of tracebacks."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from metahebb import validate
from metahebb.artifacts import ArtifactError
from metahebb.errors import DivergenceError
from metahebb.params import ParamError


def run(main: Callable[[list[str]], None]) -> None:
    """Validate the whole params file, then call `main(argv)`; report expected failures as one line
    on stderr and exit 2, before anything is written when the params are bad."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        validate.check("params.yaml")  # every group and the cross-group checks, in milliseconds
        main(sys.argv[1:])
    except (ParamError, ArtifactError, DivergenceError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
