"""CopyObject honours ``x-amz-copy-source-if-match``, as S3 does.

moto's ``S3Response.copy_object`` (``moto/s3/responses.py``) checks
``x-amz-copy-source-if-none-match`` but ignores ``x-amz-copy-source-if-match``, so a
copy whose source changed since its ETag was recorded succeeds here and fails (412
PreconditionFailed) on AWS. Promotion copies a candidate with ``copy_if_match`` set to
the ETag of the bytes it checked (building_blocks/production_model.py), so without
this patch the emulator could not show that a changed candidate is never promoted.

The patch wraps ``copy_object`` and, when the header is present, compares it (quoted
or not) with the source object's ETag first, raising moto's own ``PreconditionFailed``
on a mismatch. A missing source is left to moto (NoSuchKey).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from emulator.extension import Patch, PatchExtension

HEADER = "x-amz-copy-source-if-match"


def etag_matches(requested: str, etag: str) -> bool:
    """S3 compares ETags with or without their quotes."""
    return requested.strip('"') == etag.strip('"')


def _copy_object(original: Callable[..., Any]) -> Callable[..., Any]:
    def copy_object(self: Any) -> Any:
        requested = self.headers.get(HEADER)
        if requested:
            from moto.s3.exceptions import PreconditionFailed

            source = self.headers.get("x-amz-copy-source")
            if isinstance(source, bytes):
                source = source.decode("utf-8")
            parsed = urlparse(source)
            bucket, key = unquote(parsed.path).lstrip("/").split("/", 1)
            version_id = parse_qs(parsed.query).get("versionId", [None])[0]
            current = self.backend.get_object(bucket, key, version_id=version_id)
            if current is not None and not etag_matches(requested, current.etag):
                raise PreconditionFailed(failed_condition="x-amz-copy-source-If-Match")
        return original(self)

    return copy_object


class S3CopySourceIfMatch(PatchExtension):
    """Refuse a CopyObject whose ``x-amz-copy-source-if-match`` names another ETag."""

    name = "s3-copy-source-if-match"

    def patches(self) -> Sequence[Patch]:
        from moto.s3.responses import S3Response

        return (Patch.wrap(S3Response, "copy_object", _copy_object),)
