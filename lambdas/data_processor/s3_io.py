"""Thin S3 adapters: a streaming multipart-upload writer, a size-aware copy, small (conditional) JSON puts,
batch deletes, and telling a missing key from a denied one.

Nothing here sets encryption headers: the buckets' default SSE-KMS applies, and their policies deny an
upload that names another encryption or key. AWS errors propagate (the Lambda retries, then the DLQ).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

PART_SIZE_BYTES = 8 * 1024 * 1024  # S3's minimum is 5 MiB for every part but the last
MAX_COPY_OBJECT_BYTES = 5 * 1024**3  # CopyObject's limit; larger objects are copied in parts
COPY_PART_BYTES = 512 * 1024 * 1024
DELETE_BATCH_KEYS = 1000  # DeleteObjects' limit per request
MISSING_CODES = frozenset({"404", "NoSuchKey", "NoSuchVersion"})
DENIED_CODES = frozenset({"403", "AccessDenied"})


class DeleteFailed(RuntimeError):
    """DeleteObjects reported keys it could not delete; the message names the first one and its error."""


class MultipartUploadWriter(io.RawIOBase):
    """A writable binary stream into s3://bucket/key holding at most about one part in memory.

    Bytes are buffered up to part_size (default 8 MiB); the multipart upload starts with the first full
    part. complete() uploads what is left and completes it, or, when the output never reached one part,
    sends it all as a single PutObject. abort() aborts a started upload; nothing is left behind.
    As a context manager: complete on success, abort on an exception.
    content_type default application/octet-stream."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        *,
        part_size: int = PART_SIZE_BYTES,
        content_type: str = "application/octet-stream",
    ) -> None:
        if part_size <= 0:
            raise ValueError(f"part_size must be positive, got {part_size}")
        self._client, self.bucket, self.key = client, bucket, key
        self._part_size, self._content_type = part_size, content_type
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self.bytes_written = 0
        self._finished = False

    @property
    def upload_id(self) -> str | None:
        """The multipart upload id once one is started (None while everything fits one part)."""
        return self._upload_id

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self._finished:
            raise ValueError(f"write to s3://{self.bucket}/{self.key} after complete() or abort()")
        self._buffer += data
        self.bytes_written += len(data)
        if len(self._buffer) >= self._part_size:
            self._upload_part()
        return len(data)

    def _upload_part(self) -> None:
        if self._upload_id is None:
            created = self._client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self._content_type
            )
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        body = bytes(self._buffer)
        self._buffer.clear()
        response = self._client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=body
        )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def complete(self) -> None:
        """Finish the object: one PutObject if no part was uploaded, else the last part and completion."""
        if self._finished:
            return
        if self._upload_id is None:
            self._client.put_object(
                Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer), ContentType=self._content_type
            )
        else:
            if self._buffer:
                self._upload_part()
            self._client.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )
        self._buffer = bytearray()
        self._finished = True

    def abort(self) -> None:
        """Drop the buffer and abort the multipart upload if one was started (idempotent)."""
        if self._finished:
            return
        self._finished = True
        self._buffer = bytearray()
        if self._upload_id is not None:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)

    def close(self) -> None:
        # Closing without complete() must never publish a partial object: it aborts.
        if not self.closed:
            self.abort()
        super().close()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.complete()
        else:
            self.abort()
        super().__exit__(exc_type, exc, tb)


def copy_object(
    client: Any,
    *,
    source_bucket: str,
    source_key: str,
    source_version: str | None,
    source_etag: str | None,
    size: int,
    dest_bucket: str,
    dest_key: str,
    part_bytes: int = COPY_PART_BYTES,
    max_single_copy: int = MAX_COPY_OBJECT_BYTES,
) -> None:
    """Server-side copy (needs GetObject on the source and PutObject on the destination, no more):
    CopyObject up to max_single_copy (default 5 GiB, S3's limit), UploadPartCopy in part_bytes parts
    (default 512 MiB) beyond. The source is pinned to source_version, or else to source_etag (a changed
    object fails the copy with 412 and the invocation is retried). Tags are not copied
    (TaggingDirective REPLACE): copying them would need the tagging permissions too."""
    source: dict[str, str] = {"Bucket": source_bucket, "Key": source_key}
    if source_version:
        source["VersionId"] = source_version
    pin = {"CopySourceIfMatch": f'"{source_etag}"'} if source_etag and not source_version else {}
    if size <= max_single_copy:
        client.copy_object(Bucket=dest_bucket, Key=dest_key, CopySource=source, TaggingDirective="REPLACE", **pin)
        return
    upload_id = client.create_multipart_upload(Bucket=dest_bucket, Key=dest_key)["UploadId"]
    try:
        parts = []
        for number, start in enumerate(range(0, size, part_bytes), start=1):
            end = min(start + part_bytes, size) - 1
            response = client.upload_part_copy(
                Bucket=dest_bucket,
                Key=dest_key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource=source,
                CopySourceRange=f"bytes={start}-{end}",
                **pin,
            )
            parts.append({"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]})
        client.complete_multipart_upload(
            Bucket=dest_bucket, Key=dest_key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        client.abort_multipart_upload(Bucket=dest_bucket, Key=dest_key, UploadId=upload_id)
        raise


def put_json(
    client: Any,
    bucket: str,
    key: str,
    document: dict[str, Any],
    *,
    if_match: str | None = None,
    create_only: bool = False,
) -> str:
    """PutObject of a small JSON document (sorted keys, indented, so identical content gives identical bytes);
    returns the new ETag. Conditional writes: if_match (default None) an ETag the current object must still
    have; create_only (default False) only if no object exists (If-None-Match: *). A failed condition raises
    ClientError PreconditionFailed (412), or ConditionalRequestConflict (409) on a concurrent write."""
    if if_match is not None and create_only:
        raise ValueError("if_match and create_only exclude each other")
    body = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
    conditions = {"IfMatch": if_match} if if_match is not None else {"IfNoneMatch": "*"} if create_only else {}
    return client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", **conditions)["ETag"]


def delete_keys(client: Any, bucket: str, keys: Sequence[str]) -> None:
    """DeleteObjects of `keys` (no version ids: in a versioned bucket each gets a delete marker, and what it
    hid stays recoverable as a noncurrent version until the lifecycle rule expires it). Needs s3:DeleteObject
    only. Raises DeleteFailed when S3 reports a key it could not delete."""
    for start in range(0, len(keys), DELETE_BATCH_KEYS):
        chunk = keys[start : start + DELETE_BATCH_KEYS]
        response = client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True}
        )
        errors = response.get("Errors") or []
        if errors:
            first = errors[0]
            raise DeleteFailed(
                f"could not delete {len(errors)} of {len(chunk)} keys, e.g. s3://{bucket}/{first.get('Key')}: "
                f"{first.get('Code')} {first.get('Message')}"
            )


def key_exists(client: Any, bucket: str, key: str) -> bool:
    """Whether `key` exists (a current version that is not a delete marker), asked by listing it as a prefix:
    needs only s3:ListBucket on a prefix of `key`. The key itself lists first among keys it prefixes."""
    response = client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    return any(item["Key"] == key for item in response.get("Contents", []))


def is_missing(client: Any, bucket: str, key: str, error: ClientError) -> bool:
    """Whether a failed GetObject/HeadObject of `key` means the key does not exist.

    S3 answers 404 for a missing key only to a caller that may list the bucket; with s3:ListBucket limited to
    a prefix (a condition on s3:prefix, which a GET does not carry) the answer is 403. So a 403 is settled by
    listing the key (key_exists): absent means missing, present means a real denial (False: re-raise it)."""
    code = error.response.get("Error", {}).get("Code")
    if code in MISSING_CODES:
        return True
    if code in DENIED_CODES:
        return not key_exists(client, bucket, key)
    return False
