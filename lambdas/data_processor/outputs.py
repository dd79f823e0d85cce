"""Write the outputs of one raw object version into the processed bucket (S3 calls + the pure pieces):
the streamed clean and rejected files and the manifest; a whole-object quarantine (copy + report.json);
a report alone. Which version's outputs stay current is decided afterwards, by index.commit.

Nothing here deletes. A failure midway aborts the multipart uploads already started; AWS errors propagate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from data_processor import keys
from data_processor.processing import StreamResult, WholeObjectRejected, process_csv
from data_processor.reasons import check_code
from data_processor.s3_io import PART_SIZE_BYTES, MultipartUploadWriter, copy_object, put_json
from data_processor.schema import CompiledSchema
from lambda_common.structured_log import StructuredLogger

GZIP_CONTENT_TYPE = "application/gzip"


class SourceChanged(RuntimeError):
    """The bytes read do not match what HeadObject announced; raised so the invocation is retried."""


class CountMismatch(RuntimeError):
    """The stream's counts do not add up (a bug): raised before the manifest is written, so nothing is published."""


@dataclass(frozen=True)
class SourceVersion:
    """One version of a raw object, as HeadObject describes it. version_id None: an unversioned bucket.
    sequencer: the S3 event's, when an event for this very version triggered the run (else None)."""

    bucket: str
    key: str
    version_id: str | None
    etag: str
    size: int
    last_modified: datetime
    sequencer: str | None = None

    @property
    def version(self) -> str:
        """The version as it appears in output keys (keys.version_token)."""
        return keys.version_token(self.version_id)

    @property
    def day(self) -> str:
        """The dt= partition: this version's LastModified day (UTC)."""
        return keys.partition_date(self.last_modified)

    def fields(self) -> dict[str, Any]:
        """The "source" of manifests, reports and the index."""
        return {
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "etag": self.etag,
            "size": self.size,
            "last_modified": iso(self.last_modified),
            "sequencer": self.sequencer,
        }


def stream_outputs(
    s3: Any,
    source: SourceVersion,
    schema: CompiledSchema,
    outputs: keys.OutputKeys,
    bucket: str,
    *,
    part_size: int = PART_SIZE_BYTES,
    log: StructuredLogger | None = None,
) -> StreamResult:
    """GetObject (pinned to the version, or the ETag when unversioned) → process_csv → the clean and rejected
    uploads into `bucket`. part_size (default 8 MiB): the multipart part size; log (default None) gets a
    warning when an abort fails. WholeObjectRejected propagates after the uploads are aborted."""
    args: dict[str, Any] = {"Bucket": source.bucket, "Key": source.key}
    if source.version_id:
        args["VersionId"] = source.version_id
    else:
        args["IfMatch"] = f'"{source.etag}"'
    clean = MultipartUploadWriter(s3, bucket, outputs.clean, part_size=part_size, content_type=GZIP_CONTENT_TYPE)
    rejected = MultipartUploadWriter(s3, bucket, outputs.rejected, part_size=part_size, content_type=GZIP_CONTENT_TYPE)
    body = None
    try:
        body = s3.get_object(**args)["Body"]
        result = process_csv(
            body, schema, clean_out=clean, rejected_out=rejected, named_gzip=keys.named_gzip(source.key)
        )
        if result.source_bytes != source.size:
            raise SourceChanged(f"read {result.source_bytes} bytes of {source.key}, HeadObject said {source.size}")
        clean.complete()
        rejected.complete()
    except WholeObjectRejected:
        clean.abort()
        rejected.abort()
        raise
    except BaseException:
        abort_after_failure(log, clean, rejected)
        raise
    finally:
        if body is not None:
            body.close()
    return result


def abort_after_failure(log: StructuredLogger | None, *writers: MultipartUploadWriter) -> None:
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


def write_manifest(
    s3: Any,
    source: SourceVersion,
    schema: CompiledSchema,
    stream: StreamResult,
    outputs: keys.OutputKeys,
    bucket: str,
    *,
    index: str,
    processed_at: datetime,
) -> dict[str, Any]:
    """Check the counts add up (CountMismatch otherwise), then put and return the manifest of `outputs`."""
    # Checked explicitly (not `assert`, which python -O strips): a manifest must never miscount.
    if stream.rows_read != stream.rows_written + stream.rows_quarantined + stream.rows_blank:
        raise CountMismatch(
            f"rows_read {stream.rows_read} != rows_written {stream.rows_written} "
            f"+ rows_quarantined {stream.rows_quarantined} + rows_blank {stream.rows_blank}"
        )
    manifest = {
        "dataset": schema.name,
        "schema": {"name": schema.name, "columns": list(schema.columns)},
        "source": {**source.fields(), "sha256": stream.source_sha256, "gzip": stream.gzip_input},
        "version": source.version,
        "index": index,
        "rows_read": stream.rows_read,
        "rows_written": stream.rows_written,
        "rows_quarantined": stream.rows_quarantined,
        "rows_blank": stream.rows_blank,
        "outputs": [
            {"kind": "processed", "bucket": bucket, "key": outputs.clean, "rows": stream.rows_written},
            {"kind": "rejected", "bucket": bucket, "key": outputs.rejected, "rows": stream.rows_quarantined},
        ],
        "processed_at": iso(processed_at),
    }
    put_json(s3, bucket, outputs.manifest, manifest)
    return manifest


def quarantine_whole(
    s3: Any,
    source: SourceVersion,
    target: keys.QuarantineKeys,
    rejection: WholeObjectRejected,
    bucket: str,
    *,
    dataset: str | None,
    index: str,
    detected_at: datetime,
) -> None:
    """Copy the version to target.copy (server-side, pinned) and write target.report beside it."""
    copy_object(
        s3,
        source_bucket=source.bucket,
        source_key=source.key,
        source_version=source.version_id,
        source_etag=source.etag,
        size=source.size,
        dest_bucket=bucket,
        dest_key=target.copy,
    )
    put_json(
        s3,
        bucket,
        target.report,
        {
            "reason_code": rejection.code,
            "reason": rejection.reason,
            "source": source.fields(),
            "version": source.version,
            "index": index,
            "dataset": dataset,
            "quarantined_copy": target.copy,
            "detected_at": iso(detected_at),
        },
    )


def write_report(
    s3: Any,
    bucket: str,
    report_key: str,
    *,
    code: str,
    reason: str,
    source: dict[str, Any],
    dataset: str | None,
    detected_at: datetime,
) -> None:
    """A report.json alone, for an object that was not read (nothing copied, no index). `code` must be one of
    reasons.REASON_CODES (ValueError otherwise)."""
    check_code(code)
    put_json(
        s3,
        bucket,
        report_key,
        {
            "reason_code": code,
            "reason": reason,
            "source": source,
            "dataset": dataset,
            "quarantined_copy": None,
            "detected_at": iso(detected_at),
        },
    )


def iso(moment: datetime) -> str:
    """`moment` as ISO 8601 UTC with a Z (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
