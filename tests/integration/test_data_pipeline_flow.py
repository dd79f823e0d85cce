"""The data pipeline end to end in the emulator: upload -> S3 notification -> the real
handler (deployed zip, local Lambda runtime) -> processed rows, quarantine and manifest;
and the backfill state machine over a prefix of several files."""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sample_data import bad_file_bytes, csv_bytes

pytestmark = pytest.mark.integration

WAIT_SECONDS = 90


def wait_for_object(s3: Any, bucket: str, key: str) -> bytes:
    """Poll until `key` exists (the handler runs asynchronously, as on AWS)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("NoSuchKey", "404") or time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def test_upload_is_processed_by_the_real_handler_and_counts_add_up(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    outputs, s3 = stack_outputs("data-pipeline"), aws("s3")
    raw, processed = outputs["raw_data_bucket_name"], outputs["processed_data_bucket_name"]
    bad = 16
    body = gzip.compress(csv_bytes(500, seed=11, bad_rows=bad), mtime=0)
    s3.put_object(Bucket=raw, Key="incoming/churn/flow-test.csv.gz", Body=body)
    date = s3.head_object(Bucket=raw, Key="incoming/churn/flow-test.csv.gz")["LastModified"].strftime("%Y-%m-%d")

    base = f"churn/dt={date}/flow-test"
    manifest = json.loads(wait_for_object(s3, processed, f"processed/{base}.manifest.json"))
    assert (manifest["rows_read"], manifest["rows_written"], manifest["rows_quarantined"]) == (500, 500 - bad, bad)
    clean = gzip.decompress(s3.get_object(Bucket=processed, Key=f"processed/{base}.csv.gz")["Body"].read())
    rejected = gzip.decompress(s3.get_object(Bucket=processed, Key=f"quarantine/{base}.rejected.csv.gz")["Body"].read())
    assert len(clean.decode().splitlines()) == 1 + 500 - bad  # header + clean rows
    rejected_rows = list(csv.DictReader(io.StringIO(rejected.decode())))
    assert len(rejected_rows) == bad and all(row["reason"] for row in rejected_rows)
    head = s3.head_object(Bucket=processed, Key=f"processed/{base}.csv.gz")
    assert head["ServerSideEncryption"] == "aws:kms"  # written under the processed bucket's key
    assert s3.head_object(Bucket=raw, Key="incoming/churn/flow-test.csv.gz")  # the original stays


def test_a_file_with_the_wrong_header_is_quarantined_whole_with_a_report(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    outputs, s3 = stack_outputs("data-pipeline"), aws("s3")
    raw, processed = outputs["raw_data_bucket_name"], outputs["processed_data_bucket_name"]
    s3.put_object(Bucket=raw, Key="incoming/churn/swapped.csv", Body=bad_file_bytes("wrong_header"))
    date = s3.head_object(Bucket=raw, Key="incoming/churn/swapped.csv")["LastModified"].strftime("%Y-%m-%d")
    report = json.loads(wait_for_object(s3, processed, f"quarantine/churn/dt={date}/swapped/report.json"))
    assert report["reason_code"] == "bad_header"
    copy = s3.get_object(Bucket=processed, Key=f"quarantine/churn/dt={date}/swapped/swapped.csv")["Body"].read()
    assert copy == bad_file_bytes("wrong_header")


def test_handler_exceptions_surface_as_lambda_function_errors(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    function = stack_outputs("data-pipeline")["data_processor_function_name"]
    response = aws("lambda").invoke(FunctionName=function, Payload=json.dumps({"unexpected": "event"}))
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "InvalidEvent"


def test_backfill_processes_every_object_under_a_prefix(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    outputs, s3, sfn = stack_outputs("data-pipeline"), aws("s3"), aws("stepfunctions")
    raw, processed = outputs["raw_data_bucket_name"], outputs["processed_data_bucket_name"]
    for part in range(4):
        s3.put_object(Bucket=raw, Key=f"incoming/churn/backfill/part-{part}.csv", Body=csv_bytes(50, seed=part))
    execution = sfn.start_execution(
        stateMachineArn=outputs["backfill_state_machine_arn"],
        name=f"backfill-test-{int(time.time())}",
        input=json.dumps({"prefix": "incoming/churn/backfill/"}),
    )
    deadline = time.monotonic() + WAIT_SECONDS
    while (status := sfn.describe_execution(executionArn=execution["executionArn"]))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "backfill did not finish"
        time.sleep(1)
    assert status["status"] == "SUCCEEDED", status
    assert json.loads(status["output"]) == {"objects": 4}
    date = s3.head_object(Bucket=raw, Key="incoming/churn/backfill/part-0.csv")["LastModified"].strftime("%Y-%m-%d")
    for part in range(4):
        manifest = json.loads(
            wait_for_object(s3, processed, f"processed/churn/dt={date}/backfill--part-{part}.manifest.json")
        )
        assert manifest["rows_read"] == manifest["rows_written"] == 50
