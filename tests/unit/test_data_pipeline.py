"""The data-pipeline stack: trigger wiring, scoped role, DLQ, tracing, and the backfill machine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Synthesized, only, policy_statements, resources_of

ENVS = ("local", "dev", "prod")


def stack(synthesized: Callable[[str], Synthesized], env: str = "dev") -> dict[str, Any]:
    return synthesized(env).stack("data-pipeline")


def ref(terraform: dict[str, Any], resource_type: str, construct_prefix: str) -> str:
    """The Terraform address `type.logical_id` of the one resource whose id starts with the prefix."""
    (logical_id,) = [k for k in resources_of(terraform, resource_type) if k.startswith(construct_prefix)]
    return f"{resource_type}.{logical_id}"


def role_policies(terraform: dict[str, Any], role_name: str) -> dict[str, dict[str, Any]]:
    role = next(k for k, v in resources_of(terraform, "aws_iam_role").items() if v["name"] == role_name)
    return {
        body["name"]: policy_statements(body["policy"])
        for body in resources_of(terraform, "aws_iam_role_policy").values()
        if body["role"] == f"${{aws_iam_role.{role}.id}}"
    }


def test_processor_runs_python_312_traced_with_reserved_concurrency_and_a_dlq(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform, config = stack(synthesized), synthesized("dev").config
    function = only(terraform, "aws_lambda_function")
    assert function["runtime"] == "python3.12"
    assert function["handler"] == "data_processor.handler.handler"
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["reserved_concurrent_executions"] == config.processor_reserved_concurrency
    assert function["timeout"] == config.processor_timeout_seconds
    assert function["kms_key_arn"].startswith("${aws_kms_key.pipeline-key_")
    assert function["environment"]["variables"] == {"PROCESSED_BUCKET": "mlp-dev-processed-data"}
    queue = ref(terraform, "aws_sqs_queue", "processor_dead-letters")
    assert function["dead_letter_config"] == {"target_arn": f"${{{queue}.arn}}"}
    assert only(terraform, "aws_sqs_queue")["kms_master_key_id"].startswith("${aws_kms_key.pipeline-key_")
    assert ref(terraform, "aws_cloudwatch_log_group", "processor_logs") in function["depends_on"]


def test_processor_logs_to_its_own_encrypted_log_group(synthesized: Callable[[str], Synthesized]) -> None:
    groups = {g["name"]: g for g in resources_of(stack(synthesized), "aws_cloudwatch_log_group").values()}
    group = groups["/aws/lambda/mlp-dev-data-processor"]
    assert group["retention_in_days"] == synthesized("dev").config.log_retention_days
    assert group["kms_key_id"].startswith("${aws_kms_key.pipeline-key_")


def test_s3_may_invoke_the_processor_only_for_the_raw_bucket_of_this_account(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    permission = only(terraform, "aws_lambda_permission")
    assert permission["principal"] == "s3.amazonaws.com"
    assert permission["source_arn"] == f"${{{ref(terraform, 'aws_s3_bucket', 'raw-data_bucket')}.arn}}"
    assert permission["source_account"] == "${data.aws_caller_identity.account.account_id}"


def test_raw_bucket_notifies_the_processor_after_the_permission_exists(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    notifications = resources_of(terraform, "aws_s3_bucket_notification")
    assert len(notifications) == 3  # one per bucket: S3 keeps a single configuration
    raw = notifications[ref(terraform, "aws_s3_bucket_notification", "raw-data_").split(".")[1]]
    assert raw["eventbridge"] is True
    assert raw["lambda_function"] == [
        {
            "events": ["s3:ObjectCreated:*"],
            "filter_prefix": "incoming/",
            "lambda_function_arn": f"${{{ref(terraform, 'aws_lambda_function', 'processor_')}.arn}}",
        }
    ]
    assert ref(terraform, "aws_lambda_permission", "processor_") in raw["depends_on"]


def test_processor_role_reads_incoming_and_writes_processed_and_quarantine_only(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    policies = role_policies(terraform, "mlp-dev-data-processor")
    assert set(policies) == {"logs", "tracing", "dead-letters", "read-incoming", "write-processed", "write-quarantine"}
    raw = ref(terraform, "aws_s3_bucket", "raw-data_bucket")
    processed = ref(terraform, "aws_s3_bucket", "processed-data_bucket")
    assert policies["read-incoming"]["ReadObjects"]["Resource"] == [f"${{{raw}.arn}}/incoming/*"]
    assert policies["write-processed"]["WriteObjects"]["Resource"] == [f"${{{processed}.arn}}/processed/*"]
    assert policies["write-quarantine"]["WriteObjects"]["Resource"] == [f"${{{processed}.arn}}/quarantine/*"]
    assert policies["read-incoming"]["DecryptWithKey"]["Resource"] == [
        f"${{{ref(terraform, 'aws_kms_key', 'raw-data_key')}.arn}}"
    ]
    assert policies["logs"]["WriteOwnLogs"]["Resource"] == [
        f"${{{ref(terraform, 'aws_cloudwatch_log_group', 'processor_logs')}.arn}}:*"
    ]


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
    machine = only(terraform, "aws_sfn_state_machine")
    return machine, json.loads(machine["definition"])["States"]["ProcessEachObject"]


@pytest.mark.parametrize("env", ENVS)
def test_backfill_is_a_distributed_map_over_the_raw_prefix(synthesized: Callable[[str], Synthesized], env: str) -> None:
    config, terraform = synthesized(env).config, stack(synthesized, env)
    machine, fan_out = backfill(terraform)
    assert fan_out["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    raw_bucket = f"${{{ref(terraform, 'aws_s3_bucket', 'raw-data_bucket')}.bucket}}"
    assert fan_out["ItemReader"] == {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": raw_bucket, "Prefix.$": "$.prefix"},
    }
    assert fan_out["MaxConcurrency"] == config.backfill_max_concurrency
    assert fan_out["ToleratedFailurePercentage"] == config.backfill_tolerated_failure_percentage
    assert machine["logging_configuration"]["level"] == "ALL"
    assert machine["logging_configuration"]["include_execution_data"] is True
    assert machine["tracing_configuration"] == {"enabled": True}


def test_backfill_role_invokes_only_the_processor_and_lists_only_incoming(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    policies = role_policies(terraform, "mlp-dev-data-backfill")
    function = ref(terraform, "aws_lambda_function", "processor_")
    assert policies["invoke-function"]["InvokeFunction"]["Resource"] == [
        f"${{{function}.arn}}",
        f"${{{function}.arn}}:*",
    ]
    listing = policies["list-objects"]["ListObjects"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["incoming/*"]}}
    start = policies["child-executions"]["StartChildExecutions"]["Resource"][0]
    assert start.endswith(":stateMachine:mlp-dev-data-backfill")


def test_key_policy_lets_cloudwatch_logs_use_the_key_only_for_these_log_groups(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    key = resources_of(terraform, "aws_kms_key")[ref(terraform, "aws_kms_key", "pipeline-key").split(".")[1]]
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
