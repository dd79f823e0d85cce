"""PutBucketLogging to an ownership-enforced target allowed by its bucket policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

ACCOUNT_ID = "123456789012"


def log_delivery_statement(target: str, source_arn: str, as_lists: bool = True) -> dict[str, Any]:
    """The statement AWS documents; ``as_lists`` wraps single values in lists (both are valid)."""

    def value(item: str) -> str | list[str]:
        return [item] if as_lists else item

    return {
        "Sid": "S3ServerAccessLogsPolicy",
        "Effect": "Allow",
        "Principal": {"Service": value("logging.s3.amazonaws.com")},
        "Action": value("s3:PutObject"),
        "Resource": value(f"arn:aws:s3:::{target}/logs/*"),
        "Condition": {
            "ArnLike": {"aws:SourceArn": source_arn},
            "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
        },
    }


def tls_only_statement(target: str) -> dict[str, Any]:
    return {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{target}", f"arn:aws:s3:::{target}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


@pytest.fixture
def buckets(aws: Callable[[str], Any], name: Callable[[str], str]) -> tuple[str, str]:
    """(source, target): target has BucketOwnerEnforced ownership, no policy yet."""
    s3 = aws("s3")
    source, target = name("src"), name("logs")
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=target)
    s3.put_bucket_ownership_controls(
        Bucket=target, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    return source, target


def enable_logging(s3: Any, source: str, target: str) -> None:
    s3.put_bucket_logging(
        Bucket=source, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "logs/"}}
    )


def set_policy(s3: Any, target: str, *statements: dict[str, Any]) -> None:
    s3.put_bucket_policy(Bucket=target, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def test_policy_allowing_log_delivery_is_accepted(aws: Callable[[str], Any], buckets: tuple[str, str]) -> None:
    """TLS-only Deny first (moto crashes on its string Principal), list-valued fields."""
    source, target = buckets
    s3 = aws("s3")
    set_policy(s3, target, tls_only_statement(target), log_delivery_statement(target, f"arn:aws:s3:::{source}"))
    enable_logging(s3, source, target)
    assert s3.get_bucket_logging(Bucket=source)["LoggingEnabled"] == {"TargetBucket": target, "TargetPrefix": "logs/"}


def test_target_without_policy_or_acl_grant_is_refused(aws: Callable[[str], Any], buckets: tuple[str, str]) -> None:
    source, target = buckets
    s3 = aws("s3")
    set_policy(s3, target, tls_only_statement(target))
    with pytest.raises(ClientError) as error:
        enable_logging(s3, source, target)
    assert error.value.response["Error"]["Code"] == "InvalidTargetBucketForLogging"


def test_policy_for_another_source_bucket_is_refused(aws: Callable[[str], Any], buckets: tuple[str, str]) -> None:
    """Conditions count: aws:SourceArn must match the bucket being logged (moto ignores it)."""
    source, target = buckets
    s3 = aws("s3")
    set_policy(s3, target, log_delivery_statement(target, "arn:aws:s3:::someone-else", as_lists=False))
    with pytest.raises(ClientError) as error:
        enable_logging(s3, source, target)
    assert error.value.response["Error"]["Code"] == "InvalidTargetBucketForLogging"


def test_policy_with_wildcard_source_arn_is_accepted(aws: Callable[[str], Any], buckets: tuple[str, str]) -> None:
    source, target = buckets
    s3 = aws("s3")
    set_policy(s3, target, log_delivery_statement(target, "arn:aws:s3:::*", as_lists=False))
    enable_logging(s3, source, target)
    assert s3.get_bucket_logging(Bucket=source)["LoggingEnabled"]["TargetBucket"] == target


def test_acl_grant_ignored_when_acls_are_disabled(aws: Callable[[str], Any], buckets: tuple[str, str]) -> None:
    """BucketOwnerEnforced disables ACLs on AWS, so a log-delivery grant does not count."""
    source, target = buckets
    s3 = aws("s3")
    s3.delete_bucket_ownership_controls(Bucket=target)
    s3.put_bucket_acl(Bucket=target, ACL="log-delivery-write")
    s3.put_bucket_ownership_controls(
        Bucket=target, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    with pytest.raises(ClientError) as error:
        enable_logging(s3, source, target)
    assert error.value.response["Error"]["Code"] == "InvalidTargetBucketForLogging"


def test_acl_grant_still_works_for_acl_enabled_targets(aws: Callable[[str], Any], name: Callable[[str], str]) -> None:
    s3 = aws("s3")
    source, target = name("src"), name("logs")
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=target)
    s3.put_bucket_acl(Bucket=target, ACL="log-delivery-write")
    enable_logging(s3, source, target)
    assert s3.get_bucket_logging(Bucket=source)["LoggingEnabled"]["TargetBucket"] == target
