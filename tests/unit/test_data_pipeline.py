"""The data-pipeline stack: trigger wiring, scoped role, DLQ, tracing, and the backfill machine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Synthesized, at_path, inline_policies, only, policy_statements, resources_of

ENVS = ("local", "dev", "prod")


def stack(synthesized: Callable[[str], Synthesized], env: str = "dev") -> dict[str, Any]:
    return synthesized(env).stack("data-pipeline")


def arn(terraform: dict[str, Any], path: str) -> str:
    """`${<resource at path>.arn}`: how another resource refers to it."""
    return at_path(terraform, path).ref("arn")


def role_policies(terraform: dict[str, Any], owner: str) -> dict[str, dict[str, Any]]:
    """The inline policies of the execution role of construct `owner` ("processor", "backfill"), by name."""
    return inline_policies(terraform, f"{owner}/role/role")


def test_processor_runs_python_312_traced_with_reserved_concurrency_and_a_dlq(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform, settings = stack(synthesized), synthesized("dev").config.data_pipeline
    function = at_path(terraform, "processor/function").body
    assert function["runtime"] == "python3.12"
    assert function["handler"] == "data_processor.handler.handler"
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["reserved_concurrent_executions"] == settings.processor_reserved_concurrency
    assert function["timeout"] == settings.processor_timeout_seconds
    assert function["memory_size"] == settings.processor_memory_mb
    assert function["kms_key_arn"] == arn(terraform, "pipeline-key/key")
    assert function["environment"]["variables"] == {"PROCESSED_BUCKET": "mlp-dev-processed-data"}
    assert function["dead_letter_config"] == {"target_arn": arn(terraform, "processor/dead-letters")}
    assert at_path(terraform, "processor/dead-letters").body["kms_master_key_id"] == arn(terraform, "pipeline-key/key")
    # Created after its log group (else Lambda makes an unencrypted one) and its DLQ permission.
    assert {
        at_path(terraform, "processor/logs").address,
        at_path(terraform, "processor/role/policy-dead-letters").address,
    } <= set(function["depends_on"])


def test_processor_logs_to_its_own_encrypted_log_group(synthesized: Callable[[str], Synthesized]) -> None:
    terraform = stack(synthesized)
    group = at_path(terraform, "processor/logs").body
    assert group["name"] == "/aws/lambda/mlp-dev-data-processor"
    assert group["retention_in_days"] == synthesized("dev").config.log_retention_days
    assert group["kms_key_id"] == arn(terraform, "pipeline-key/key")


def test_s3_may_invoke_the_processor_only_for_the_raw_bucket_of_this_account(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    permission = only(terraform, "aws_lambda_permission")
    assert permission["principal"] == "s3.amazonaws.com"
    assert permission["source_arn"] == arn(terraform, "raw-data/bucket")
    assert permission["source_account"] == "${data.aws_caller_identity.account.account_id}"


def test_raw_bucket_notifies_the_processor_after_the_permission_exists(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    notifications = resources_of(terraform, "aws_s3_bucket_notification")
    assert len(notifications) == 3  # one per bucket: S3 keeps a single configuration
    raw = at_path(terraform, "raw-data/notifications").body
    assert raw["eventbridge"] is True
    assert raw["lambda_function"] == [
        {
            "events": ["s3:ObjectCreated:*"],
            "filter_prefix": "incoming/",
            "lambda_function_arn": arn(terraform, "processor/function"),
        }
    ]
    assert at_path(terraform, "processor/invoked-by-raw-data").address in raw["depends_on"]


def test_processor_role_reads_incoming_and_writes_processed_and_quarantine_only(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    policies = role_policies(terraform, "processor")
    assert set(policies) == {
        "logs",
        "tracing",
        "dead-letters",
        "read-incoming",
        "write-processed",
        "write-quarantine",
        "delete-processed",
        "delete-quarantine",
        "read-index",
        "write-index",
    }
    raw, processed = arn(terraform, "raw-data/bucket"), arn(terraform, "processed-data/bucket")
    assert policies["read-incoming"]["ReadObjects"]["Resource"] == [f"{raw}/incoming/*"]
    assert policies["write-processed"]["WriteObjects"]["Resource"] == [f"{processed}/processed/*"]
    assert policies["write-quarantine"]["WriteObjects"]["Resource"] == [f"{processed}/quarantine/*"]
    # Superseded versions' outputs are deleted (a delete marker: no s3:DeleteObjectVersion), only where it writes.
    for name, prefix in (("delete-processed", "processed/"), ("delete-quarantine", "quarantine/")):
        assert policies[name] == {
            "DeleteObjects": {
                "Sid": "DeleteObjects",
                "Effect": "Allow",
                "Action": ["s3:DeleteObject"],
                "Resource": [f"{processed}/{prefix}*"],
            }
        }
    # The index (each raw object's current-version pointer): read, listed only under index/, written.
    assert policies["read-index"]["ReadObjects"]["Resource"] == [f"{processed}/index/*"]
    assert policies["read-index"]["ListObjects"]["Condition"] == {"StringLike": {"s3:prefix": ["index/*"]}}
    assert policies["write-index"]["WriteObjects"]["Resource"] == [f"{processed}/index/*"]
    assert policies["read-incoming"]["DecryptWithKey"]["Resource"] == [arn(terraform, "raw-data/key/key")]
    assert policies["logs"]["WriteLogs"] == {
        "Sid": "WriteLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [arn(terraform, "processor/logs") + ":*"],
    }


def test_processor_zip_is_reproducible(synthesized: Callable[[str], Synthesized]) -> None:
    hashes = {only(stack(synthesized, env), "aws_lambda_function")["source_code_hash"] for env in ENVS}
    assert len(hashes) == 1  # same source and schemas in every environment -> same bytes


def test_zip_carries_the_dataset_schemas(synthesized: Callable[[str], Synthesized]) -> None:
    import io
    import zipfile

    synth = synthesized("dev")
    (archive,) = (synth.outdir / "stacks" / "dev-data-pipeline").rglob("*.zip")
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as bundle:
        names = set(bundle.namelist())
        assert {"data_processor/handler.py", "data_processor/schemas.json", "lambda_common/__init__.py"} <= names
        assert "churn" in json.loads(bundle.read("data_processor/schemas.json"))["datasets"]


def backfill(terraform: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    machine = at_path(terraform, "backfill/state-machine").body
    return machine, json.loads(machine["definition"])["States"]["ProcessEachObject"]


@pytest.mark.parametrize("env", ENVS)
def test_backfill_is_a_distributed_map_over_the_raw_prefix(synthesized: Callable[[str], Synthesized], env: str) -> None:
    settings, terraform = synthesized(env).config.data_pipeline, stack(synthesized, env)
    machine, fan_out = backfill(terraform)
    assert fan_out["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    raw_bucket = at_path(terraform, "raw-data/bucket").ref("bucket")
    assert fan_out["ItemReader"] == {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": raw_bucket, "Prefix.$": "$.prefix"},
    }
    assert fan_out["MaxConcurrency"] == settings.backfill_max_concurrency
    assert fan_out["ToleratedFailurePercentage"] == settings.backfill_tolerated_failure_percentage
    assert machine["logging_configuration"]["level"] == "ALL"
    assert machine["logging_configuration"]["include_execution_data"] is True
    assert machine["tracing_configuration"] == {"enabled": True}


def test_backfill_role_invokes_only_the_processor_and_lists_only_incoming(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    policies = role_policies(terraform, "backfill")
    assert set(policies) == {"logs", "tracing", "invoke-functions", "list-objects", "child-executions"}
    function = arn(terraform, "processor/function")
    assert policies["invoke-functions"]["InvokeFunctions"]["Resource"] == [function, f"{function}:*"]
    listing = policies["list-objects"]["ListObjects"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["incoming/*"]}}
    start = policies["child-executions"]["StartChildExecutions"]["Resource"][0]
    assert start.endswith(":stateMachine:mlp-dev-data-backfill")


def test_key_policy_lets_cloudwatch_logs_use_the_key_only_for_these_log_groups(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    key = at_path(terraform, "pipeline-key/key").body
    statements = policy_statements(key["policy"])
    contexts = [
        s["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
        for sid, s in statements.items()
        if sid.startswith("LogsEncrypt")
    ]
    assert sorted(c.rsplit(":log-group:", 1)[1] for c in contexts) == [
        "/aws/lambda/mlp-dev-data-processor",
        "/aws/vendedlogs/states/mlp-dev-data-backfill",
    ]
