"""Deploy the local stacks to a fresh emulator: no drift, and the bucket policy holds.

This is the same Terraform JSON `make demo` deploys, applied with terraform directly into
a temporary directory so the developer's own cdktf.out/ and .state/ stay untouched.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import Synthesized, load_config, synth_app

pytestmark = pytest.mark.integration


def terraform(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900, check=False)


@pytest.fixture(scope="module")
def deployed(emulator_url: str, terraform_env: dict[str, str],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    workdir = tmp_path_factory.mktemp("local-deploy")
    port = str(urlparse(emulator_url).port)
    synth = synth_app(load_config("local", EMULATOR_PORT=port, LOCAL_STATE_DIR=str(workdir / "state")),
                      workdir / "cdktf.out")
    for stack in synth.stacks:
        stack_dir = synth.outdir / "stacks" / stack
        for args in (["init", "-no-color"], ["apply", "-auto-approve", "-no-color"]):
            result = terraform(args, stack_dir, terraform_env)
            assert result.returncode == 0, f"terraform {args[0]} {stack}:\n{result.stdout[-3000:]}\n{result.stderr}"
    yield synth


@pytest.fixture(scope="module")
def s3(emulator_url: str) -> Any:
    return boto3.client("s3", endpoint_url=emulator_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def outputs(synth: Synthesized, stack: str, env: dict[str, str]) -> dict[str, str]:
    import json

    result = terraform(["output", "-json"], synth.outdir / "stacks" / stack, env)
    return {name: value["value"] for name, value in json.loads(result.stdout).items()}


def test_plan_after_deploy_shows_no_changes(deployed: Synthesized, terraform_env: dict[str, str]) -> None:
    for stack in deployed.stacks:
        result = terraform(["plan", "-detailed-exitcode", "-no-color"], deployed.outdir / "stacks" / stack,
                           terraform_env)
        assert result.returncode == 0, f"{stack} drifts after deploy:\n{result.stdout[-4000:]}\n{result.stderr}"


def test_object_written_through_the_tls_only_policy_is_encrypted_with_the_bucket_key(
        deployed: Synthesized, terraform_env: dict[str, str], s3: Any) -> None:
    store = outputs(deployed, "local-artifact-store", terraform_env)
    bucket, key_arn = store["candidate_model_bucket_name"], store["candidate_model_key_arn"]
    s3.put_object(Bucket=bucket, Key="models/churn/1/model.bin", Body=b"weights")
    head = s3.head_object(Bucket=bucket, Key="models/churn/1/model.bin")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_arn)
    assert s3.get_object(Bucket=bucket, Key="models/churn/1/model.bin")["Body"].read() == b"weights"
    s3.put_object(Bucket=bucket, Key="models/churn/1/explicit.bin", Body=b"x",
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)


@pytest.mark.parametrize("encryption", [
    {"ServerSideEncryption": "AES256"},
    {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "production"},
])
def test_upload_asking_for_other_encryption_is_refused(deployed: Synthesized, terraform_env: dict[str, str],
                                                       s3: Any, encryption: dict[str, str]) -> None:
    store = outputs(deployed, "local-artifact-store", terraform_env)
    if encryption.get("SSEKMSKeyId") == "production":
        encryption = {**encryption, "SSEKMSKeyId": store["production_model_key_arn"]}
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=store["candidate_model_bucket_name"], Key="models/churn/1/rogue.bin", Body=b"x",
                      **encryption)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
