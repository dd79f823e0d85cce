"""SSE-KMS objects report the KMS key ARN, as S3 does, not the bare key id.

moto applies a bucket's default encryption (``S3Backend.put_object`` in
``moto/s3/models.py``) but stores ``KMSMasterKeyID`` (or the request's
``x-amz-server-side-encryption-aws-kms-key-id``) verbatim on the
``FakeKey``, so a bucket configured with a key *id* returns that id as
``SSEKMSKeyId`` where AWS returns the full key ARN. Code comparing
``SSEKMSKeyId`` with ``aws_kms_key.arn`` then passes on AWS and fails here.

The patch wraps ``FakeKey.__init__`` (every put, copy and completed
multipart upload builds one) and replaces a bare key id that names a key
in moto's KMS backend of the same account with that key's ARN. ARNs pass
through; aliases and unknown ids are left as given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from emulator.extension import Patch, PatchExtension


def kms_key_arn(account_id: str, key_id: str | None) -> str | None:
    """The ARN of KMS key ``key_id`` in ``account_id``, or ``key_id`` unchanged."""
    from moto.kms.models import kms_backends

    if not key_id or key_id.startswith(("arn:", "alias/")) or account_id not in kms_backends:
        return key_id
    for backend in kms_backends[account_id].values():
        key = backend.keys.get(key_id)
        if key is not None:
            return str(key.arn)
    return key_id


def _init(original: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.kms_key_id and str(self.encryption or "").startswith("aws:kms"):
            self.kms_key_id = kms_key_arn(self.account_id, self.kms_key_id)

    return __init__


class S3KmsKeyArn(PatchExtension):
    """Store SSE-KMS key ids on S3 objects as key ARNs."""

    name = "s3-kms-key-arn"

    def patches(self) -> Sequence[Patch]:
        from moto.s3.models import FakeKey

        return (Patch.wrap(FakeKey, "__init__", _init),)
