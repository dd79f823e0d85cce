"""The data-pipeline part of `make demo`: upload sample data, watch the real handler run.

Uploads a generated churn file with some bad rows and a file that is not UTF-8 to the raw
bucket, waits for the processor (triggered by the S3 notification, running the deployed
zip in the emulator) to point the object's index document at the new version, reads the
manifest and the quarantine report the index names, uploads an Excel-style export (byte-order mark,
CRLF, trailing empty lines) that is processed whole, then runs the backfill state machine
over incoming/churn/ and waits for it. Every `make demo` uploads a new version of the same
keys, so the tour also shows the previous run's outputs leaving processed/.
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

from sample_data import EXCEL_TRAILING_BLANK_LINES, bad_file_bytes, csv_bytes, excel_csv_bytes
from tooling.aws_clients import object_exists
from tooling.backfill import start_backfill, wait_for_execution

SAMPLE_KEY = "incoming/churn/customers-sample.csv.gz"
SAMPLE_ROWS, SAMPLE_BAD_ROWS, SAMPLE_SEED = 2_000, 25, 7
BAD_FILE_KEY = "incoming/churn/customers-latin1.csv"
EXCEL_KEY, EXCEL_ROWS = "incoming/churn/customers-excel.csv", 300
WAIT_SECONDS = 120


def sample_file() -> bytes:
    """The demo's sample: a gzip churn CSV with SAMPLE_BAD_ROWS bad rows of every kind."""
    return gzip.compress(csv_bytes(SAMPLE_ROWS, SAMPLE_SEED, bad_rows=SAMPLE_BAD_ROWS), mtime=0)


def index_key(raw_key: str) -> str:
    """Where the processor keeps the pointer to `raw_key`'s current version and its outputs."""
    return "index/" + raw_key.removeprefix("incoming/") + ".json"


def read_json(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """The JSON object at `key`, or None when there is none."""
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise


def wait_for_json(s3: Any, bucket: str, key: str, is_current: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Poll for a JSON object that `is_current` accepts (an older run may have left one)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        document = read_json(s3, bucket, key)
        if document is not None and is_current(document):
            return document
        time.sleep(0.5)
    raise TimeoutError(f"s3://{bucket}/{key} did not appear within {WAIT_SECONDS} s; see .emulator/emulator.log")


def upload_and_wait(
    s3: Any, raw: str, processed: str, key: str, body: bytes
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Put the object; return the index of `key` before (None the first time) and once it names the upload."""
    before = read_json(s3, processed, index_key(key))
    version = s3.put_object(Bucket=raw, Key=key, Body=body)["VersionId"]
    after = wait_for_json(s3, processed, index_key(key), lambda index: index["source"]["version_id"] == version)
    return before, after


def tour(outputs: dict[str, Any], s3: Any, sfn: Any) -> list[tuple[bool, str]]:
    """Print the data-pipeline section; return (ok, text) checks."""
    raw, processed = outputs["raw_data_bucket_name"], outputs["processed_data_bucket_name"]
    print("\nData pipeline:")
    print(f"  raw        s3://{raw}/incoming/<dataset>/...   -> processor Lambda on every upload")
    print(f"  processed  s3://{processed}/processed/... and /quarantine/..., current versions only")
    print(f"  index      s3://{processed}/index/<dataset>/<path>.json names each object's current outputs")

    previous, index = upload_and_wait(s3, raw, processed, SAMPLE_KEY, sample_file())
    print(f"  uploaded   {SAMPLE_KEY} ({SAMPLE_ROWS} rows, {SAMPLE_BAD_ROWS} of them bad)", flush=True)
    print(f"  index      {index_key(SAMPLE_KEY)} -> version {index['version']}, {index['status']}")
    manifest = json.loads(s3.get_object(Bucket=processed, Key=index["manifest"])["Body"].read())
    read, written = manifest["rows_read"], manifest["rows_written"]
    quarantined, blank = manifest["rows_quarantined"], manifest["rows_blank"]
    print(f"  manifest   {index['manifest']}")
    print(f"             rows read {read} = written {written} + quarantined {quarantined} + blank {blank}")
    rejected_key = index["outputs"][1]
    rejected = gzip.decompress(s3.get_object(Bucket=processed, Key=rejected_key)["Body"].read()).decode()
    rows = list(csv.DictReader(io.StringIO(rejected)))
    print(f"  quarantine {rejected_key}, e.g.:")
    for row in rows[:3]:
        print(f"             row {row['row_number']}: {row['reason']}")
    replaced = [key for key in (previous or {}).get("outputs", []) if key not in index["outputs"]]
    gone = not any(object_exists(s3, processed, key) for key in replaced)
    if previous is None:
        print("  versions   first upload of this key: run `make demo` again to see a new version replace it")
    else:
        print(f"  versions   the previous version's {len(replaced)} outputs (an earlier demo run) are gone: {gone}")

    _, excel = upload_and_wait(s3, raw, processed, EXCEL_KEY, excel_csv_bytes(EXCEL_ROWS, SAMPLE_SEED))
    print(f"  uploaded   {EXCEL_KEY} (Excel 'CSV UTF-8': byte-order mark, CRLF, trailing empty lines)")
    print(
        f"             rows read {excel['rows_read']} = written {excel['rows_written']} + quarantined "
        f"{excel['rows_quarantined']} + blank {excel['rows_blank']}: the mark is dropped, empty lines skipped"
    )
    excel_ok = (excel["status"], excel["rows_written"], excel["rows_blank"]) == (
        "processed",
        EXCEL_ROWS,
        EXCEL_TRAILING_BLANK_LINES,
    )

    _, bad_index = upload_and_wait(s3, raw, processed, BAD_FILE_KEY, bad_file_bytes("not_utf8"))
    report = json.loads(s3.get_object(Bucket=processed, Key=bad_index["report"])["Body"].read())
    print(f"  uploaded   {BAD_FILE_KEY} (Latin-1, not UTF-8): quarantined whole")
    print(f"             {bad_index['report']}: {report['reason']}")

    # As a user runs it (`make backfill`): no execution name, the service names each run.
    execution = start_backfill(sfn, outputs["backfill_state_machine_arn"], "incoming/churn/")
    status = wait_for_execution(sfn, execution, WAIT_SECONDS)
    backfilled = json.loads(status.get("output") or "{}").get("objects")
    print(
        f"  backfill   Step Functions Distributed Map over incoming/churn/: {status['status']}, "
        f"{backfilled} objects processed again (idempotent: same version, same keys, nothing removed)"
    )
    checks = [
        (
            read == written + quarantined + blank and quarantined == SAMPLE_BAD_ROWS and read == SAMPLE_ROWS,
            f"processor: {read} rows read = {written} written + {quarantined} quarantined + {blank} blank, "
            "each rejected row with a reason",
        ),
        (
            excel_ok,
            f"an Excel export: all {excel['rows_written']} rows written, {excel['rows_blank']} empty lines "
            "counted as blank, none rejected",
        ),
        (report["reason_code"] == "not_utf8", f"a file that is not UTF-8 went to quarantine ({report['reason_code']})"),
        (status["status"] == "SUCCEEDED", f"backfill over incoming/churn/ {status['status'].lower()}"),
    ]
    if previous is not None:  # a first run has no older version to replace
        checks.insert(1, (gone, f"a new version replaced the previous one: its {len(replaced)} outputs are gone"))
    return checks
