"""The README's backfill command, as a user runs it: no execution name (AWS names each run), so the
same command works twice in a row; `make backfill` goes through the same functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sample_data import csv_bytes
from tooling.backfill import start_backfill, wait_for_execution

pytestmark = pytest.mark.integration


def test_the_backfill_command_works_twice_in_a_row(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    outputs, s3, sfn = stack_outputs("data-pipeline"), aws("s3"), aws("stepfunctions")
    s3.put_object(Bucket=outputs["raw_data_bucket_name"], Key="incoming/churn/twice/a.csv", Body=csv_bytes(20, seed=3))
    arns = []
    for _ in range(2):
        arn = start_backfill(sfn, outputs["backfill_state_machine_arn"], "incoming/churn/twice/")
        described = wait_for_execution(sfn, arn, timeout_seconds=120, poll_seconds=0.2)
        assert described["status"] == "SUCCEEDED", described
        arns.append(arn)
    assert arns[0] != arns[1]
    assert not arns[0].endswith(":None")  # a real, generated name
