"""Preprocess one inference batch (the S3 client is passed in, so tests call this directly):

    parse_request (contract) ─▶ HeadObject: missing? larger than max_object_bytes?   (nothing read yet)
        ─▶ GetObject, pinned to the ETag HeadObject saw
        ─▶ data_processor.processing.process_csv ─┬▶ batch.csv.gz     clean rows, header = the batch columns
                                                  └▶ rejected.csv.gz  row_number, reason, the fields as read
        ─▶ counts add up? bytes as announced? any valid row? ─▶ both uploads completed ─▶ Preprocessed

The row validation is exactly the data processor's (same module, same schema format), so a batch is judged the
way the training data was. Every problem with the input raises InvalidInferenceInput, whose message names the
object and what is wrong; both uploads are aborted first (nothing half-written stays), except for a batch
without a single valid row, whose rejected file is completed so the reasons can be read. AWS errors propagate
unchanged, after the uploads are aborted. The outputs are deterministic (gzip mtime 0) and keyed by the
execution, so a retried invocation writes the same bytes to the same keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

# The processor's abort-while-failing (a failing abort is logged, never hides the error that caused it).
from data_processor.outputs import GZIP_CONTENT_TYPE, abort_after_failure
from data_processor.processing import StreamResult, WholeObjectRejected, process_csv
from data_processor.s3_io import PART_SIZE_BYTES, MultipartUploadWriter, is_missing
from data_processor.schema import CompiledSchema, compile_dataset
from inference_common.contract import (
    InferenceRequest,
    InvalidInferenceInput,
    Preprocessed,
    S3Location,
    ServedModel,
    load_served_models,
)
from lambda_common.structured_log import StructuredLogger

_CHANGED_CODES = frozenset({"PreconditionFailed", "412"})


class StreamMismatch(RuntimeError):
    """The stream's row counts do not add up, or it read another number of bytes than HeadObject announced (a
    bug, or a read cut short): raised before anything is published."""


@dataclass(frozen=True)
class ServedCatalog:
    """The served models (served_models.json) and each one's compiled batch schema, compiled once."""

    models: Mapping[str, ServedModel]
    schemas: Mapping[str, CompiledSchema]


def compile_catalog(models: Mapping[str, ServedModel]) -> ServedCatalog:
    """Compile every served model's batch schema (data_processor.schema.compile_dataset); a malformed dataset
    entry raises data_processor.schema.SchemaError naming it (a packaging bug)."""
    return ServedCatalog(models, {name: compile_dataset(dict(model.dataset)) for name, model in models.items()})


def load_catalog(path: Path) -> ServedCatalog:
    """compile_catalog of the served_models.json at `path`."""
    return compile_catalog(load_served_models(path))


@dataclass(frozen=True)
class Settings:
    """The inference bucket (the batch is read from its batches/, the outputs go to its preprocessed/), the served
    models, and part_size (default 8 MiB), the multipart part size of the outputs."""

    bucket: str
    catalog: ServedCatalog
    part_size: int = PART_SIZE_BYTES


def preprocess_batch(
    s3: Any, request: InferenceRequest, settings: Settings, *, log: StructuredLogger | None = None
) -> Preprocessed:
    """Validate the batch `request` names into its run's batch and rejected files (module docstring); returns the
    Preprocessed result. log (default None) gets a warning when aborting an upload fails."""
    model, source, layout = request.model, request.source, request.layout
    schema = settings.catalog.schemas[model.name]
    size, etag = _head(s3, source, schema, model)
    clean = MultipartUploadWriter(
        s3, layout.bucket, layout.batch_key, part_size=settings.part_size, content_type=GZIP_CONTENT_TYPE
    )
    rejected = MultipartUploadWriter(
        s3, layout.bucket, layout.rejected_key, part_size=settings.part_size, content_type=GZIP_CONTENT_TYPE
    )
    body = None
    try:
        body = _open(s3, source, etag)
        stream = process_csv(
            body, schema, clean_out=clean, rejected_out=rejected, named_gzip=source.key.endswith(".gz")
        )
        _check_stream(stream, source, size)
        if stream.rows_written == 0:
            # Nothing to predict; the rejected rows are still published so their reasons can be read.
            rejected.complete()
            clean.abort()
            raise InvalidInferenceInput(_no_valid_row(source, stream, layout.uri(layout.rejected_key)))
        clean.complete()
        rejected.complete()
    except WholeObjectRejected as exc:
        abort_after_failure(log, clean, rejected)
        raise InvalidInferenceInput(_unusable(source, model, exc)) from exc
    except BaseException:
        abort_after_failure(log, clean, rejected)
        raise
    finally:
        if body is not None:
            body.close()
    return Preprocessed(
        model=model.name,
        execution_id=request.execution_id,
        run=layout.run,
        input_uri=source.uri,
        input_sha256=stream.source_sha256,
        input_bytes=stream.source_bytes,
        rows_read=stream.rows_read,
        rows_valid=stream.rows_written,
        rows_rejected=stream.rows_quarantined,
        rows_blank=stream.rows_blank,
    )


def _head(s3: Any, source: S3Location, schema: CompiledSchema, model: ServedModel) -> tuple[int, str]:
    """(size, ETag) of the batch; InvalidInferenceInput when it is missing or over the size limit, before a byte
    of it is read."""
    try:
        head = s3.head_object(Bucket=source.bucket, Key=source.key)
    except ClientError as exc:
        if is_missing(s3, source.bucket, source.key, exc):
            raise InvalidInferenceInput(_missing(source)) from exc
        raise
    size = head["ContentLength"]
    if size > schema.max_object_bytes:
        raise InvalidInferenceInput(
            f"batch {source.uri} is {size} bytes, over the limit of {schema.max_object_bytes} bytes for model "
            f"{model.name} (max_object_mib {schema.max_object_bytes // (1024 * 1024)} of dataset {schema.name}); "
            "split it into smaller batches"
        )
    return size, head["ETag"]


def _open(s3: Any, source: S3Location, etag: str) -> Any:
    """The GetObject body stream of the version HeadObject saw (IfMatch: the size check applies to these bytes)."""
    try:
        return s3.get_object(Bucket=source.bucket, Key=source.key, IfMatch=etag)["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _CHANGED_CODES:
            raise InvalidInferenceInput(
                f"batch {source.uri} was overwritten while the run started (its ETag is no longer {etag}); "
                "start the execution again once the upload is done"
            ) from exc
        if is_missing(s3, source.bucket, source.key, exc):
            raise InvalidInferenceInput(_missing(source)) from exc
        raise


def _check_stream(stream: StreamResult, source: S3Location, size: int) -> None:
    # Checked explicitly (not `assert`, which python -O strips): predict and the summary rely on these counts.
    if stream.rows_read != stream.rows_written + stream.rows_quarantined + stream.rows_blank:
        raise StreamMismatch(
            f"batch {source.uri}: rows_read {stream.rows_read} != valid {stream.rows_written} "
            f"+ rejected {stream.rows_quarantined} + blank {stream.rows_blank}"
        )
    if stream.source_bytes != size:
        raise StreamMismatch(f"batch {source.uri}: read {stream.source_bytes} bytes, HeadObject said {size}")


def _missing(source: S3Location) -> str:
    return f"batch {source.uri} does not exist: upload it first, or correct input_uri"


def _unusable(source: S3Location, model: ServedModel, exc: WholeObjectRejected) -> str:
    message = f"batch {source.uri} cannot be read as a batch for model {model.name} ({exc.code}): {exc.reason}"
    if exc.code == "bad_header":
        columns = ",".join(model.columns)
        message += f"; a batch's header is the model's columns in order, without the label {model.label!r}"
        # The processor's reason lists the expected header, except for a header it could not read at all.
        message += "" if columns in exc.reason else f": {columns}"
    return message


def _no_valid_row(source: S3Location, stream: StreamResult, rejected_uri: str) -> str:
    return (
        f"batch {source.uri} has no valid row, nothing to predict: {stream.rows_read} rows read, "
        f"{stream.rows_quarantined} rejected, {stream.rows_blank} blank; the rejected rows and their reasons are in "
        f"{rejected_uri}"
    )
