"""The local stacks on a fresh emulator: no drift after deploy, and the bucket policy holds."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Synthesized
from tests.integration.terraform_cli import terraform

pytestmark = pytest.mark.integration


def test_plan_after_deploy_shows_no_changes(deployed: Synthesized, terraform_env: dict[str, str]) -> None:
    def drift(stack: str) -> str | None:
        result = terraform(
            ["plan", "-detailed-exitcode", "-no-color"], deployed.outdir / "stacks" / stack, terraform_env
        )
        return (
            None
            if result.returncode == 0
            else f"{stack} drifts after deploy:\n{result.stdout[-4000:]}\n{result.stderr}"
        )

    # Plans only read, so every stack's runs at once (they wait on the emulator's API, not on the CPU).
    with ThreadPoolExecutor(max_workers=len(deployed.stacks)) as pool:
        problems = [problem for problem in pool.map(drift, deployed.stacks) if problem]
    assert not problems, "\n".join(problems)


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
