"""What the four scripts share at their edge: input problems end the run with one clear line and exit code 1."""

from __future__ import annotations

import os
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path


def run(prog: str, body: Callable[[], None]) -> int:
    """Run `body`; a bad input (ValueError, including the data, model and naming errors) or a file problem
    (OSError, a corrupt tar) prints `<prog>: error: <message>` to stderr and returns 1, else 0. Anything else
    is a bug and keeps its traceback."""
    try:
        body()
    except (ValueError, OSError, tarfile.TarError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    return 0


def env_path(name: str, default: str) -> Path:
    """A directory from the environment variable `name` (as SageMaker sets SM_* variables), else `default`."""
    return Path(os.environ.get(name) or default)
