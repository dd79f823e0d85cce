"""The local stacks on a fresh emulator: the plan report finds no drift after deploy, and the bucket policy holds."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Synthesized
from tooling import plan_report, stack_order

pytestmark = pytest.mark.integration


def test_the_plan_report_after_deploy_shows_no_changes_in_any_stack(deployed: Synthesized) -> None:
    """What `make plan` and the drift check run (plan -detailed-exitcode per stack in dependency order, checkov
    alongside), on the deployed stacks: nothing to change anywhere."""
    report = plan_report.plan_environment(deployed.config, deployed.outdir, synthesize=False, progress=io.StringIO())
    problems = [
        f"{stack.stack}: {stack.summary()}\n{stack.error}"
        + "".join(
            f"\n  {change.verb} {change.address} {[a.path for a in change.attributes]}" for change in stack.changes
        )
        for stack in report.stacks
        if stack.has_changes or stack.failed
    ]
    assert not problems, "\n".join(problems)
    assert [stack.stack for stack in report.stacks] == stack_order.deploy_order_of(deployed.outdir)
    assert report.checkov.ok and report.checkov.passed > 0


def test_object_written_through_the_tls_only_policy_is_encrypted_with_the_bucket_key(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    store, s3 = stack_outputs("artifact-store"), aws("s3")
    bucket, key_arn = store["candidate_model_bucket_name"], store["candidate_model_key_arn"]
    s3.put_object(Bucket=bucket, Key="models/churn/1/model.bin", Body=b"weights")
    head = s3.head_object(Bucket=bucket, Key="models/churn/1/model.bin")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_arn)
    assert s3.get_object(Bucket=bucket, Key="models/churn/1/model.bin")["Body"].read() == b"weights"
    s3.put_object(
        Bucket=bucket, Key="models/churn/1/explicit.bin", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn
    )


@pytest.mark.parametrize(
    "encryption",
    [
        {"ServerSideEncryption": "AES256"},
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "production"},
    ],
)
def test_upload_asking_for_other_encryption_is_refused(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any], encryption: dict[str, str]
) -> None:
    store = stack_outputs("artifact-store")
    if encryption.get("SSEKMSKeyId") == "production":
        encryption = {**encryption, "SSEKMSKeyId": store["production_model_key_arn"]}
    with pytest.raises(ClientError) as refused:
        aws("s3").put_object(
            Bucket=store["candidate_model_bucket_name"], Key="models/churn/1/rogue.bin", Body=b"x", **encryption
        )
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
