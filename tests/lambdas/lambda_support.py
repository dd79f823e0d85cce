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
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote_plus

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"
if str(LAMBDAS_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDAS_DIR))

RAW_BUCKET = "ml-raw-test"
PROCESSED_BUCKET = "ml-processed-test"
REGION = "us-east-1"
CONTEXT = SimpleNamespace(aws_request_id="req-0001")
SEQUENCER = "0062E99A88DC407460"


@dataclass
class Buckets:
    """The moto S3 client and the two buckets (raw is versioned; both SSE-KMS by default)."""

    s3: Any
    raw: str = RAW_BUCKET
    processed: str = PROCESSED_BUCKET

    def put_raw(self, key: str, body: bytes) -> str | None:
        """Upload to the raw bucket; returns the new version id."""
        return self.s3.put_object(Bucket=self.raw, Key=key, Body=body).get("VersionId")

    def processed_keys(self, prefix: str = "") -> list[str]:
        """The current keys of the processed bucket (under `prefix`, default all)."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.processed, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str, bucket: str | None = None) -> bytes:
        return self.s3.get_object(Bucket=bucket or self.processed, Key=key)["Body"].read()

    def read_csv(self, key: str) -> list[list[str]]:
        return read_gzip_csv(self.read(key))

    def open_uploads(self) -> list[dict[str, Any]]:
        return self.s3.list_multipart_uploads(Bucket=self.processed).get("Uploads", [])


def create_kms_bucket(s3: Any, kms: Any, name: str, *, versioned: bool = True) -> str:
    """A bucket whose default encryption is SSE-KMS with a key of its own (bucket key on), versioned unless
    versioned=False: laid out as the stacks deploy data buckets. Returns the name."""
    key_arn = kms.create_key(Description=f"{name} key")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=name)
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def read_gzip_csv(data: bytes) -> list[list[str]]:
    """The rows of a gzip CSV output; fields may be as long as the largest row bound (a rejected row keeps
    its fields), so csv's own 128 KiB field limit is lifted for the read."""
    previous = csv.field_size_limit(16 * 1024 * 1024)
    try:
        return list(csv.reader(io.StringIO(gzip.decompress(data).decode("utf-8"), newline="")))
    finally:
        csv.field_size_limit(previous)


def s3_event(*records: tuple[str, str | None], sequencer: str = SEQUENCER) -> dict[str, Any]:
    """An S3 ObjectCreated notification of (key, version id) records; keys URL-encoded the way S3 sends them."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2025-06-30T12:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": RAW_BUCKET, "arn": f"arn:aws:s3:::{RAW_BUCKET}"},
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": 1,
                        "eTag": "x",
                        "sequencer": sequencer,
                        **({"versionId": version} if version else {}),
                    },
                },
            }
            for key, version in records
        ]
    }


def invoke(handler_module: Any, event: dict[str, Any]) -> list[dict[str, Any]]:
    """The handler's results for `event`."""
    return handler_module.handler(event, CONTEXT)["results"]
