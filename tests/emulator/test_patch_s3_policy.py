"""Bucket policies with Conditions are evaluated against the real S3 request."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

SSE = "s3:x-amz-server-side-encryption"
SSE_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"


def deny(bucket: str, action: str, condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": condition,
    }


@pytest.fixture
def bucket_with_policy(aws: Callable[[str], Any], name: Callable[[str], str]) -> Callable[..., str]:
    """``bucket_with_policy(statement, ...)`` -> name of a new bucket with that policy."""

    def create(*statements: Callable[[str], dict[str, Any]]) -> str:
        bucket = name("policy")
        s3 = aws("s3")
        s3.create_bucket(Bucket=bucket)
        policy = {"Version": "2012-10-17", "Statement": [statement(bucket) for statement in statements]}
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        return bucket

    return create


def assert_denied(call: Callable[[], Any]) -> None:
    with pytest.raises(ClientError) as error:
        call()
    assert error.value.response["Error"]["Code"] in ("AccessDenied", "403")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_tls_only_deny_does_not_block_loopback_requests(
    aws: Callable[[str], Any], bucket_with_policy: Callable[..., str]
) -> None:
    bucket = bucket_with_policy(lambda b: deny(b, "s3:*", {"Bool": {"aws:SecureTransport": "false"}}))
    s3 = aws("s3")
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"data")
    assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"data"
    assert s3.head_object(Bucket=bucket, Key="a.txt")["ContentLength"] == 4
    s3.copy_object(Bucket=bucket, Key="b.txt", CopySource={"Bucket": bucket, "Key": "a.txt"})
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a.txt"}, {"Key": "b.txt"}]})
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["a.txt", "b.txt"]


def test_deny_on_secure_transport_true_blocks_with_access_denied(
    aws: Callable[[str], Any], bucket_with_policy: Callable[..., str]
) -> None:
    """The context really carries aws:SecureTransport = true (and errors are AccessDenied)."""
    bucket = bucket_with_policy(lambda b: deny(b, "s3:PutObject", {"Bool": {"aws:SecureTransport": "true"}}))
    with pytest.raises(ClientError) as error:
        aws("s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    assert error.value.response["Error"]["Code"] == "AccessDenied"


def test_sse_policy_refuses_wrong_algorithm_accepts_kms(
    aws: Callable[[str], Any], bucket_with_policy: Callable[..., str]
) -> None:
    bucket = bucket_with_policy(lambda b: deny(b, "s3:PutObject", {"StringNotEqualsIfExists": {SSE: "aws:kms"}}))
    s3 = aws("s3")
    assert_denied(lambda: s3.put_object(Bucket=bucket, Key="aes", Body=b"x", ServerSideEncryption="AES256"))
    s3.put_object(Bucket=bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms")


def test_sse_if_exists_policy_refuses_upload_without_header_like_aws(
    aws: Callable[[str], Any], bucket_with_policy: Callable[..., str]
) -> None:
    """IAM: a negated operator (with or without IfExists) is TRUE when the key is absent,
    so this Deny applies to header-less uploads on AWS too."""
    bucket = bucket_with_policy(lambda b: deny(b, "s3:PutObject", {"StringNotEqualsIfExists": {SSE: "aws:kms"}}))
    assert_denied(lambda: aws("s3").put_object(Bucket=bucket, Key="plain", Body=b"x"))


def test_sse_policy_guarded_by_null_accepts_upload_without_header(
    aws: Callable[[str], Any], bucket_with_policy: Callable[..., str]
) -> None:
    """The AWS-correct way to refuse only wrong headers: also require the key to be present."""
    bucket = bucket_with_policy(
        lambda b: deny(b, "s3:PutObject", {"StringNotEquals": {SSE: "aws:kms"}, "Null": {SSE: "false"}})
    )
    s3 = aws("s3")
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert_denied(lambda: s3.put_object(Bucket=bucket, Key="aes", Body=b"x", ServerSideEncryption="AES256"))


def test_kms_key_policy_refuses_another_key(aws: Callable[[str], Any], bucket_with_policy: Callable[..., str]) -> None:
    kms = aws("kms")
    right = kms.create_key()["KeyMetadata"]["Arn"]
    wrong = kms.create_key()["KeyMetadata"]["Arn"]
    bucket = bucket_with_policy(lambda b: deny(b, "s3:PutObject", {"StringNotEqualsIfExists": {SSE_KEY: right}}))
    s3 = aws("s3")
    kms_put = {"Bucket": bucket, "Body": b"x", "ServerSideEncryption": "aws:kms"}
    assert_denied(lambda: s3.put_object(Key="wrong", SSEKMSKeyId=wrong, **kms_put))
    s3.put_object(Key="right", SSEKMSKeyId=right, **kms_put)


def test_deny_get_object_also_blocks_head(aws: Callable[[str], Any], bucket_with_policy: Callable[..., str]) -> None:
    """HEAD is authorised as s3:GetObject (moto would ask for s3:HeadObject)."""
    bucket = bucket_with_policy(lambda b: deny(b, "s3:GetObject", {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}))
    s3 = aws("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert_denied(lambda: s3.head_object(Bucket=bucket, Key="k"))
    assert_denied(lambda: s3.get_object(Bucket=bucket, Key="k"))


def test_allow_with_unmet_condition_does_not_deny(
    aws: Callable[[str], Any], bucket_with_policy: Callable[..., str]
) -> None:
    """An Allow whose condition fails does not apply (moto's IAMPolicyStatement says DENIED)."""

    def allow_from_private_network(bucket: str) -> dict[str, Any]:
        return {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        }

    bucket = bucket_with_policy(allow_from_private_network)
    s3 = aws("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


@pytest.mark.parametrize("configure_with", ["KeyId", "Arn"])
def test_default_kms_encryption_applies_and_reports_key_arn(
    aws: Callable[[str], Any], name: Callable[[str], str], configure_with: str
) -> None:
    key = aws("kms").create_key()["KeyMetadata"]
    bucket = name("enc")
    s3 = aws("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key[configure_with],
                    }
                }
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key["Arn"]


@pytest.mark.parametrize(
    ("method", "query", "action"),
    [
        ("HEAD", {}, "s3:GetObject"),
        ("GET", {"tagging": [""]}, "s3:GetObjectTagging"),
        ("GET", {"versionId": ["1"]}, "s3:GetObjectVersion"),
        ("PUT", {"partNumber": ["1"], "uploadId": ["u"]}, "s3:PutObject"),
        ("DELETE", {"uploadId": ["u"]}, "s3:AbortMultipartUpload"),
        ("POST", {"uploads": [""]}, "s3:PutObject"),
        ("OPTIONS", {}, None),
    ],
)
def test_object_requests_are_named_like_iam_actions(
    method: str, query: dict[str, list[str]], action: str | None
) -> None:
    from emulator.patches.s3_policy_conditions import object_action

    assert object_action(method, query) == action
