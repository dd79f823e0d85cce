"""Process one raw object so that the processed bucket follows its *current* version. The only module that
decides; outputs.py writes a version's outputs, index.py moves the pointer.

    HeadObject (no VersionId) ─▶ current version C
      ├─ none                              ─▶ report only ("missing"), no index
      ├─ the event names another version V ─▶ superseded: nothing of V stays (see _stale), no index change
      └─ process C, pinned by VersionId ─▶ outputs keyed by C ─▶ index.commit: if C is still current, delete
                                           the outputs the index names for another version, point it at C's;
                                           if not, delete C's own (superseded)

Outcomes (ObjectResult.status, one of STATUSES):
  processed     C's clean rows, rejected rows (header only when none) and manifest are written, and the index
                names them. A duplicate delivery or a backfill of C writes the same keys and deletes nothing.
  quarantined   C is unusable as a whole (reason_code says why): copied to
                quarantine/<dataset or _unknown>/dt=<day>/<name>/<version>/<file name> beside report.json, any
                multipart upload already started is aborted, no processed output is written, and the index
                names the copy and report (so an older version's clean rows stop being current data too).
                Report only (reason_code missing or outside_incoming): a report.json, under the key's dataset
                when that dataset is known, else _unknown; nothing is read or copied, no index changes.
  superseded    the version is not, or stopped being, the current one: nothing of it stays visible; the
                current version's own run publishes it.
Bad data never raises. AWS errors do (the Lambda retries, then the DLQ), after aborting started uploads.
The original object always stays where it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from data_processor import keys
from data_processor.events import ObjectRef
from data_processor.index import commit, index_document, read_pointer
from data_processor.outputs import SourceVersion, iso, quarantine_whole, stream_outputs, write_manifest, write_report
from data_processor.processing import WholeObjectRejected
from data_processor.s3_io import DENIED_CODES, MISSING_CODES, PART_SIZE_BYTES, delete_keys, is_missing
from data_processor.schema import CompiledSchema
from lambda_common.structured_log import StructuredLogger

PROCESSED, QUARANTINED, SUPERSEDED = "processed", "quarantined", "superseded"
STATUSES = (PROCESSED, QUARANTINED, SUPERSEDED)


@dataclass(frozen=True)
class Settings:
    """Where outputs go and what is accepted. part_size default 8 MiB (the multipart part size)."""

    processed_bucket: str
    schemas: Mapping[str, CompiledSchema]
    part_size: int = PART_SIZE_BYTES


@dataclass(frozen=True)
class ObjectResult:
    """What happened to one object; to_dict() is one entry of the handler's "results".

    version_id: the version this result is about (the event's for a stale event, else the current one).
    outputs: the keys written that are now current data (none when superseded). removed: the keys this run
    deleted: an older version's outputs, or its own when superseded. index: the object's index key (None
    for a report-only outcome)."""

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
    removed: tuple[str, ...] = field(default_factory=tuple)
    index: str | None = None

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
            "removed": list(self.removed),
            "index": self.index,
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
    now (default: the current UTC time) stamps processed_at/detected_at/committed_at; log (default None) gets
    warnings."""
    source = keys.parse_source_key(ref.key)
    schema = settings.schemas.get(source.dataset) if source.dataset is not None else None
    if not source.readable:
        return _report_only(
            s3, ref, settings, source, now, "outside_incoming", "the key is not under incoming/; it was not read"
        )
    current = _head(s3, ref.bucket, ref.key)
    if current is None:
        reason = "the object no longer exists" + (f" (version {ref.version_id} was named)" if ref.version_id else "")
        return _report_only(s3, ref, settings, source, now, "missing", reason, dataset_known=schema is not None)
    if ref.version_id is not None and ref.version_id != current.version_id:
        return _stale(s3, ref, settings, source, schema, current)
    if ref.version_id is not None:  # the event is about this very version: its sequencer goes to the index
        current = replace(current, sequencer=ref.sequencer)
    return _process_current(s3, ref, settings, source, schema, current, now, log)


def _process_current(
    s3: Any,
    ref: ObjectRef,
    settings: Settings,
    source: keys.SourceKey,
    schema: CompiledSchema | None,
    current: SourceVersion,
    now: Callable[[], datetime],
    log: StructuredLogger | None,
) -> ObjectResult:
    """Write the current version's outputs, then commit them to the index (or find they are superseded)."""
    bucket, index_key = settings.processed_bucket, keys.index_key(source)
    rejection = _precheck(source, schema, current, settings)
    if rejection is None and schema is not None and source.dataset is not None:
        outputs = keys.output_keys(source.dataset, current.day, keys.source_name(source.path), current.version)
        try:
            stream = stream_outputs(s3, current, schema, outputs, bucket, part_size=settings.part_size, log=log)
        except WholeObjectRejected as exc:
            rejection = exc
    if rejection is not None:
        known = schema is not None  # then source.dataset is set too
        target = keys.quarantine_keys(source, known, current.day, current.version)
        reported_dataset = source.dataset if known else None
        quarantine_whole(
            s3, current, target, rejection, bucket, dataset=reported_dataset, index=index_key, detected_at=now()
        )
        dataset = reported_dataset or keys.UNKNOWN_DATASET
        written, counts = target.all(), {"rows_read": 0, "rows_written": 0, "rows_quarantined": 0, "rows_blank": 0}
        status, extra = QUARANTINED, {"reason_code": rejection.code, "report": target.report}
    else:
        assert schema is not None and source.dataset is not None  # _precheck passed, so the dataset is known
        write_manifest(s3, current, schema, stream, outputs, bucket, index=index_key, processed_at=now())
        written, dataset = outputs.all(), source.dataset
        counts = {
            "rows_read": stream.rows_read,
            "rows_written": stream.rows_written,
            "rows_quarantined": stream.rows_quarantined,
            "rows_blank": stream.rows_blank,
        }
        status, extra = PROCESSED, {"manifest": outputs.manifest}
    document = index_document(
        source=current.fields(),
        version=current.version,
        dataset=dataset,
        status=status,
        outputs=written,
        counts=counts,
        committed_at=iso(now()),
        **extra,
    )
    result = commit(
        s3,
        bucket,
        index_key,
        document,
        still_current=lambda: _is_current(s3, current),
        # Unversioned objects share the "null" keys with their successor: never delete those.
        discard_own=current.version_id is not None,
    )
    base = {"source_bucket": ref.bucket, "source_key": ref.key, "version_id": current.version_id}
    if not result.committed:
        return ObjectResult(
            **base,
            etag=current.etag,
            status=SUPERSEDED,
            reason="a newer version became current while this one was processed; its outputs were removed",
            removed=result.removed,
            index=index_key,
        )
    return ObjectResult(
        **base,
        etag=current.etag,
        status=status,
        **counts,
        reason=rejection.reason if rejection is not None else None,
        reason_code=rejection.code if rejection is not None else None,
        outputs=written,
        removed=result.removed,
        index=index_key,
    )


def _stale(
    s3: Any,
    ref: ObjectRef,
    settings: Settings,
    source: keys.SourceKey,
    schema: CompiledSchema | None,
    current: SourceVersion,
) -> ObjectResult:
    """An event for version V when C is current (S3 delivers out of order, retries arrive late): V's outputs
    must not become current. Nothing is written; the outputs an interrupted earlier run of V may have left
    (written, then a crash before its commit) are deleted, unless the index names them (then C's commit
    will). Every key such a run could have written is deleted, so some deletes find nothing (in a versioned
    bucket each still leaves a delete marker)."""
    bucket, index_key = settings.processed_bucket, keys.index_key(source)
    named = read_pointer(s3, bucket, index_key).outputs
    old = _head_version(s3, ref)
    removed: tuple[str, ...] = ()
    if old is not None:
        candidates = keys.quarantine_keys(source, schema is not None, old.day, old.version).all()
        if schema is not None and source.dataset is not None:
            name = keys.source_name(source.path)
            candidates = keys.output_keys(source.dataset, old.day, name, old.version).all() + candidates
        removed = tuple(key for key in candidates if key not in named)
        delete_keys(s3, bucket, removed)
    return ObjectResult(
        source_bucket=ref.bucket,
        source_key=ref.key,
        version_id=ref.version_id,
        etag=old.etag if old is not None else None,
        status=SUPERSEDED,
        reason=f"version {ref.version_id} is not the current version ({current.version_id}); nothing was written",
        removed=removed,
        index=index_key,
    )


def _head(s3: Any, bucket: str, key: str) -> SourceVersion | None:
    """HeadObject of the current version; None when the key does not exist (or its current version is a
    delete marker)."""
    try:
        response = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if is_missing(s3, bucket, key, exc):
            return None
        raise
    return _version(bucket, key, response, None)


def _head_version(s3: Any, ref: ObjectRef) -> SourceVersion | None:
    """HeadObject of the version an event named; None when it cannot be found. Only used to tidy up after a
    stale event, so a version that is gone (or a 403 for it) just means there is nothing to tidy."""
    try:
        response = s3.head_object(Bucket=ref.bucket, Key=ref.key, VersionId=ref.version_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_CODES | DENIED_CODES | {"405", "MethodNotAllowed"}:
            return None
        raise
    return _version(ref.bucket, ref.key, response, ref.version_id)


def _version(bucket: str, key: str, response: dict[str, Any], asked: str | None) -> SourceVersion:
    return SourceVersion(
        bucket=bucket,
        key=key,
        version_id=response.get("VersionId") or asked,
        etag=response["ETag"].strip('"'),
        size=int(response["ContentLength"]),
        last_modified=response["LastModified"],
    )


def _is_current(s3: Any, version: SourceVersion) -> bool:
    """Whether `version` is still the current version of its key (asked of S3 again, not remembered)."""
    now_current = _head(s3, version.bucket, version.key)
    return now_current is not None and (now_current.version_id, now_current.etag) == (version.version_id, version.etag)


def _precheck(
    source: keys.SourceKey, schema: CompiledSchema | None, head: SourceVersion, settings: Settings
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


def _report_only(
    s3: Any,
    ref: ObjectRef,
    settings: Settings,
    source: keys.SourceKey,
    now: Callable[[], datetime],
    code: str,
    reason: str,
    *,
    dataset_known: bool = False,
) -> ObjectResult:
    """A report.json for an object that is not read: under the key's dataset when dataset_known (default
    False), else _unknown; dated by the event (or now), in a folder of the event's version ("null" if none)."""
    date = keys.partition_date(ref.event_time or now())
    target = keys.quarantine_keys(source, dataset_known, date, keys.version_token(ref.version_id))
    write_report(
        s3,
        settings.processed_bucket,
        target.report,
        code=code,
        reason=reason,
        source={"bucket": ref.bucket, "key": ref.key, "version_id": ref.version_id},
        dataset=source.dataset if dataset_known else None,
        detected_at=now(),
    )
    return ObjectResult(
        source_bucket=ref.bucket,
        source_key=ref.key,
        version_id=ref.version_id,
        etag=None,
        status=QUARANTINED,
        reason=reason,
        reason_code=code,
        outputs=(target.report,),
    )
