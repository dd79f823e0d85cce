"""Process one raw object: head it, stream it through processing.process_csv into the processed bucket,
or quarantine it whole. The only module that combines S3 calls with the pure pieces.

Outcomes (ObjectResult.status):
  processed     clean rows, rejected rows (header only when none) and the manifest are written, the
                manifest last; the three keys are the same for a duplicate delivery, so a retry overwrites.
  quarantined   the object is unusable as a whole (ObjectResult.reason_code says why): it is copied to
                quarantine/<dataset or _unknown>/dt=<date>/<source_name>/<file name> beside report.json,
                any multipart upload already started is aborted, no processed output is written.
                Keys outside incoming/ are never read (the role may not): only the report is written.
Bad data never raises. AWS errors do (the Lambda retries, then the DLQ), after aborting started uploads.
The original object always stays where it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from data_processor import keys
from data_processor.events import ObjectRef
from data_processor.processing import StreamResult, WholeObjectRejected, process_csv
from data_processor.s3_io import PART_SIZE_BYTES, MultipartUploadWriter, copy_object, put_json
from data_processor.schema import CompiledSchema
from lambda_common.structured_log import StructuredLogger

MISSING_OBJECT_CODES = {"404", "NoSuchKey", "NoSuchVersion"}
GZIP_CONTENT_TYPE = "application/gzip"


class SourceChanged(RuntimeError):
    """The bytes read do not match what HeadObject announced; raised so the invocation is retried."""


class CountMismatch(RuntimeError):
    """The stream's counts do not add up (a bug): raised before the manifest is written, so nothing is published."""


@dataclass(frozen=True)
class Settings:
    """Where outputs go and what is accepted. part_size default 8 MiB (the multipart part size)."""

    processed_bucket: str
    schemas: Mapping[str, CompiledSchema]
    part_size: int = PART_SIZE_BYTES


@dataclass(frozen=True)
class ObjectResult:
    """What happened to one object; to_dict() is one entry of the handler's "results"."""

    source_bucket: str
    source_key: str
    version_id: str | None
    etag: str | None
    status: str
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    rows_blank: int = 0
    reason: str | None = None
    reason_code: str | None = None
    outputs: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_bucket": self.source_bucket,
            "source_key": self.source_key,
            "version_id": self.version_id,
            "etag": self.etag,
            "status": self.status,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "rows_quarantined": self.rows_quarantined,
            "rows_blank": self.rows_blank,
            "reason": self.reason,
            "reason_code": self.reason_code,
            "outputs": list(self.outputs),
        }


@dataclass(frozen=True)
class _Head:
    version_id: str | None
    etag: str
    size: int
    last_modified: datetime

    def source_fields(self, ref: ObjectRef) -> dict[str, Any]:
        return {
            "bucket": ref.bucket,
            "key": ref.key,
            "version_id": self.version_id,
            "etag": self.etag,
            "size": self.size,
            "last_modified": _iso(self.last_modified),
        }


def process_object(
    s3: Any,
    ref: ObjectRef,
    settings: Settings,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    log: StructuredLogger | None = None,
) -> ObjectResult:
    """Process `ref` into settings.processed_bucket; see the module docstring for the outcomes.
    now (default: the current UTC time) stamps processed_at/detected_at; log (default None) gets warnings."""
    source = keys.parse_source_key(ref.key)
    if not source.readable:
        return _report_only(
            s3,
            ref,
            settings,
            source,
            keys.partition_date(ref.event_time or now()),
            now,
            "outside_incoming",
            "the key is not under incoming/<dataset>/; it was not read",
        )
    head = _head(s3, ref)
    if head is None:
        return _report_only(
            s3,
            ref,
            settings,
            source,
            keys.partition_date(ref.event_time or now()),
            now,
            "missing",
            "the object (or this version of it) no longer exists",
        )
    date = keys.partition_date(head.last_modified)
    schema = settings.schemas.get(source.dataset) if source.dataset is not None else None
    rejection = _precheck(source, schema, head, settings)
    if rejection is not None:
        return _quarantine_whole(s3, ref, settings, source, head, date, now, rejection, known=schema is not None)
    assert schema is not None and source.dataset is not None  # _precheck guarantees both
    outputs = keys.output_keys(source.dataset, date, keys.source_name(source.path))
    try:
        stream = _stream(s3, ref, head, schema, outputs, settings, log)
    except WholeObjectRejected as exc:
        return _quarantine_whole(s3, ref, settings, source, head, date, now, exc, known=True)
    manifest = _manifest(ref, head, schema, stream, outputs, settings, now)
    put_json(s3, settings.processed_bucket, outputs.manifest, manifest)
    return ObjectResult(
        source_bucket=ref.bucket,
        source_key=ref.key,
        version_id=head.version_id,
        etag=head.etag,
        status="processed",
        rows_read=stream.rows_read,
        rows_written=stream.rows_written,
        rows_quarantined=stream.rows_quarantined,
        rows_blank=stream.rows_blank,
        outputs=(outputs.clean, outputs.rejected, outputs.manifest),
    )


def _head(s3: Any, ref: ObjectRef) -> _Head | None:
    args = {"Bucket": ref.bucket, "Key": ref.key}
    if ref.version_id:
        args["VersionId"] = ref.version_id
    try:
        response = s3.head_object(**args)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_OBJECT_CODES:
            return None
        raise
    return _Head(
        version_id=response.get("VersionId") or ref.version_id,
        etag=response["ETag"].strip('"'),
        size=int(response["ContentLength"]),
        last_modified=response["LastModified"],
    )


def _precheck(
    source: keys.SourceKey, schema: CompiledSchema | None, head: _Head, settings: Settings
) -> WholeObjectRejected | None:
    """Rejections decided from the key and HeadObject alone, before reading a byte."""
    if source.dataset is None:
        return WholeObjectRejected("bad_key", "the key is not incoming/<dataset>/<file>")
    if schema is None:
        known = ", ".join(sorted(settings.schemas)) or "none"
        return WholeObjectRejected("unknown_dataset", f"unknown dataset {source.dataset!r} (known: {known})")
    if head.size > schema.max_object_bytes:
        return WholeObjectRejected(
            "too_large",
            f"the object has {head.size} bytes, over the {schema.name} limit of {schema.max_object_bytes} bytes",
        )
    if head.size == 0:
        return WholeObjectRejected("empty", "the object is empty")
    return None


def _stream(
    s3: Any,
    ref: ObjectRef,
    head: _Head,
    schema: CompiledSchema,
    outputs: keys.OutputKeys,
    settings: Settings,
    log: StructuredLogger | None,
) -> StreamResult:
    """GetObject (pinned to the version, or the ETag when unversioned) → process_csv → two streamed uploads."""
    args: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
    if head.version_id:
        args["VersionId"] = head.version_id
    else:
        args["IfMatch"] = f'"{head.etag}"'
    clean = MultipartUploadWriter(
        s3, settings.processed_bucket, outputs.clean, part_size=settings.part_size, content_type=GZIP_CONTENT_TYPE
    )
    rejected = MultipartUploadWriter(
        s3, settings.processed_bucket, outputs.rejected, part_size=settings.part_size, content_type=GZIP_CONTENT_TYPE
    )
    body = None
    try:
        body = s3.get_object(**args)["Body"]
        result = process_csv(body, schema, clean_out=clean, rejected_out=rejected, named_gzip=keys.named_gzip(ref.key))
        if result.source_bytes != head.size:
            raise SourceChanged(f"read {result.source_bytes} bytes of {ref.key}, HeadObject said {head.size}")
        clean.complete()
        rejected.complete()
    except WholeObjectRejected:
        clean.abort()
        rejected.abort()
        raise
    except BaseException:
        _abort_after_failure(log, clean, rejected)
        raise
    finally:
        if body is not None:
            body.close()
    return result


def _abort_after_failure(log: StructuredLogger | None, *writers: MultipartUploadWriter) -> None:
    """Abort started uploads while another error propagates; a failing abort must not hide that error
    (the bucket's abort-incomplete-multipart lifecycle rule removes what is left)."""
    for writer in writers:
        try:
            writer.abort()
        except (ClientError, BotoCoreError) as exc:
            if log is not None:
                log.warning(
                    "abort of multipart upload failed", key=writer.key, upload_id=writer.upload_id, error=str(exc)
                )


def _manifest(
    ref: ObjectRef,
    head: _Head,
    schema: CompiledSchema,
    stream: StreamResult,
    outputs: keys.OutputKeys,
    settings: Settings,
    now: Callable[[], datetime],
) -> dict[str, Any]:
    # Checked explicitly (not `assert`, which python -O strips): a manifest must never miscount.
    if stream.rows_read != stream.rows_written + stream.rows_quarantined + stream.rows_blank:
        raise CountMismatch(
            f"rows_read {stream.rows_read} != rows_written {stream.rows_written} "
            f"+ rows_quarantined {stream.rows_quarantined} + rows_blank {stream.rows_blank}"
        )
    return {
        "dataset": schema.name,
        "schema": {"name": schema.name, "columns": list(schema.columns)},
        "source": {**head.source_fields(ref), "sha256": stream.source_sha256, "gzip": stream.gzip_input},
        "rows_read": stream.rows_read,
        "rows_written": stream.rows_written,
        "rows_quarantined": stream.rows_quarantined,
        "rows_blank": stream.rows_blank,
        "outputs": [
            {
                "kind": "processed",
                "bucket": settings.processed_bucket,
                "key": outputs.clean,
                "rows": stream.rows_written,
            },
            {
                "kind": "rejected",
                "bucket": settings.processed_bucket,
                "key": outputs.rejected,
                "rows": stream.rows_quarantined,
            },
        ],
        "processed_at": _iso(now()),
    }


def _quarantine_whole(
    s3: Any,
    ref: ObjectRef,
    settings: Settings,
    source: keys.SourceKey,
    head: _Head,
    date: str,
    now: Callable[[], datetime],
    rejection: WholeObjectRejected,
    *,
    known: bool,
) -> ObjectResult:
    target = keys.quarantine_keys(source, known, date)
    copy_object(
        s3,
        source_bucket=ref.bucket,
        source_key=ref.key,
        source_version=head.version_id,
        source_etag=head.etag,
        size=head.size,
        dest_bucket=settings.processed_bucket,
        dest_key=target.copy,
    )
    put_json(
        s3,
        settings.processed_bucket,
        target.report,
        {
            "reason_code": rejection.code,
            "reason": rejection.reason,
            "source": head.source_fields(ref),
            "dataset": source.dataset if known else None,
            "quarantined_copy": target.copy,
            "detected_at": _iso(now()),
        },
    )
    return ObjectResult(
        source_bucket=ref.bucket,
        source_key=ref.key,
        version_id=head.version_id,
        etag=head.etag,
        status="quarantined",
        reason=rejection.reason,
        reason_code=rejection.code,
        outputs=(target.copy, target.report),
    )


def _report_only(
    s3: Any,
    ref: ObjectRef,
    settings: Settings,
    source: keys.SourceKey,
    date: str,
    now: Callable[[], datetime],
    code: str,
    reason: str,
) -> ObjectResult:
    target = keys.quarantine_keys(source, False, date)
    put_json(
        s3,
        settings.processed_bucket,
        target.report,
        {
            "reason_code": code,
            "reason": reason,
            "source": {"bucket": ref.bucket, "key": ref.key, "version_id": ref.version_id},
            "dataset": None,
            "quarantined_copy": None,
            "detected_at": _iso(now()),
        },
    )
    return ObjectResult(
        source_bucket=ref.bucket,
        source_key=ref.key,
        version_id=ref.version_id,
        etag=None,
        status="quarantined",
        reason=reason,
        reason_code=code,
        outputs=(target.report,),
    )


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
