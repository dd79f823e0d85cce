"""Helpers for the predict Lambda tests (a uniquely named module, like lambda_support): moto buckets laid out as
deployed (production: versioned, SSE-KMS; inference: SSE-KMS), a model fitted by the training code, promoted
archives and pointers, preprocessed batches and predict events."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from inference_support import served_models_text
from lambda_support import CONTEXT, REGION, create_kms_bucket, read_gzip_csv

from building_blocks.lambda_package import build_tar_gz
from sample_data import BATCH_COLUMNS
from tests.moto_support import mock_aws_without_managed_policies, moto_client

PRODUCTION_BUCKET = "ml-production-test"
INFERENCE_BUCKET = "ml-inference-test"
MODEL = "churn"
EXECUTION_ID = "exec-0001"
RUN = f"{MODEL}/{EXECUTION_ID}/"


def churn_served() -> Any:
    from inference_common.contract import parse_served_models

    return parse_served_models(served_models_text())[MODEL]


def archive_bytes(members: dict[str, bytes]) -> bytes:
    """A deterministic tar.gz holding `members` (name -> content): an archive of any shape, to break the contract."""
    return build_tar_gz(members)


def model_archive(model_json: str | bytes) -> bytes:
    """model.tar.gz of `model_json` as SageMaker makes it (model_archive.archive_of)."""
    from model_archive import archive_of

    return archive_of(model_json.encode() if isinstance(model_json, str) else model_json)


def batch_bytes(
    rows: Sequence[Sequence[str]], header: Sequence[str] = BATCH_COLUMNS, *, quoting: int = csv.QUOTE_MINIMAL
) -> bytes:
    """A preprocessed batch: gzip CSV, header then rows, as preprocess writes it (quoting default minimal)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n", quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    return gzip.compress(text.getvalue().encode("utf-8"), mtime=0)


def preprocessed(
    rows_valid: int,
    *,
    rejected: int = 0,
    blank: int = 0,
    run: str = RUN,
    execution_id: str = EXECUTION_ID,
    model: str = MODEL,
) -> dict[str, Any]:
    """The predict event: a preprocess result for a run whose batch holds rows_valid rows."""
    from inference_common.contract import Preprocessed

    return Preprocessed(
        model=model,
        execution_id=execution_id,
        run=run,
        input_uri=f"s3://{INFERENCE_BUCKET}/batches/today.csv",
        input_sha256="ab" * 32,
        input_bytes=1234,
        rows_read=rows_valid + rejected + blank,
        rows_valid=rows_valid,
        rows_rejected=rejected,
        rows_blank=blank,
    ).to_dict(INFERENCE_BUCKET)


@dataclass
class PredictWorld:
    """The moto client, the handler module wired to it, and helpers to promote models and stage batches."""

    s3: Any
    handler: Any

    def promote(
        self,
        model_json: str | bytes,
        version: str = "1.0.0",
        *,
        sequence: int = 1,
        archive: bytes | None = None,
        model: str = MODEL,
    ) -> dict[str, Any]:
        """Copy an archive to the production bucket and point production at it, as promotion does; returns the
        pointer document. `archive` (default: model_json in a model.tar.gz) is what is uploaded."""
        import hashlib

        from promotion.pointer import artifact_key, pointer_document

        data = archive if archive is not None else model_archive(model_json)
        self.s3.put_object(Bucket=PRODUCTION_BUCKET, Key=artifact_key(model, version), Body=data)
        document = pointer_document(
            model=model,
            version=version,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            sequence=sequence,
            promotion={
                "action": "promote",
                "approved_by": "reviewer",
                "approved_at": "2026-11-29T12:00:00Z",
                "reason": "better auc",
                "run": "local",
                "git_sha": "0" * 40,
            },
            quality={"metric": "auc", "value": 0.83, "threshold": 0.75},
            training_data_uri="s3://bucket/processed/churn/",
        )
        self.put_pointer(json.dumps(document), model=model)
        return document

    def put_pointer(self, body: str | bytes, *, model: str = MODEL) -> None:
        from promotion.pointer import pointer_key

        self.s3.put_object(Bucket=PRODUCTION_BUCKET, Key=pointer_key(model), Body=body)

    def put_batch(self, data: bytes, run: str = RUN) -> None:
        from inference_common.contract import RunLayout

        self.s3.put_object(Bucket=INFERENCE_BUCKET, Key=RunLayout(INFERENCE_BUCKET, run).batch_key, Body=data)

    def invoke(self, event: Any) -> dict[str, Any]:
        return self.handler.handler(event, CONTEXT)

    def read(self, key: str, bucket: str = INFERENCE_BUCKET) -> bytes:
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def read_csv(self, key: str) -> list[list[str]]:
        return read_gzip_csv(self.read(key))

    def keys(self, prefix: str = "", bucket: str = INFERENCE_BUCKET) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def open_uploads(self) -> list[dict[str, Any]]:
        return self.s3.list_multipart_uploads(Bucket=INFERENCE_BUCKET).get("Uploads", [])

    def count_gets(self) -> list[str]:
        """The keys of every GetObject the client makes from now on, in order (a live list)."""
        keys: list[str] = []
        self.s3.meta.events.register(
            "before-parameter-build.s3.GetObject", lambda params, **_: keys.append(params["Key"])
        )
        return keys


@contextmanager
def predict_world(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Iterator[PredictWorld]:
    """moto S3 with both buckets, predict.handler wired to it (env, client, served_models.json in `folder`), and
    an empty model cache before and after (it outlives a test otherwise, as it outlives an invocation)."""
    from predict import handler, model_store

    served_path = folder / "served_models.json"
    served_path.write_text(served_models_text(), encoding="utf-8")
    with mock_aws_without_managed_policies():
        s3, kms = moto_client("s3", REGION), moto_client("kms", REGION)
        create_kms_bucket(s3, kms, PRODUCTION_BUCKET)
        create_kms_bucket(s3, kms, INFERENCE_BUCKET, versioned=False)
        monkeypatch.setattr(handler, "s3", s3)
        monkeypatch.setenv("PRODUCTION_BUCKET", PRODUCTION_BUCKET)
        monkeypatch.setenv("INFERENCE_BUCKET", INFERENCE_BUCKET)
        monkeypatch.setenv("SERVED_MODELS_PATH", str(served_path))
        model_store.CACHE.clear()
        try:
            yield PredictWorld(s3=s3, handler=handler)
        finally:
            model_store.CACHE.clear()
