"""The data-pipeline part of `make demo`: upload sample data, watch the real handler run.

Uploads a generated churn file with some bad rows and a file that is not UTF-8 to the raw
bucket, waits for the processor (triggered by the S3 notification, running the deployed
zip in the emulator) to write its manifest and quarantine report, then runs the backfill
state machine over incoming/churn/ and waits for it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from sample_data import bad_file_bytes, csv_bytes

SAMPLE_KEY = "incoming/churn/customers-sample.csv.gz"
SAMPLE_ROWS, SAMPLE_BAD_ROWS, SAMPLE_SEED = 2_000, 25, 7
BAD_FILE_KEY = "incoming/churn/customers-latin1.csv"
WAIT_SECONDS = 120


def sample_file() -> bytes:
    """The demo's sample: a gzip churn CSV with SAMPLE_BAD_ROWS bad rows of every kind."""
    return gzip.compress(csv_bytes(SAMPLE_ROWS, SAMPLE_SEED, bad_rows=SAMPLE_BAD_ROWS), mtime=0)


def wait_for_json(s3: Any, bucket: str, key: str, is_current: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Poll for a JSON object that `is_current` accepts (an older run may have left one)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            if is_current(document):
                return document
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("NoSuchKey", "404"):
                raise
        time.sleep(0.5)
    raise TimeoutError(f"s3://{bucket}/{key} did not appear within {WAIT_SECONDS} s; see .emulator/emulator.log")


def upload(s3: Any, bucket: str, key: str, body: bytes) -> tuple[str, str]:
    """Put the object; return its version id and its LastModified day (the `dt=` partition)."""
    version = s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]
    day = s3.head_object(Bucket=bucket, Key=key, VersionId=version)["LastModified"].strftime("%Y-%m-%d")
    return version, day


def run_backfill(sfn: Any, state_machine_arn: str, prefix: str) -> dict[str, Any]:
    """Start the backfill over `prefix` and wait for it to end."""
    execution = sfn.start_execution(
        stateMachineArn=state_machine_arn, name=f"demo-backfill-{time.time_ns()}", input=json.dumps({"prefix": prefix})
    )
    deadline = time.monotonic() + WAIT_SECONDS
    while (status := sfn.describe_execution(executionArn=execution["executionArn"]))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            raise TimeoutError(f"backfill still running after {WAIT_SECONDS} s")
        time.sleep(1)
    return status


def tour(outputs: dict[str, Any], s3: Any, sfn: Any) -> list[tuple[bool, str]]:
    """Print the data-pipeline section; return (ok, text) checks."""
    raw, processed = outputs["raw_data_bucket_name"], outputs["processed_data_bucket_name"]
    print("\nData pipeline:")
    print(f"  raw        s3://{raw}/incoming/<dataset>/...   -> processor Lambda on every upload")
    print(f"  processed  s3://{processed}/processed/... and /quarantine/...")

    version, day = upload(s3, raw, SAMPLE_KEY, sample_file())
    print(f"  uploaded   {SAMPLE_KEY} ({SAMPLE_ROWS} rows, {SAMPLE_BAD_ROWS} of them bad)", flush=True)
    manifest_key = f"processed/churn/dt={day}/customers-sample.manifest.json"
    manifest = wait_for_json(s3, processed, manifest_key, lambda m: m["source"]["version_id"] == version)
    read, written, quarantined = manifest["rows_read"], manifest["rows_written"], manifest["rows_quarantined"]
    print(f"  manifest   {manifest_key}")
    print(f"             rows read {read} = written {written} + quarantined {quarantined}")
    rejected_key = f"quarantine/churn/dt={day}/customers-sample.rejected.csv.gz"
    rejected = gzip.decompress(s3.get_object(Bucket=processed, Key=rejected_key)["Body"].read()).decode()
    rows = list(csv.DictReader(io.StringIO(rejected)))
    print(f"  quarantine {rejected_key}, e.g.:")
    for row in rows[:3]:
        print(f"             row {row['row_number']}: {row['reason']}")

    bad_version, bad_day = upload(s3, raw, BAD_FILE_KEY, bad_file_bytes("not_utf8"))
    report_key = f"quarantine/churn/dt={bad_day}/customers-latin1/report.json"
    report = wait_for_json(s3, processed, report_key, lambda r: r["source"].get("version_id") == bad_version)
    print(f"  uploaded   {BAD_FILE_KEY} (Latin-1, not UTF-8): quarantined whole")
    print(f"             {report_key}: {report['reason']}")

    status = run_backfill(sfn, outputs["backfill_state_machine_arn"], "incoming/churn/")
    backfilled = json.loads(status.get("output") or "{}").get("objects")
    print(
        f"  backfill   Step Functions Distributed Map over incoming/churn/: {status['status']}, "
        f"{backfilled} objects processed again (idempotent: same keys, no duplicate rows)"
    )
    return [
        (
            read == written + quarantined and quarantined == SAMPLE_BAD_ROWS and read == SAMPLE_ROWS,
            f"processor: {read} rows read = {written} written + {quarantined} quarantined, each with a reason",
        ),
        (report["reason_code"] == "not_utf8", f"a file that is not UTF-8 went to quarantine ({report['reason_code']})"),
        (status["status"] == "SUCCEEDED", f"backfill over incoming/churn/ {status['status'].lower()}"),
    ]
