"""Outputs that appear whole or not at all: write to a temporary name beside the target, rename on success.

A script that fails part way leaves none of its output files behind (SageMaker uploads whatever the output
folders hold, so a half-written train.csv or candidate folder must never be there).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_files() -> Iterator[Callable[[Path], Path]]:
    """Yields `stage(target) -> temporary path`: write each output to the path `stage` returns. When the block
    ends normally every temporary file is renamed to its target (os.replace, atomic on one file system); when it
    raises, every temporary file is removed and no target is touched."""
    staged: list[tuple[Path, Path]] = []

    def stage(target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(handle)
        staged.append((Path(name), target))
        return Path(name)

    try:
        yield stage
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, target in staged:
        os.replace(temporary, target)


@contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """Yields a temporary directory beside `target` to fill; renamed to `target` when the block ends normally,
    removed when it raises. Refuses (FileExistsError) when `target` already exists: outputs are never merged."""
    if target.exists():
        raise FileExistsError(f"{target} already exists; refusing to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield temporary
        temporary.rename(target)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary)
