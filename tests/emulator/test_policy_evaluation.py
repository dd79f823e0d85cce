"""emulator.policy: IAM condition operators and resource-policy decisions (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.policy import Caller, Decision, Request, evaluate, evaluate_condition_block
from emulator.policy.conditions import evaluate_condition

SSE = "s3:x-amz-server-side-encryption"
CTX_KMS = {SSE: ["aws:kms"]}
CTX_AES = {SSE: ["AES256"]}
NONE: dict[str, list[str]] = {}


@pytest.mark.parametrize(
    ("operator", "expected", "context", "result"),
    [
        ("StringEquals", "aws:kms", CTX_KMS, True),
        ("StringEquals", ["AES256", "aws:kms"], CTX_KMS, True),  # values OR
        ("StringEquals", "aws:kms", CTX_AES, False),
        ("StringEquals", "aws:kms", NONE, False),  # missing key: false
        ("StringNotEquals", "aws:kms", CTX_AES, True),
        ("StringNotEquals", ["AES256", "aws:kms"], CTX_AES, False),  # negated values NOR
        ("StringNotEquals", "aws:kms", NONE, True),  # missing key, negated: true
        ("StringNotEqualsIfExists", "aws:kms", NONE, True),
        ("StringNotEqualsIfExists", "aws:kms", CTX_KMS, False),
        ("StringEqualsIfExists", "aws:kms", NONE, True),
        ("StringEqualsIgnoreCase", "AWS:KMS", CTX_KMS, True),
        ("StringLike", "aws:*", CTX_KMS, True),
        ("StringNotLike", "aws:*", CTX_AES, True),
        ("Null", "true", NONE, True),
        ("Null", "false", NONE, False),
        ("Null", "false", CTX_KMS, True),
        ("ForAnyValue:StringEquals", "b", {SSE: ["a", "b"]}, True),
        ("ForAllValues:StringEquals", "b", {SSE: ["a", "b"]}, False),
        ("ForAllValues:StringEquals", "b", NONE, True),
        ("Teleports", "x", CTX_KMS, False),  # unknown operator: condition false
    ],
)
def test_string_and_presence_operators(
    operator: str, expected: Any, context: dict[str, list[str]], result: bool
) -> None:
    assert evaluate_condition(operator, SSE, expected, context) is result


@pytest.mark.parametrize(
    ("operator", "key", "expected", "actual", "result"),
    [
        ("Bool", "aws:SecureTransport", "false", "true", False),
        ("Bool", "aws:SecureTransport", False, "false", True),  # JSON booleans are accepted
        ("ArnLike", "aws:SourceArn", "arn:aws:s3:::logs-*", "arn:aws:s3:::logs-prod", True),
        ("ArnLike", "aws:SourceArn", "arn:aws:s3:::logs-*", "arn:aws:s3:::data", False),
        ("ArnNotLike", "aws:SourceArn", "arn:aws:s3:::logs-*", "arn:aws:s3:::data", True),
        ("ArnEquals", "aws:SourceArn", "arn:aws:s3:::a", "arn:aws:s3:::a", True),
        ("NumericLessThan", "s3:TlsVersion", "1.2", "1.3", False),
        ("NumericGreaterThanEquals", "s3:max-keys", "10", "10", True),
        ("NumericEquals", "s3:max-keys", "10", "ten", False),  # unparsable never matches
        ("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z", "2026-05-01T00:00:00Z", True),
        ("IpAddress", "aws:SourceIp", "127.0.0.0/8", "127.0.0.1", True),
        ("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", "127.0.0.1", True),
    ],
)
def test_typed_operators(operator: str, key: str, expected: Any, actual: str, result: bool) -> None:
    assert evaluate_condition(operator, key, expected, {key: [actual]}) is result


def test_context_keys_are_case_insensitive_and_block_is_and() -> None:
    block = {"StringEquals": {"AWS:SourceAccount": "123456789012"}, "Bool": {"aws:securetransport": "true"}}
    context = {"aws:SourceAccount": ["123456789012"], "aws:SecureTransport": ["true"]}
    assert evaluate_condition_block(block, context)
    assert not evaluate_condition_block(block, {**context, "aws:SecureTransport": ["false"]})


def _request(action: str = "s3:PutObject", caller: Caller | None = None, **context: str) -> Request:
    return Request(
        action=action,
        resource="arn:aws:s3:::bucket/key",
        caller=caller or Caller(account_id="123456789012"),
        context={key.replace("__", ":"): [value] for key, value in context.items()},
    )


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ALLOW_ACCOUNT = {
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": "s3:*",
    "Resource": "arn:aws:s3:::bucket/*",
}


def test_deny_wins_over_allow_and_actions_ignore_case() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "S3:putobject", "Resource": "arn:aws:s3:::bucket/*"}
    assert evaluate(_policy(ALLOW_ACCOUNT), _request()) is Decision.ALLOW
    assert evaluate(_policy(ALLOW_ACCOUNT, deny), _request()) is Decision.DENY


def test_statements_for_other_principals_or_resources_are_neutral() -> None:
    other_account = {**ALLOW_ACCOUNT, "Principal": {"AWS": "arn:aws:iam::999999999999:root"}}
    other_bucket = {**ALLOW_ACCOUNT, "Resource": "arn:aws:s3:::other/*"}
    service_only = {**ALLOW_ACCOUNT, "Principal": {"Service": "logging.s3.amazonaws.com"}}
    assert evaluate(_policy(other_account, other_bucket, service_only), _request()) is Decision.NEUTRAL
    logging_caller = Caller(account_id="123456789012", service="logging.s3.amazonaws.com")
    assert evaluate(_policy(service_only), _request(caller=logging_caller)) is Decision.ALLOW


def test_not_action_and_single_statement_object() -> None:
    policy = {"Statement": {"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "Resource": "*"}}
    assert evaluate(policy, _request("s3:GetObject")) is Decision.NEUTRAL
    assert evaluate(policy, _request("s3:DeleteObject")) is Decision.DENY


def test_deny_with_condition_applies_only_when_condition_holds() -> None:
    deny_plain_http = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert evaluate(_policy(deny_plain_http), _request(aws__SecureTransport="true")) is Decision.NEUTRAL
    assert evaluate(_policy(deny_plain_http), _request(aws__SecureTransport="false")) is Decision.DENY
    assert evaluate(_policy(deny_plain_http), _request()) is Decision.NEUTRAL
