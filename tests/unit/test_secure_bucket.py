"""SecureBucket: every secure default is in the synthesized Terraform, conflicts are refused."""

from __future__ import annotations

from typing import Any

import pytest

from building_blocks.kms_key import KmsKey
from building_blocks.secure_bucket import (
    BucketEncryption,
    SecureBucket,
    SecureBucketProps,
    access_log_bucket,
)
from tests.conftest import at_path, only, policy_statements, resources_of, synth_stack


def build(stack: Any, *, disposable: bool = False, key: KmsKey | None = None) -> dict[str, Any]:
    logs = access_log_bucket(stack, "logs", bucket_name="team-access-logs", retention_days=30, disposable=disposable)
    SecureBucket(
        stack,
        "data",
        SecureBucketProps(
            bucket_name="team-data",
            access_log_bucket=logs,
            encryption_key=key,
            noncurrent_version_expiration_days=45,
            disposable=disposable,
        ),
    )
    return synth_stack(stack)


def test_bucket_is_encrypted_with_a_dedicated_customer_managed_key(stack_for_constructs: Any) -> None:
    terraform = build(stack_for_constructs)
    rule = at_path(terraform, "data/encryption").body["rule"][0]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    key_ref = rule["apply_server_side_encryption_by_default"]["kms_master_key_id"]
    assert key_ref == at_path(terraform, "data/key/key").ref("arn")
    assert rule["bucket_key_enabled"] is True
    key = only(terraform, "aws_kms_key")
    assert key["enable_key_rotation"] is True


def test_given_key_is_used_instead_of_creating_one(stack_for_constructs: Any) -> None:
    key = KmsKey(stack_for_constructs, "shared", alias_name="team-shared", description="shared")
    terraform = build(stack_for_constructs, key=key)
    assert len(resources_of(terraform, "aws_kms_key")) == 1
    rule = at_path(terraform, "data/encryption").body["rule"][0]
    assert rule["apply_server_side_encryption_by_default"]["kms_master_key_id"] == at_path(terraform, "shared/key").ref(
        "arn"
    )


def test_bucket_refuses_plain_http_and_other_encryption(stack_for_constructs: Any) -> None:
    terraform = build(stack_for_constructs)
    statements = policy_statements(at_path(terraform, "data/policy").body["policy"])
    tls = statements["DenyInsecureTransport"]
    assert (tls["Effect"], tls["Action"]) == ("Deny", ["s3:*"])
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(tls["Resource"]) == 2  # the bucket and its objects
    # Deny only when the header is sent with another value; header-less uploads get the default.
    assert statements["DenyOtherEncryption"]["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Null": {"s3:x-amz-server-side-encryption": "false"},
    }
    other_key = statements["DenyOtherKmsKey"]["Condition"]
    assert other_key["StringNotEquals"]["s3:x-amz-server-side-encryption-aws-kms-key-id"] == at_path(
        terraform, "data/key/key"
    ).ref("arn")
    assert other_key["Null"] == {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"}


def test_versioning_public_access_block_and_owner_enforced(stack_for_constructs: Any) -> None:
    terraform = build(stack_for_constructs)
    versioning = at_path(terraform, "data/versioning").body
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    block = at_path(terraform, "data/public-access").body
    assert all(
        block[flag] is True
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    ownership = at_path(terraform, "data/ownership").body
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"


def test_lifecycle_aborts_uploads_and_expires_old_versions(stack_for_constructs: Any) -> None:
    rules = {r["id"]: r for r in at_path(build(stack_for_constructs), "data/lifecycle").body["rule"]}
    assert rules["abort-incomplete-multipart-uploads"]["abort_incomplete_multipart_upload"][0] == {
        "days_after_initiation": 7
    }
    assert rules["expire-noncurrent-versions"]["noncurrent_version_expiration"][0] == {"noncurrent_days": 45}
    # Delete markers left by deletes go once nothing is behind them (no marker pile-up).
    assert rules["expire-noncurrent-versions"]["expiration"] == [{"expired_object_delete_marker": True}]
    assert "expire-objects" not in rules  # data is kept; only log buckets expire objects


def test_access_logs_go_to_the_log_bucket_which_admits_only_that_source(stack_for_constructs: Any) -> None:
    terraform = build(stack_for_constructs)
    logging = at_path(terraform, "data/access-logs").body
    assert logging["target_bucket"] == at_path(terraform, "logs/bucket").ref("id")
    assert logging["target_prefix"] == "team-data/"
    log_policy = policy_statements(at_path(terraform, "logs/policy").body["policy"])
    delivery = log_policy["AccessLogsFromTeamData"]
    assert delivery["Principal"] == {"Service": ["logging.s3.amazonaws.com"]}
    assert delivery["Action"] == ["s3:PutObject"]
    assert delivery["Resource"][0].endswith("/team-data/*")
    assert delivery["Condition"]["ArnLike"]["aws:SourceArn"] == at_path(terraform, "data/bucket").ref("arn")
    assert "aws:SourceAccount" in delivery["Condition"]["StringEquals"]


def test_log_bucket_uses_s3_managed_keys_and_expires_logs(stack_for_constructs: Any) -> None:
    terraform = build(stack_for_constructs)
    rule = at_path(terraform, "logs/encryption").body["rule"][0]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    rules = {r["id"]: r for r in at_path(terraform, "logs/lifecycle").body["rule"]}
    assert rules["expire-objects"]["expiration"][0] == {"days": 30}
    # Versioning would otherwise keep what expired, as a noncurrent version, for the bucket-wide retention.
    assert rules["expire-objects"]["noncurrent_version_expiration"] == [{"noncurrent_days": 1}]


def test_eventbridge_notifications_are_on(stack_for_constructs: Any) -> None:
    assert at_path(build(stack_for_constructs), "data/notifications").body["eventbridge"] is True


def test_buckets_and_keys_are_protected_from_destroy_by_default(stack_for_constructs: Any) -> None:
    terraform = build(stack_for_constructs)
    for resource_type in ("aws_s3_bucket", "aws_kms_key"):
        for body in resources_of(terraform, resource_type).values():
            assert body["lifecycle"] == {"prevent_destroy": True}
            assert body.get("force_destroy", False) is False


def test_disposable_buckets_can_be_destroyed(stack_for_constructs: Any) -> None:
    terraform = build(stack_for_constructs, disposable=True)
    for body in resources_of(terraform, "aws_s3_bucket").values():
        assert body["force_destroy"] is True
        assert body["lifecycle"] == {"prevent_destroy": False}


@pytest.mark.parametrize(
    "make_props, message",
    [
        (lambda logs, key: SecureBucketProps("team-data"), "access_log_bucket is required"),
        (
            lambda logs, key: SecureBucketProps(
                "team-data", encryption=BucketEncryption.S3_MANAGED, encryption_key=key
            ),
            "encryption_key is set but encryption is S3_MANAGED",
        ),
        (
            lambda logs, key: SecureBucketProps(
                "team-data", encryption=BucketEncryption.S3_MANAGED, access_log_bucket=logs
            ),
            "does not ship its own access logs",
        ),
        (lambda logs, key: SecureBucketProps("Team_Data", access_log_bucket=logs), "bucket_name 'Team_Data'"),
        (
            lambda logs, key: SecureBucketProps(
                "team-data", access_log_bucket=logs, noncurrent_version_expiration_days=0
            ),
            "noncurrent_version_expiration_days=0",
        ),
    ],
)
def test_conflicting_or_invalid_props_are_refused(stack_for_constructs: Any, make_props: Any, message: str) -> None:
    logs = access_log_bucket(stack_for_constructs, "logs", bucket_name="team-logs", retention_days=7, disposable=False)
    key = KmsKey(stack_for_constructs, "key", alias_name="team", description="test")
    with pytest.raises(ValueError, match=message):
        SecureBucket(stack_for_constructs, "data", make_props(logs, key))


def test_logs_cannot_target_a_kms_encrypted_bucket(stack_for_constructs: Any) -> None:
    logs = access_log_bucket(stack_for_constructs, "logs", bucket_name="team-logs", retention_days=7, disposable=False)
    kms_bucket = SecureBucket(stack_for_constructs, "kms", SecureBucketProps("team-kms", access_log_bucket=logs))
    with pytest.raises(ValueError, match="must be S3_MANAGED"):
        SecureBucket(stack_for_constructs, "data", SecureBucketProps("team-data", access_log_bucket=kms_bucket))
