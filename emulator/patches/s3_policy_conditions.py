"""S3 bucket policies with Conditions: evaluate them against the real request.

moto gap: ``moto/s3/responses.py`` (``S3Response._key_response`` and
``S3Response._bucket_response_delete_keys``) calls
``FakeBucket.get_permission(action, resource)`` (``moto/s3/models.py``) with
no request context, and ``moto/iam/access_control.py`` then treats every
operator but ``StringEquals`` as satisfied. The usual TLS-only statement
(``Deny s3:*`` if ``Bool aws:SecureTransport = false``) therefore refuses every
object request, while encryption-enforcing statements never refuse anything.

The patch

* wraps those two ``S3Response`` methods to publish the request's condition
  context in a ``ContextVar`` while moto handles the request;
* replaces ``FakeBucket.get_permission`` with ``emulator.policy.evaluate``
  (real operators, Deny wins, unmet conditions mean "does not apply");
* names the action as IAM does (HEAD is ``s3:GetObject``, ``?tagging`` is
  ``s3:PutObjectTagging``...) instead of moto's ``s3:<Method>Object``;
* turns moto's bare ``403`` with an empty body into an ``AccessDenied`` error.

Context keys supplied: ``aws:SecureTransport``, ``aws:SourceIp``,
``aws:CurrentTime``, ``aws:EpochTime``, ``aws:PrincipalAccount``,
``s3:authType``, ``s3:signatureversion`` and the ``s3:x-amz-*`` keys taken
from request headers when present (server-side encryption and its KMS key
id, ACL, storage class, copy source, metadata directive, object lock).

``aws:SecureTransport`` is ``"true"`` for requests from a loopback address:
the emulator listens on 127.0.0.1 over plain HTTP, and counting loopback as
TLS lets the standard TLS-only Deny stay in every stack. Requests from any
other address (or in-process mocks over ``http``) get the truthful value.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from emulator.extension import Patch, PatchExtension
from emulator.policy import Caller, Decision, Request, evaluate

_HEADER_CONDITION_KEYS = {
    "x-amz-server-side-encryption": "s3:x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id": "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm": "s3:x-amz-server-side-encryption-customer-algorithm",
    "x-amz-acl": "s3:x-amz-acl",
    "x-amz-storage-class": "s3:x-amz-storage-class",
    "x-amz-copy-source": "s3:x-amz-copy-source",
    "x-amz-metadata-directive": "s3:x-amz-metadata-directive",
    "x-amz-object-lock-mode": "s3:object-lock-mode",
    "x-amz-object-lock-legal-hold": "s3:object-lock-legal-hold",
}

# (HTTP method, sub-resource in the query string) -> IAM action; first match wins.
_OBJECT_ACTIONS: Sequence[tuple[str, str | None, str]] = (
    ("GET", "tagging", "s3:GetObjectTagging"),
    ("GET", "acl", "s3:GetObjectAcl"),
    ("GET", "attributes", "s3:GetObjectAttributes"),
    ("GET", "retention", "s3:GetObjectRetention"),
    ("GET", "legal-hold", "s3:GetObjectLegalHold"),
    ("GET", "uploadId", "s3:ListMultipartUploadParts"),
    ("GET", "versionId", "s3:GetObjectVersion"),
    ("GET", None, "s3:GetObject"),
    ("HEAD", "versionId", "s3:GetObjectVersion"),
    ("HEAD", None, "s3:GetObject"),
    ("PUT", "tagging", "s3:PutObjectTagging"),
    ("PUT", "acl", "s3:PutObjectAcl"),
    ("PUT", "retention", "s3:PutObjectRetention"),
    ("PUT", "legal-hold", "s3:PutObjectLegalHold"),
    ("PUT", None, "s3:PutObject"),
    ("DELETE", "tagging", "s3:DeleteObjectTagging"),
    ("DELETE", "uploadId", "s3:AbortMultipartUpload"),
    ("DELETE", "versionId", "s3:DeleteObjectVersion"),
    ("DELETE", None, "s3:DeleteObject"),
    ("POST", "restore", "s3:RestoreObject"),
    ("POST", "select", "s3:GetObject"),
    ("POST", None, "s3:PutObject"),
)


def object_action(method: str, query: Mapping[str, Any]) -> str | None:
    """IAM action for an object request, or None when the method is unknown."""
    for rule_method, sub_resource, action in _OBJECT_ACTIONS:
        if method.upper() == rule_method and (sub_resource is None or sub_resource in query):
            return action
    return None


@dataclass(frozen=True)
class S3RequestContext:
    """What the policy evaluation needs from the request being handled."""

    caller: Caller
    values: Mapping[str, Sequence[str]]
    action: str | None = None


_current: ContextVar[S3RequestContext | None] = ContextVar("emulator_s3_request", default=None)


def _is_secure(scheme: str, remote_addr: str | None) -> bool:
    if scheme == "https" or remote_addr is None:
        return True
    try:
        return ipaddress.ip_address(remote_addr).is_loopback
    except ValueError:
        return False


def _auth_type(headers: Mapping[str, str], query: Mapping[str, Any]) -> str:
    if "Authorization" in headers:
        return "REST-HEADER"
    if "X-Amz-Signature" in query or "Signature" in query:
        return "REST-QUERY-STRING"
    return "POST"


def request_context(response: Any, action: str | None) -> S3RequestContext:
    """Build the condition context from a moto ``S3Response`` mid-request."""
    request = response.normalized_request
    headers = response.headers
    query = parse_qs(urlparse(response.uri).query, keep_blank_values=True)
    remote_addr = getattr(request, "remote_addr", None)
    account_id = response.current_account
    now = datetime.now(tz=UTC)
    values: dict[str, list[str]] = {
        "aws:SecureTransport": [str(_is_secure(request.scheme, remote_addr)).lower()],
        "aws:CurrentTime": [now.strftime("%Y-%m-%dT%H:%M:%SZ")],
        "aws:EpochTime": [str(int(time.time()))],
        "aws:PrincipalAccount": [account_id],
        "s3:authType": [_auth_type(headers, query)],
    }
    if remote_addr:
        values["aws:SourceIp"] = [remote_addr]
    if "AWS4-HMAC-SHA256" in headers.get("Authorization", "") or "X-Amz-Signature" in query:
        values["s3:signatureversion"] = ["AWS4-HMAC-SHA256"]
    for header, key in _HEADER_CONDITION_KEYS.items():
        if headers.get(header):
            values[key] = [headers[header]]
    return S3RequestContext(caller=Caller(account_id=account_id), values=values, action=action)


def _with_context(original: Callable[..., Any], key_request: bool) -> Callable[..., Any]:
    """Run a moto S3 handler with this request's context published."""

    def handler(self: Any, *args: Any, **kwargs: Any) -> Any:
        from moto.s3.exceptions import S3AccessDeniedError

        action = None
        if key_request:
            action = object_action(self.method, parse_qs(urlparse(self.uri).query, keep_blank_values=True))
        token = _current.set(request_context(self, action))
        try:
            result = original(self, *args, **kwargs)
        finally:
            _current.reset(token)
        if isinstance(result, tuple) and len(result) == 3 and result[0] == 403 and not result[2]:
            raise S3AccessDeniedError()
        return result

    handler.__doc__ = original.__doc__
    handler.__wrapped__ = original  # type: ignore[attr-defined]
    return handler


def get_permission(bucket: Any, action: str, resource: str) -> Any:
    """Replacement for ``FakeBucket.get_permission`` that honours Conditions."""
    from moto.iam.access_control import PermissionResult

    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    current = _current.get()
    decision = evaluate(
        bucket.policy.decode(),
        Request(
            action=(current.action if current and current.action else action),
            resource=resource,
            caller=current.caller if current else Caller(account_id=bucket.account_id),
            context=current.values if current else {},
        ),
    )
    return {
        Decision.ALLOW: PermissionResult.PERMITTED,
        Decision.DENY: PermissionResult.DENIED,
        Decision.NEUTRAL: PermissionResult.NEUTRAL,
    }[decision]


class S3PolicyConditions(PatchExtension):
    """Evaluate bucket-policy Conditions with values from the S3 request."""

    name = "s3-policy-conditions"

    def patches(self) -> Sequence[Patch]:
        from moto.s3.models import FakeBucket
        from moto.s3.responses import S3Response

        return (
            Patch.replace(FakeBucket, "get_permission", get_permission),
            Patch.wrap(S3Response, "_key_response", lambda f: _with_context(f, key_request=True)),
            Patch.wrap(
                S3Response,
                "_bucket_response_delete_keys",
                lambda f: _with_context(f, key_request=False),
            ),
        )
