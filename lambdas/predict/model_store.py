"""The production model: its pointer read on every invocation, its archive downloaded and checked once per version.

    s3://$PRODUCTION_BUCKET/models/<model>/production.json   read each time, so a promotion or a rollback reaches
                                                            warm functions at once (promotion.pointer)
    s3://$PRODUCTION_BUCKET/<pointer.artifact_key>           downloaded only when (model, version, sha256) is not
                                                            cached; size and sha256 checked against the pointer;
                                                            model.json read from the tar bytes in memory, never
                                                            extracted, and validated (model_format.loads)

Errors (the state machine names them): no pointer → ModelNotPromoted; a malformed pointer, a missing or unreadable
archive, an invalid model.json → ModelContractError; bytes other than the promoted ones → ModelChecksumMismatch.
Other S3 errors propagate (the step is retried).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

import model_format
from data_processor.s3_io import is_missing
from inference_common.contract import ModelChecksumMismatch, ModelContractError, ModelNotPromoted
from model_archive import read_model
from promotion.pointer import Pointer, PointerError, parse_pointer, pointer_key

CACHE_ENTRIES = 4  # models kept across warm invocations: the current version and a few it may flip back to
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024  # a linear model's archive is a few KiB; the bound keeps a bad one out of memory
MAX_MODEL_JSON_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ProductionModel:
    """The model production serves now: its pointer, the validated model, and whether it came from the cache."""

    pointer: Pointer
    model: model_format.LinearModel
    cache_hit: bool


class ModelCache:
    """Validated models by (model, version, sha256), least recently used dropped past max_entries (default
    CACHE_ENTRIES). The key holds the sha256, so a pointer naming other bytes for the same version misses."""

    def __init__(self, max_entries: int = CACHE_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self._models: OrderedDict[tuple[str, str, str], model_format.LinearModel] = OrderedDict()

    def get(self, key: tuple[str, str, str]) -> model_format.LinearModel | None:
        model = self._models.get(key)
        if model is not None:
            self._models.move_to_end(key)
        return model

    def put(self, key: tuple[str, str, str], model: model_format.LinearModel) -> None:
        self._models[key] = model
        self._models.move_to_end(key)
        while len(self._models) > self.max_entries:
            self._models.popitem(last=False)

    def __len__(self) -> int:
        return len(self._models)

    def clear(self) -> None:
        self._models.clear()


# Module level: lives as long as the execution environment, across warm invocations.
CACHE = ModelCache()


def read_pointer(client: Any, bucket: str, model: str) -> Pointer:
    """The production pointer of `model` in `bucket`. ModelNotPromoted when there is none (404, or a 403 that
    data_processor.s3_io.is_missing settles as missing); ModelContractError when it is not a valid pointer of
    `model`."""
    key = pointer_key(model)
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if is_missing(client, bucket, key, exc):
            raise ModelNotPromoted(
                f"model {model!r} has no production pointer s3://{bucket}/{key}: no version of it was promoted"
            ) from exc
        raise
    try:
        return parse_pointer(body, model)
    except PointerError as exc:
        raise ModelContractError(f"s3://{bucket}/{key}: {exc}") from exc


def download_archive(client: Any, bucket: str, pointer: Pointer) -> bytes:
    """The archive the pointer names, checked: its size and sha256 must be the pointer's (ModelChecksumMismatch
    names both hashes and the key). A missing archive, or one over MAX_ARCHIVE_BYTES, is ModelContractError."""
    location = f"s3://{bucket}/{pointer.artifact_key}"
    if pointer.bytes > MAX_ARCHIVE_BYTES:
        raise ModelContractError(
            f"{location}: the pointer says {pointer.bytes} bytes, over the {MAX_ARCHIVE_BYTES} bytes a model may have"
        )
    try:
        response = client.get_object(Bucket=bucket, Key=pointer.artifact_key)
    except ClientError as exc:
        if is_missing(client, bucket, pointer.artifact_key, exc):
            raise ModelContractError(
                f"model {pointer.model!r} version {pointer.version}: the production pointer names {location}, "
                "which does not exist"
            ) from exc
        raise
    data = _read_at_most(response["Body"], pointer.bytes + 1)
    if len(data) != pointer.bytes:
        size = f"{len(data)}" if len(data) <= pointer.bytes else f"more than {pointer.bytes}"
        raise ModelChecksumMismatch(
            f"{location} holds {size} bytes, the production pointer (sequence {pointer.sequence}) promoted "
            f"{pointer.bytes} with sha256 {pointer.sha256}: the archive changed after promotion"
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != pointer.sha256:
        raise ModelChecksumMismatch(
            f"{location} has sha256 {digest}, the production pointer (sequence {pointer.sequence}) promoted "
            f"sha256 {pointer.sha256}: the archive changed after promotion"
        )
    return data


def _read_at_most(body: Any, limit: int) -> bytes:
    """Up to `limit` bytes of a streaming body (one past the promoted size tells a longer object without holding
    more of it in memory), then the body is closed."""
    chunks, size = [], 0
    try:
        while size < limit:
            chunk = body.read(limit - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        body.close()
    return b"".join(chunks)


def model_from_archive(data: bytes, pointer: Pointer) -> model_format.LinearModel:
    """model.json of the archive bytes, validated; ModelContractError names the version and the bad field."""
    where = f"model {pointer.model!r} version {pointer.version} ({pointer.artifact_key})"
    try:
        return read_model(data, name=where, max_bytes=MAX_MODEL_JSON_BYTES)
    except ValueError as exc:  # an unreadable archive, or model.json's ModelFormatError (a ValueError)
        raise ModelContractError(str(exc)) from exc


def load_production_model(client: Any, bucket: str, model: str, *, cache: ModelCache = CACHE) -> ProductionModel:
    """The model production serves now: the pointer read afresh, the model from `cache` (default CACHE, the
    module's) when its (model, version, sha256) is there, else downloaded, checked, validated and cached."""
    pointer = read_pointer(client, bucket, model)
    key = (pointer.model, pointer.version, pointer.sha256)
    cached = cache.get(key)
    if cached is not None:
        return ProductionModel(pointer, cached, cache_hit=True)
    loaded = model_from_archive(download_archive(client, bucket, pointer), pointer)
    cache.put(key, loaded)
    return ProductionModel(pointer, loaded, cache_hit=False)
