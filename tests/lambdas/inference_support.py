"""Helpers for the inference Lambda tests (a uniquely named module, beside lambda_support): the served models as
the stack packages them, an SSE-KMS inference bucket on moto, churn batches (the dataset's rows without the label)
and the preprocess event."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from lambda_support import create_kms_bucket  # (importing it puts lambdas/ on sys.path)

import platform_config
from platform_config.datasets import load_datasets
from platform_config.serving import served_models_json
from sample_data import BATCH_COLUMNS, COLUMNS, generate_rows, without_label

INFERENCE_BUCKET = "ml-inference-test"
MODEL = "churn"


def served_models_text(*, max_object_mib: int | None = None) -> str:
    """served_models.json as the stack renders it for the local environment; max_object_mib (default None: the
    dataset's own) overrides the batch size limit."""
    text = served_models_json(platform_config.load("local"), load_datasets())
    if max_object_mib is None:
        return text
    document = json.loads(text)
    for model in document["models"].values():
        model["dataset"]["max_object_mib"] = max_object_mib
    return json.dumps(document)


def create_inference_bucket(s3: Any, kms: Any, name: str = INFERENCE_BUCKET) -> str:
    """A versioned bucket with its own KMS key as default encryption, as deployed."""
    return create_kms_bucket(s3, kms, name)


@dataclass(frozen=True)
class BatchRow:
    """One record of a test batch: its fields as written, and whether the batch schema accepts it."""

    fields: tuple[str, ...]
    valid: bool


def batch_rows(rows: int, *, bad_rows: int = 0, seed: int = 5) -> list[BatchRow]:
    """Sample churn rows without the label column (sample_data.without_label); `bad_rows` of them carry a defect
    (as sample_data.generate_rows injects them). A defect that only touched the label leaves a valid batch row."""
    return [
        BatchRow(batch.fields, batch.defect is None)
        for batch in map(without_label, generate_rows(rows, seed, bad_rows=bad_rows))
    ]


def csv_text(header: tuple[str, ...], records: list[tuple[str, ...]]) -> bytes:
    """A CSV (LF line ends) of `header` and `records`, as UTF-8 bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(records)
    return buffer.getvalue().encode("utf-8")


def batch_bytes(rows: int, *, bad_rows: int = 0, seed: int = 5, with_label: bool = False) -> bytes:
    """A batch CSV of `rows` sample rows; with_label (default False) keeps the label column (a bad batch)."""
    if with_label:
        samples = generate_rows(rows, seed, bad_rows=bad_rows)
        return csv_text(COLUMNS, [sample.fields for sample in samples])
    return csv_text(BATCH_COLUMNS, [row.fields for row in batch_rows(rows, bad_rows=bad_rows, seed=seed)])


def event(key: str, execution_id: str = "exec-0001", bucket: str = INFERENCE_BUCKET, **request: Any) -> dict[str, Any]:
    """Preprocess's event for the batch at s3://bucket/key; `request` adds or overrides input fields."""
    return {"request": {"model": MODEL, "input_uri": f"s3://{bucket}/{key}", **request}, "execution_id": execution_id}


def bucket_keys(s3: Any, bucket: str = INFERENCE_BUCKET, prefix: str = "") -> list[str]:
    """The current keys of `bucket` under `prefix` (default all)."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def open_uploads(s3: Any, bucket: str = INFERENCE_BUCKET) -> list[dict[str, Any]]:
    """The multipart uploads started in `bucket` and neither completed nor aborted."""
    return s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
