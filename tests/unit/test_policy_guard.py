"""The synth-time policy guard fails synth on unencrypted buckets and wildcard actions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import Aspects

from building_blocks.policy_guard import PolicyGuard, find_violations
from building_blocks.provider_modules import install_lightweight_provider_package
from tests.conftest import synth_stack

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy  # noqa: E402
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket  # noqa: E402


def policy(effect: str, action: Any) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": effect, "Action": action, "Resource": "*"}]}
    )


def test_bad_constructs_fail_synth_naming_their_paths(stack_for_constructs: Any) -> None:
    Aspects.of(stack_for_constructs).add(PolicyGuard())
    S3Bucket(stack_for_constructs, "plain-bucket", bucket="team-plain")
    IamRolePolicy(stack_for_constructs, "too-broad", role="some-role", policy=policy("Allow", "s3:*"))
    with pytest.raises(RuntimeError) as caught:
        synth_stack(stack_for_constructs)
    message = str(caught.value)
    assert "construct-test/plain-bucket: bucket has no server-side encryption configuration" in message
    assert "construct-test/too-broad: statement S allows wildcard action 's3:*'" in message


@pytest.mark.parametrize(
    "action, wildcard",
    [
        ("*", "*"),
        ("s3:*", "s3:*"),
        ("s3:Get*", "s3:Get*"),
        (["s3:GetObject", "kms:*"], "kms:*"),
    ],
)
def test_allow_with_wildcard_action_is_a_violation(action: Any, wildcard: str) -> None:
    terraform = {"resource": {"aws_iam_policy": {"p": {"policy": policy("Allow", action)}}}}
    assert [v.rule for v in find_violations(terraform)] == [f"statement S allows wildcard action {wildcard!r}"]


def test_deny_with_wildcard_action_is_allowed() -> None:
    terraform = {"resource": {"aws_s3_bucket_policy": {"p": {"policy": policy("Deny", "s3:*")}}}}
    assert find_violations(terraform) == []


def test_exact_actions_pass() -> None:
    terraform = {"resource": {"aws_iam_role_policy": {"p": {"policy": policy("Allow", ["s3:GetObject"])}}}}
    assert find_violations(terraform) == []


def test_encrypted_bucket_passes_and_unencrypted_fails() -> None:
    terraform = {
        "resource": {
            "aws_s3_bucket": {"a": {"bucket": "a"}, "b": {"bucket": "b"}},
            "aws_s3_bucket_server_side_encryption_configuration": {"e": {"bucket": "${aws_s3_bucket.a.id}"}},
        }
    }
    assert [v.path for v in find_violations(terraform)] == ["aws_s3_bucket.b"]
