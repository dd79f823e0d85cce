"""Is this candidate fit for production? The artifact contract (training/README.md), checked against S3.

A candidate is `models/<name>/<version>/` in the candidate bucket: model.tar.gz, metrics.json and
manifest.json. `inspect_candidate` reads the manifest and the metrics, streams the archive through sha256
(S3's stored checksum is not trusted for this: the point is to catch bytes that changed after publishing),
and checks the quality metric against the environment's threshold. Every failure is a CandidateError with
one line naming the candidate and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from promotion.pointer import ARCHIVE_FILE, artifact_key
from promotion.record import Quality
from training.model_naming import AUTO, check_model_name, check_model_version

MANIFEST_FILE = "manifest.json"
METRICS_FILE = "metrics.json"
MANIFEST_VERSION = 1
CHUNK_BYTES = 8 * 1024 * 1024
COPY_OBJECT_MAX_BYTES = 5 * 1024**3  # aws_s3_object_copy is one CopyObject call

Progress = Callable[[int, int], None]  # (bytes hashed so far, total bytes)


class CandidateError(RuntimeError):
    """The candidate cannot be promoted; the message says which one and why, on one line."""


@dataclass(frozen=True)
class HashedObject:
    """An object's bytes as read once: their sha256 and size, and the ETag S3 gave for exactly those bytes."""

    sha256: str
    bytes: int
    etag: str


@dataclass(frozen=True)
class Candidate:
    model: str
    version: str
    sha256: str
    bytes: int
    etag: str
    manifest_sha256: str
    training_data_uri: str
    quality: Quality


def check_names(model: str, version: str) -> tuple[str, str]:
    """Both well-formed (the model naming rules admit no `/`, `..`, spaces or shell metacharacters), and the
    version a published one; CandidateError otherwise."""
    try:
        check_model_name(model)
        check_model_version(version)
    except ValueError as exc:
        raise CandidateError(str(exc)) from exc
    if version == AUTO:
        raise CandidateError(f"model version {version!r} is invalid here: name the published version to promote")
    return model, version


def check_manifest(manifest: Any, model: str, version: str, where: str) -> tuple[str, int, str]:
    """The manifest describes this model version's archive: returns (sha256, bytes, training data URI)."""
    if not isinstance(manifest, dict) or manifest.get("manifest_version") != MANIFEST_VERSION:
        raise CandidateError(f"{where} is not a version {MANIFEST_VERSION} candidate manifest")
    named = manifest.get("model") or {}
    if named.get("name") != model or named.get("version") != version:
        raise CandidateError(f"{where} describes {named.get('name')!r} {named.get('version')!r}, not {model} {version}")
    artifact = manifest.get("artifact") or {}
    sha256, size = artifact.get("sha256"), artifact.get("bytes")
    if artifact.get("file") != ARCHIVE_FILE or not isinstance(sha256, str) or not isinstance(size, int):
        raise CandidateError(f"{where} has no artifact {{file: {ARCHIVE_FILE}, sha256, bytes}}")
    uri = (manifest.get("training_data") or {}).get("uri")
    if not isinstance(uri, str):
        raise CandidateError(f"{where} has no training_data.uri")
    return sha256, size, uri


def check_quality(metrics: Any, metric: str, threshold: float, where: str) -> Quality:
    """`metrics.<metric>` reaches `threshold` (the environment's quality gate, read again at promotion time,
    so raising the threshold in config stops older candidates too)."""
    values = metrics.get("metrics") if isinstance(metrics, dict) else None
    value = values.get(metric) if isinstance(values, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CandidateError(f"{where} has no numeric metrics.{metric}")
    if value < threshold:
        raise CandidateError(f"{where}: {metric} {value:.4f} is below the promotion threshold {threshold}")
    return Quality(metric=metric, value=float(value), threshold=threshold)


def inspect_candidate(
    s3: Any,
    bucket: str,
    model: str,
    version: str,
    *,
    metric: str,
    threshold: float,
    progress: Progress | None = None,
) -> Candidate:
    """Every check of the contract against `s3://bucket/models/<model>/<version>/`; CandidateError otherwise."""
    check_names(model, version)
    prefix = artifact_key(model, version).removesuffix(ARCHIVE_FILE)
    location = f"s3://{bucket}/{prefix}"
    manifest_bytes = _read(s3, bucket, prefix + MANIFEST_FILE, missing=_missing_candidate(s3, bucket, model, version))
    try:
        manifest = json.loads(manifest_bytes)
    except json.JSONDecodeError as exc:
        raise CandidateError(f"{location}{MANIFEST_FILE} is not JSON: {exc}") from exc
    sha256, size, training_data_uri = check_manifest(manifest, model, version, location + MANIFEST_FILE)

    metrics_bytes = _read(s3, bucket, prefix + METRICS_FILE)
    expected_metrics = (manifest.get("metrics") or {}).get("sha256")
    if hashlib.sha256(metrics_bytes).hexdigest() != expected_metrics:
        raise CandidateError(f"{location}{METRICS_FILE} does not match the sha256 its manifest records")
    try:
        metrics = json.loads(metrics_bytes)
    except json.JSONDecodeError as exc:
        raise CandidateError(f"{location}{METRICS_FILE} is not JSON: {exc}") from exc
    quality = check_quality(metrics, metric, threshold, location + METRICS_FILE)

    if size > COPY_OBJECT_MAX_BYTES:
        raise CandidateError(
            f"{location}{ARCHIVE_FILE} is {size:,} bytes: one CopyObject copies at most 5 GB "
            "(README: Promotion); publish a smaller archive"
        )
    archive = hash_object(s3, bucket, prefix + ARCHIVE_FILE, progress)
    if archive.bytes != size or archive.sha256 != sha256:
        raise CandidateError(
            f"{location}{ARCHIVE_FILE} has sha256 {archive.sha256} ({archive.bytes} bytes) but its manifest records "
            f"{sha256} ({size} bytes): the archive changed after it was published"
        )
    return Candidate(
        model=model,
        version=version,
        sha256=sha256,
        bytes=size,
        etag=archive.etag,
        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        training_data_uri=training_data_uri,
        quality=quality,
    )


def hash_object(s3: Any, bucket: str, key: str, progress: Progress | None = None) -> HashedObject:
    """An object's sha256, size and ETag from one GET, read in chunks (memory stays flat for any model size)."""
    response = _get(s3, bucket, key)
    total = int(response.get("ContentLength", 0))
    digest, done = hashlib.sha256(), 0
    for chunk in response["Body"].iter_chunks(CHUNK_BYTES):
        digest.update(chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    return HashedObject(digest.hexdigest(), done, str(response["ETag"]))


def published_versions(s3: Any, bucket: str, model: str) -> list[str]:
    """Versions of `model` with a manifest in the candidate bucket, newest first (by upload time)."""
    found: list[tuple[Any, str]] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"models/{model}/"):
        for item in page.get("Contents", []):
            parts = item["Key"].split("/")
            if len(parts) == 4 and parts[3] == MANIFEST_FILE:
                found.append((item["LastModified"], parts[2]))
    return [version for _, version in sorted(found, reverse=True)]


def _missing_candidate(s3: Any, bucket: str, model: str, version: str) -> Callable[[], str]:
    def explain() -> str:
        versions = published_versions(s3, bucket, model)
        known = f"published versions (newest first): {', '.join(versions[:5])}" if versions else "none is published"
        return f"no candidate {model} {version} in s3://{bucket}/models/{model}/{version}/; {known}"

    return explain


def _read(s3: Any, bucket: str, key: str, missing: Callable[[], str] | None = None) -> bytes:
    return _get(s3, bucket, key, missing)["Body"].read()


def _get(s3: Any, bucket: str, key: str, missing: Callable[[], str] | None = None) -> Mapping[str, Any]:
    try:
        return s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("NoSuchKey", "404"):
            raise CandidateError(missing() if missing else f"s3://{bucket}/{key} does not exist") from exc
        if code == "NoSuchBucket":
            raise CandidateError(f"bucket {bucket} does not exist: is the artifact store deployed?") from exc
        raise CandidateError(
            f"cannot read s3://{bucket}/{key}: {code} {exc.response['Error'].get('Message', '')}"
        ) from exc
