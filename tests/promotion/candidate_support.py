"""Candidates as training publishes them (training/README.md's artifact contract), written straight to S3 so
promotion tests do not need a pipeline run: model.tar.gz, metrics.json and manifest.json with their sha256s."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from typing import Any

ARCHIVE, METRICS, MANIFEST = "model.tar.gz", "metrics.json", "manifest.json"


def model_archive(model: str, version: str) -> bytes:
    """A deterministic tar.gz holding a model.json that names the version (distinct bytes per version)."""
    payload = json.dumps({"format": "ml-platform/linear-model", "model": model, "version": version}).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        info = tarfile.TarInfo("model.json")
        info.size, info.mtime = len(payload), 0
        archive.addfile(info, io.BytesIO(payload))
    return gzip.compress(raw.getvalue(), mtime=0)


def publish_candidate(s3: Any, bucket: str, model: str, version: str, *, auc: float = 0.85) -> dict[str, Any]:
    """Write the three files of a candidate; returns its manifest."""
    prefix = f"models/{model}/{version}/"
    archive = model_archive(model, version)
    values = {"auc": auc, "accuracy": 0.8, "precision": 0.7, "recall": 0.6, "f1": 0.65, "log_loss": 0.4}
    metrics = json.dumps(
        {
            "metrics": values,
            "rows": {"test": 100, "positives": 20},
            "threshold": 0.5,
            "model": {"archive_sha256": hashlib.sha256(archive).hexdigest()},
        }
    ).encode()
    manifest = {
        "manifest_version": 1,
        "model": {"name": model, "version": version},
        "format": "ml-platform/linear-model",
        "format_version": 1,
        "artifact": {"file": ARCHIVE, "sha256": hashlib.sha256(archive).hexdigest(), "bytes": len(archive)},
        "metrics": {"file": METRICS, "sha256": hashlib.sha256(metrics).hexdigest(), "values": values},
        "training_data": {"uri": "s3://mlp-local-processed-data/processed/churn/", "rows": 400, "positives": 80},
        "pipeline_execution_arn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlp-local-training/execution/x1",
        "created_at": "2026-11-29T12:00:00Z",
    }
    s3.put_object(Bucket=bucket, Key=prefix + ARCHIVE, Body=archive)
    s3.put_object(Bucket=bucket, Key=prefix + METRICS, Body=metrics)
    s3.put_object(Bucket=bucket, Key=prefix + MANIFEST, Body=json.dumps(manifest).encode())
    return manifest
