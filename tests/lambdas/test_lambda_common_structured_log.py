"""lambda_common.structured_log: one JSON object per line, correlation id, level threshold."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import lambda_support  # noqa: F401  - puts lambdas/ on sys.path
import pytest

from lambda_common.structured_log import StructuredLogger


def test_each_call_writes_one_json_line_with_the_correlation_id():
    stream = io.StringIO()
    log = StructuredLogger("svc", stream=stream, level="INFO")
    log.set_correlation_id("req-1")
    log.info("done", source_key="incoming/a b.csv", rows=3, when=datetime(2025, 6, 30), path=Path("/x"))
    log.error("multi\nline")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "INFO" and first["message"] == "done" and first["service"] == "svc"
    assert first["correlation_id"] == "req-1" and first["rows"] == 3 and first["source_key"] == "incoming/a b.csv"
    assert first["when"] == "2025-06-30 00:00:00" and first["path"] == "/x"
    assert first["timestamp"].endswith("Z")
    assert second["message"] == "multi\nline" and second["level"] == "ERROR"


def test_lines_below_the_threshold_are_dropped(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "warning")
    stream = io.StringIO()
    log = StructuredLogger("svc", stream=stream)
    log.debug("a")
    log.info("b")
    log.warning("c")
    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == ["c"]


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="'LOUD' is not one of DEBUG, INFO, WARNING, ERROR"):
        StructuredLogger("svc", level="loud")
