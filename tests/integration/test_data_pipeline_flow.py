"""The data pipeline end to end in the emulator: upload -> S3 notification -> the real
handler (deployed zip, local Lambda runtime) -> processed rows, quarantine and manifest, found
through each raw object's index document; a second version superseding the first; and the
backfill state machine over a prefix of several files."""

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
from tooling.aws_clients import object_exists
from tooling.backfill import wait_for_execution

pytestmark = pytest.mark.integration

WAIT_SECONDS = 90


def wait_for_index(s3: Any, bucket: str, raw_key: str, version_id: str) -> dict[str, Any]:
    """Poll until the index of `raw_key` names `version_id` (the handler runs asynchronously, as on AWS)."""
    key = "index/" + raw_key.removeprefix("incoming/") + ".json"
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            index = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            if index["source"]["version_id"] == version_id:
                return index
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("NoSuchKey", "404"):
                raise
        assert time.monotonic() < deadline, f"{key} did not name version {version_id} within {WAIT_SECONDS} s"
        time.sleep(0.1)


def read(s3: Any, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_upload_is_processed_by_the_real_handler_and_counts_add_up(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    outputs, s3 = stack_outputs("data-pipeline"), aws("s3")
    raw, processed = outputs["raw_data_bucket_name"], outputs["processed_data_bucket_name"]
    bad = 16
    body = gzip.compress(csv_bytes(500, seed=11, bad_rows=bad), mtime=0)
    key = "incoming/churn/flow-test.csv.gz"
    version = s3.put_object(Bucket=raw, Key=key, Body=body)["VersionId"]
    date = s3.head_object(Bucket=raw, Key=key)["LastModified"].strftime("%Y-%m-%d")

    index = wait_for_index(s3, processed, key, version)
    base = f"churn/dt={date}/flow-test/{version}"
    assert index["outputs"] == [
        f"processed/{base}.csv.gz",
        f"quarantine/{base}.rejected.csv.gz",
        f"processed/{base}.manifest.json",
    ]
    manifest = json.loads(read(s3, processed, index["manifest"]))
    counts = ("rows_read", "rows_written", "rows_quarantined", "rows_blank")
    assert tuple(manifest[name] for name in counts) == tuple(index[name] for name in counts) == (500, 500 - bad, bad, 0)
    clean = gzip.decompress(read(s3, processed, index["outputs"][0]))
    rejected = gzip.decompress(read(s3, processed, index["outputs"][1]))
    assert len(clean.decode().splitlines()) == 1 + 500 - bad  # header + clean rows
    rejected_rows = list(csv.DictReader(io.StringIO(rejected.decode())))
    assert len(rejected_rows) == bad and all(row["reason"] for row in rejected_rows)
    head = s3.head_object(Bucket=processed, Key=index["outputs"][0])
    assert head["ServerSideEncryption"] == "aws:kms"  # written under the processed bucket's key
    assert s3.head_object(Bucket=raw, Key=key)  # the original stays


def test_a_file_with_the_wrong_header_is_quarantined_whole_with_a_report(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    outputs, s3 = stack_outputs("data-pipeline"), aws("s3")
    raw, processed = outputs["raw_data_bucket_name"], outputs["processed_data_bucket_name"]
    key = "incoming/churn/swapped.csv"
    version = s3.put_object(Bucket=raw, Key=key, Body=bad_file_bytes("wrong_header"))["VersionId"]
    date = s3.head_object(Bucket=raw, Key=key)["LastModified"].strftime("%Y-%m-%d")
    index = wait_for_index(s3, processed, key, version)
    folder = f"quarantine/churn/dt={date}/swapped/{version}"
    assert (index["status"], index["reason_code"]) == ("quarantined", "bad_header")
    assert index["outputs"] == [f"{folder}/swapped.csv", f"{folder}/report.json"]
    assert json.loads(read(s3, processed, index["report"]))["reason_code"] == "bad_header"
    assert read(s3, processed, f"{folder}/swapped.csv") == bad_file_bytes("wrong_header")


def test_a_second_version_supersedes_the_first_through_the_deployed_handler(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    outputs, s3 = stack_outputs("data-pipeline"), aws("s3")
    raw, processed = outputs["raw_data_bucket_name"], outputs["processed_data_bucket_name"]
    key = "incoming/churn/versioned.csv"
    first_version = s3.put_object(Bucket=raw, Key=key, Body=csv_bytes(40, seed=21))["VersionId"]
    first = wait_for_index(s3, processed, key, first_version)
    second_version = s3.put_object(Bucket=raw, Key=key, Body=csv_bytes(25, seed=22, bad_rows=3))["VersionId"]
    second = wait_for_index(s3, processed, key, second_version)

    assert (first["rows_read"], second["rows_read"], second["rows_quarantined"]) == (40, 25, 3)
    assert not any(object_exists(s3, processed, output) for output in first["outputs"]), (
        "the first version's outputs are gone"
    )
    assert all(object_exists(s3, processed, output) for output in second["outputs"])
    listed = s3.list_objects_v2(Bucket=processed, Prefix="processed/churn/").get("Contents", [])
    assert sorted(item["Key"] for item in listed if "/versioned/" in item["Key"]) == sorted(
        output for output in second["outputs"] if output.startswith("processed/")
    )


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
    status = wait_for_execution(sfn, execution["executionArn"], WAIT_SECONDS, poll_seconds=0.2)
    assert status["status"] == "SUCCEEDED", status
    assert json.loads(status["output"]) == {"objects": 4}
    for part in range(4):
        key = f"incoming/churn/backfill/part-{part}.csv"
        index = wait_for_index(s3, processed, key, s3.head_object(Bucket=raw, Key=key)["VersionId"])
        assert f"/backfill--part-{part}/" in index["manifest"]
        manifest = json.loads(read(s3, processed, index["manifest"]))
        assert manifest["rows_read"] == manifest["rows_written"] == 50
