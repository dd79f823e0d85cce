"""Make a runtime's log lines reach the emulator's log (stderr) unless the process configured logging.

The detached emulator's stderr is ``.emulator/emulator.log``; a test or an embedding program that
configured logging itself keeps its handlers, and only the level is raised to INFO when unset.
"""

from __future__ import annotations

import logging
import sys


class LogOutput:
    """``attach()`` gives ``logger`` a stderr handler (``<label> message``) and INFO level when it
    has neither; ``detach()`` undoes exactly that."""

    def __init__(self, logger: logging.Logger, label: str) -> None:
        self._logger = logger
        self._label = label
        self._handler: logging.Handler | None = None
        self._previous_level: int | None = None

    def attach(self) -> None:
        if not self._logger.handlers and not logging.getLogger().handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter(f"%(asctime)s {self._label} %(message)s"))
            self._logger.addHandler(handler)
            self._handler = handler
        if self._logger.level == logging.NOTSET:
            self._previous_level = self._logger.level
            self._logger.setLevel(logging.INFO)

    def detach(self) -> None:
        if self._handler is not None:
            self._logger.removeHandler(self._handler)
            self._handler = None
        if self._previous_level is not None:
            self._logger.setLevel(self._previous_level)
            self._previous_level = None


__all__ = ["LogOutput"]
