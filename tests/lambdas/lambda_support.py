"""Helpers shared by the Lambda tests (a uniquely named module: the test folders have no __init__.py,
and tests/sample_data/__init__.py would shadow the real sample_data package).

Importing this module puts lambdas/ on sys.path: the deployed zip has data_processor/ and lambda_common/
at its root, and the tests import them the same way (harmless if pytest.ini already sets pythonpath)."""

from __future__ import annotations

import csv
import gzip
import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"
if str(LAMBDAS_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDAS_DIR))

RAW_BUCKET = "ml-raw-test"
PROCESSED_BUCKET = "ml-processed-test"
REGION = "us-east-1"


@dataclass
class Buckets:
    """The moto S3 client and the two buckets (raw is versioned; both SSE-KMS by default)."""

    s3: Any
    raw: str = RAW_BUCKET
    processed: str = PROCESSED_BUCKET

    def put_raw(self, key: str, body: bytes) -> str | None:
        """Upload to the raw bucket; returns the new version id."""
        return self.s3.put_object(Bucket=self.raw, Key=key, Body=body).get("VersionId")

    def processed_keys(self) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.processed)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str, bucket: str | None = None) -> bytes:
        return self.s3.get_object(Bucket=bucket or self.processed, Key=key)["Body"].read()

    def read_csv(self, key: str) -> list[list[str]]:
        return read_gzip_csv(self.read(key))

    def open_uploads(self) -> list[dict[str, Any]]:
        return self.s3.list_multipart_uploads(Bucket=self.processed).get("Uploads", [])


def read_gzip_csv(data: bytes) -> list[list[str]]:
    """The rows of a gzip CSV output; fields may be as long as the largest row bound (a rejected row keeps
    its fields), so csv's own 128 KiB field limit is lifted for the read."""
    previous = csv.field_size_limit(16 * 1024 * 1024)
    try:
        return list(csv.reader(io.StringIO(gzip.decompress(data).decode("utf-8"), newline="")))
    finally:
        csv.field_size_limit(previous)
