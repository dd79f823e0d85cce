"""S3 server access logging: validate the target bucket the way AWS does.

moto gap: ``PutBucketLogging`` runs ``FakeBucket.set_logging``
(``moto/s3/models.py``), which asks ``FakeBucket._log_permissions_enabled_policy``
and ``FakeBucket._log_permissions_enabled_acl`` whether the log-delivery
service may write to the target. moto's policy check only recognises one
literal statement shape: it crashes (HTTP 500) when an earlier statement has
``"Principal": "*"`` (the usual TLS-only Deny), misses list-valued
``Service``/``Resource`` entries, and ignores ``Deny`` statements and
Conditions. Its ACL check counts log-delivery grants even on targets whose
ownership is ``BucketOwnerEnforced``, where AWS disables ACLs entirely.

The patch evaluates the target bucket's policy with ``emulator.policy`` for
the principal ``logging.s3.amazonaws.com`` doing ``s3:PutObject`` on
``<target>/<prefix>...``, with ``aws:SourceAccount`` and ``aws:SourceArn`` set
to the source bucket (as the real delivery does), and ignores ACL grants on
ACL-less (ownership-enforced) targets. A target with neither an allowing
policy nor a log-delivery ACL grant is still refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emulator.extension import Patch, PatchExtension, unwrap_static
from emulator.policy import Caller, Decision, Request, evaluate

LOGGING_SERVICE = "logging.s3.amazonaws.com"


def _ownership(bucket: Any) -> str | None:
    rule = bucket.ownership_rule
    if isinstance(rule, dict):  # moto stores the bare string, be lenient
        rule = rule.get("ObjectOwnership")
    return None if rule is None else str(rule)


def log_delivery_allowed_by_policy(source: Any, target_bucket: Any, target_prefix: str | None) -> bool:
    """Replacement for ``FakeBucket._log_permissions_enabled_policy``.

    Installed as a plain function, so Python binds ``source`` to the bucket
    whose logging is being configured (moto calls it via ``self``).
    """
    if target_bucket.policy is None:
        return False
    request = Request(
        action="s3:PutObject",
        resource=f"{target_bucket.arn}/{target_prefix or ''}access-log-object",
        caller=Caller(account_id=source.account_id, service=LOGGING_SERVICE),
        context={
            "aws:SourceAccount": [source.account_id],
            "aws:SourceArn": [source.arn],
            "aws:SecureTransport": ["true"],
        },
    )
    return evaluate(target_bucket.policy.decode(), request) is Decision.ALLOW


def _acl_check(original: Any) -> staticmethod[[Any], bool]:
    check = unwrap_static(original)

    def log_delivery_allowed_by_acl(target_bucket: Any) -> bool:
        if target_bucket.acl is None or _ownership(target_bucket) == "BucketOwnerEnforced":
            return False
        return bool(check(target_bucket))

    return staticmethod(log_delivery_allowed_by_acl)


class S3LoggingDelivery(PatchExtension):
    """Accept log targets whose bucket policy lets the logging service write."""

    name = "s3-logging-delivery"

    def patches(self) -> Sequence[Patch]:
        from moto.s3.models import FakeBucket

        return (
            Patch.replace(FakeBucket, "_log_permissions_enabled_policy", log_delivery_allowed_by_policy),
            Patch.wrap(FakeBucket, "_log_permissions_enabled_acl", _acl_check),
        )
