"""The README documents exactly the reason codes and statuses the processor can write."""

from __future__ import annotations

import re
from pathlib import Path

import lambda_support  # noqa: F401  - puts lambdas/ on sys.path
import pytest

from data_processor.processing import WholeObjectRejected
from data_processor.reasons import REASON_CODES
from data_processor.service import STATUSES

README = Path(__file__).resolve().parents[2] / "README.md"


def table_keys(header: str) -> list[str]:
    """The backticked first cells of the README table whose header row is `header`."""
    lines = README.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == header]
    assert len(starts) == 1, f"README.md has {len(starts)} tables headed {header!r}"
    keys = []
    for line in lines[starts[0] + 2 :]:  # past the header and the |---| row
        if not line.strip().startswith("|"):
            break
        first_cell = line.strip().split("|")[1].strip()
        match = re.fullmatch(r"`([a-z0-9_]+)`", first_cell)
        assert match, f"README.md: {line.strip()!r} does not start with a backticked code"
        keys.append(match.group(1))
    return keys


def test_every_reason_code_is_in_the_readme_table_and_the_table_lists_no_other():
    documented = table_keys("| code | meaning |")
    assert len(documented) == len(set(documented)), "a code is listed twice"
    assert set(documented) == set(REASON_CODES)


def test_every_status_is_in_the_readme_table_and_the_table_lists_no_other():
    assert table_keys("| status | meaning |") == list(STATUSES)


def test_a_code_missing_from_the_list_cannot_be_raised():
    with pytest.raises(ValueError, match=r"not in data_processor\.reasons\.REASON_CODES"):
        WholeObjectRejected("looks_odd", "a new kind of problem")


def test_every_code_has_a_one_line_meaning():
    assert all(meaning and "\n" not in meaning for meaning in REASON_CODES.values())
