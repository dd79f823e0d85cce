"""Grants: a role starts empty and each grant names only the resource it was called on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from building_blocks import perms
from building_blocks.iam import ServiceRole, Statement, policy_document
from building_blocks.kms_key import KmsKey
from building_blocks.secure_bucket import SecureBucket, SecureBucketProps, access_log_bucket
from tests.conftest import at_path, inline_policies, only, policy_statements, synth_stack


def role_and_bucket(stack: Any) -> tuple[ServiceRole, SecureBucket]:
    logs = access_log_bucket(stack, "logs", bucket_name="team-logs", retention_days=7, disposable=False)
    bucket = SecureBucket(stack, "models", SecureBucketProps("team-models", access_log_bucket=logs))
    role = ServiceRole(
        stack, "trainer", role_name="team-trainer", service="sagemaker.amazonaws.com", source_account="123456789012"
    )
    return role, bucket


def test_role_trusts_only_its_service_from_its_account(stack_for_constructs: Any) -> None:
    role_and_bucket(stack_for_constructs)
    terraform = synth_stack(stack_for_constructs)
    trust = json.loads(only(terraform, "aws_iam_role")["assume_role_policy"])["Statement"]
    assert trust == [
        {
            "Sid": "TrustService",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Principal": {"Service": ["sagemaker.amazonaws.com"]},
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ]
    assert inline_policies(terraform) == {}  # no permission until something is granted


def test_grant_read_scopes_objects_listing_and_key_to_the_prefix(stack_for_constructs: Any) -> None:
    role, bucket = role_and_bucket(stack_for_constructs)
    grant = bucket.grant_read(role, "read-models", prefix="models/")
    terraform = synth_stack(stack_for_constructs)
    statements = inline_policies(terraform)["read-models"]
    assert grant.policy_name == "read-models" and [s.sid for s in grant.statements] == list(statements)
    assert statements["ReadObjects"]["Action"] == list(perms.BUCKET_READ_ACTIONS)
    (objects,) = statements["ReadObjects"]["Resource"]
    assert objects == at_path(terraform, "models/bucket").ref("arn") + "/models/*"
    assert statements["ListObjects"]["Condition"] == {"StringLike": {"s3:prefix": ["models/*"]}}
    assert statements["DecryptWithKey"]["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert statements["DecryptWithKey"]["Resource"] == [at_path(terraform, "models/key/key").ref("arn")]


def test_grant_write_has_no_delete_or_acl_actions(stack_for_constructs: Any) -> None:
    role, bucket = role_and_bucket(stack_for_constructs)
    bucket.grant_write(role, "write-models", prefix="models/")
    statements = inline_policies(synth_stack(stack_for_constructs))["write-models"]
    actions = statements["WriteObjects"]["Action"]
    assert "s3:PutObject" in actions
    assert not [a for a in actions if "Delete" in a or "Acl" in a]
    assert statements["WriteObjects"]["Resource"][0].endswith(".arn}/models/*")
    assert statements["EncryptDecryptWithKey"]["Action"] == list(perms.KEY_ENCRYPT_ACTIONS)


def test_grant_prefix_must_be_a_folder(stack_for_constructs: Any) -> None:
    role, bucket = role_and_bucket(stack_for_constructs)
    with pytest.raises(ValueError, match="grant prefix 'models' must end with '/'"):
        bucket.grant_read(role, "read", prefix="models")


def test_a_policy_name_is_attached_once(stack_for_constructs: Any) -> None:
    role, bucket = role_and_bucket(stack_for_constructs)
    bucket.grant_read(role, "read")
    with pytest.raises(ValueError, match="inline policy 'read' is already attached"):
        bucket.grant_write(role, "read")


def test_key_policy_lists_actions_and_trusts_only_the_account(stack_for_constructs: Any) -> None:
    key = KmsKey(stack_for_constructs, "key", alias_name="team-key", description="test", deletion_window_days=10)
    key.allow_service(
        "CloudWatchLogsUse",
        "logs.us-east-1.amazonaws.com",
        ["kms:Encrypt", "kms:Decrypt"],
        {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:*:123456789012:*"}},
    )
    terraform = synth_stack(stack_for_constructs)
    body = only(terraform, "aws_kms_key")
    assert body["enable_key_rotation"] is True and body["deletion_window_in_days"] == 10
    statements = policy_statements(body["policy"])
    admin = statements["AccountAdministersKey"]
    assert admin["Principal"]["AWS"][0].endswith(":root")
    assert "kms:*" not in admin["Action"] and "kms:PutKeyPolicy" in admin["Action"]
    assert statements["CloudWatchLogsUse"]["Principal"] == {"Service": ["logs.us-east-1.amazonaws.com"]}
    assert only(terraform, "aws_kms_alias")["name"] == "alias/team-key"


def test_key_deletion_window_is_validated(stack_for_constructs: Any) -> None:
    with pytest.raises(ValueError, match="deletion_window_days=3 must be 7-30"):
        KmsKey(stack_for_constructs, "key", alias_name="k", description="d", deletion_window_days=3)


def test_statements_are_validated() -> None:
    with pytest.raises(ValueError, match="must be alphanumeric"):
        Statement(sid="read-models", actions=("s3:GetObject",))
    with pytest.raises(ValueError, match="actions must not be empty"):
        Statement(sid="Empty", actions=())
    with pytest.raises(ValueError, match="duplicate statement sids: Same"):
        policy_document([Statement(sid="Same", actions=("s3:GetObject",))] * 2)


def test_grant_list_lists_only_the_prefix_and_reads_nothing(stack_for_constructs: Any) -> None:
    role, bucket = role_and_bucket(stack_for_constructs)
    grant = bucket.grant_list(role, "list-models", prefix="models/")
    terraform = synth_stack(stack_for_constructs)
    statements = inline_policies(terraform)["list-models"]
    assert list(statements) == ["ListObjects"]  # no GetObject, no key use
    assert statements["ListObjects"]["Resource"] == [at_path(terraform, "models/bucket").ref("arn")]
    assert statements["ListObjects"]["Condition"] == {"StringLike": {"s3:prefix": ["models/*"]}}
    assert grant.policy.node.path.endswith("trainer/policy-list-models")
