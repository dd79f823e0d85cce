"""JSON-lines logging with a correlation id, for Lambda handlers (stdlib only).

One log call writes one JSON object on one line to stdout, which Lambda ships to CloudWatch Logs:

    {"timestamp": "2025-06-30T12:00:00.123Z", "level": "INFO", "service": "data-processor",
     "message": "object processed", "correlation_id": "<aws_request_id>", ...fields}

Usage: a module-level `log = StructuredLogger("data-processor")`; at the start of each invocation
`log.set_correlation_id(context.aws_request_id)`; then `log.info("message", key=value, ...)`.
The threshold is the LOG_LEVEL environment variable (default INFO), read when the logger is made.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


class StructuredLogger:
    """A logger writing JSON lines. stream default sys.stdout (looked up at each write); level default $LOG_LEVEL."""

    def __init__(self, service: str, *, stream: TextIO | None = None, level: str | None = None) -> None:
        level_name = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
        if level_name not in LEVELS:
            raise ValueError(f"log level {level_name!r} is not one of {', '.join(LEVELS)}")
        self.service = service
        self.threshold = LEVELS[level_name]
        self.correlation_id: str | None = None
        self._stream = stream

    def set_correlation_id(self, correlation_id: str | None) -> None:
        """Tag every following line with this id (the Lambda aws_request_id)."""
        self.correlation_id = correlation_id

    def debug(self, message: str, **fields: Any) -> None:
        self._emit("DEBUG", message, fields)

    def info(self, message: str, **fields: Any) -> None:
        self._emit("INFO", message, fields)

    def warning(self, message: str, **fields: Any) -> None:
        self._emit("WARNING", message, fields)

    def error(self, message: str, **fields: Any) -> None:
        self._emit("ERROR", message, fields)

    def _emit(self, level: str, message: str, fields: dict[str, Any]) -> None:
        if LEVELS[level] < self.threshold:
            return
        record = {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": level,
            "service": self.service,
            "message": message,
            "correlation_id": self.correlation_id,
            **fields,
        }
        stream = self._stream or sys.stdout
        # default=str: a datetime or Path in a field must never make logging itself fail.
        stream.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
        stream.flush()
