"""The training stack: the pipeline's scoped role, the code upload, the schedule (both trigger forms)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import platform_config
from platform_config import ConfigError
from platform_config.datasets import load_datasets
from platform_config.schedule_expression import schedule_expression_problem
from stacks.training import check_training_dataset, training_code
from tests.conftest import Synthesized, at_path, inline_policies, load_config, only, resources_of, synth_app
from tests.unit.test_config import load_error, write_config


def stack(synthesized: Callable[[str], Synthesized], env: str = "dev") -> dict[str, Any]:
    return synthesized(env).stack("training")


def pipeline_policies(terraform: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    return inline_policies(terraform, "pipeline/role/role")


def actions(statement: dict[str, Any]) -> set[str]:
    value = statement["Action"]
    return {value} if isinstance(value, str) else set(value)


def resources(statement: dict[str, Any]) -> list[str]:
    value = statement["Resource"]
    return [value] if isinstance(value, str) else list(value)


def test_pipeline_role_trusts_only_sagemaker_in_this_account(synthesized: Callable[[str], Synthesized]) -> None:
    role = at_path(stack(synthesized), "pipeline/role/role").body
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": ["sagemaker.amazonaws.com"]}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "${data.aws_caller_identity.account.account_id}"}
    }


def test_pipeline_role_writes_only_models_of_the_candidate_bucket(synthesized: Callable[[str], Synthesized]) -> None:
    policies = pipeline_policies(stack(synthesized))
    writes = [
        resource
        for statements in policies.values()
        for statement in statements.values()
        if "s3:PutObject" in actions(statement)
        for resource in resources(statement)
    ]
    candidate = [resource for resource in writes if "candidate" in resource]
    assert candidate and all(resource.endswith("/models/*") for resource in candidate)
    # everything else it writes is the training bucket's runs/ (never code/, never processed data)
    assert all(resource in candidate or resource.endswith("/runs/*") for resource in writes), writes
    # it reads the configured dataset only, and may only list (not read) the candidates, to refuse a version twice
    reads = policies["read-processed-data"]["ReadObjects"]
    assert resources(reads) == [f"{resources(reads)[0].split('/processed/')[0]}/processed/churn/*"]
    listing = policies["list-candidate-models"]["ListObjects"]
    assert actions(listing) == {"s3:ListBucket", "s3:ListBucketVersions"}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["models/*"]}}


def test_pipeline_role_passes_itself_only_to_sagemaker(synthesized: Callable[[str], Synthesized]) -> None:
    terraform = stack(synthesized)
    statement = pipeline_policies(terraform)["run-pipeline-jobs"]["PassRoleToSageMakerJobs"]
    assert actions(statement) == {"iam:PassRole"}
    assert resources(statement) == [at_path(terraform, "pipeline/role/role").ref("arn")]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    jobs = pipeline_policies(terraform)["run-pipeline-jobs"]["RunPipelineJobs"]
    assert all(
        resource.endswith(("processing-job/pipelines-*", "training-job/pipelines-*")) for resource in resources(jobs)
    )


def test_pipeline_role_writes_only_the_sagemaker_job_logs(synthesized: Callable[[str], Synthesized]) -> None:
    statement = pipeline_policies(stack(synthesized))["job-logs"]["WriteJobLogs"]
    groups = {resource.split(":log-group:")[1].removesuffix(":*") for resource in resources(statement)}
    assert groups == {"/aws/sagemaker/ProcessingJobs", "/aws/sagemaker/TrainingJobs"}


def test_training_code_is_uploaded_kms_encrypted_under_a_content_addressed_prefix(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    objects = resources_of(terraform, "aws_s3_object")
    keys = {body["key"] for body in objects.values()}
    prefix = next(iter(keys)).rsplit("/", 1)[0] + "/"
    assert prefix.startswith("code/training/")
    assert keys == {f"{prefix}{name}" for name in [*training_code(), "sourcedir.tar.gz"]}
    assert {"prepare.py", "train.py", "evaluate.py", "publish.py"} <= set(training_code())
    for body in objects.values():
        assert body["server_side_encryption"] == "aws:kms"
        assert body["kms_key_id"] == at_path(terraform, "training/key/key").ref("arn")
        assert body["source_hash"]  # KMS objects have no MD5 ETag: the hash makes a change re-upload
    definition = json.loads(only(terraform, "aws_sagemaker_pipeline")["pipeline_definition"])
    code_input = definition["Steps"][0]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    assert code_input == f"s3://mlp-dev-training/{prefix}"


def test_run_data_expires_but_code_does_not(synthesized: Callable[[str], Synthesized]) -> None:
    rules = at_path(stack(synthesized), "training/lifecycle").body["rule"]
    [expiring] = [rule for rule in rules if rule["id"] == "expire-objects"]
    assert expiring["filter"] == [{"prefix": "runs/"}]
    assert expiring["expiration"] == [{"days": synthesized("dev").config.training.run_retention_days}]


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_schedule_starts_the_pipeline_with_its_parameters_retries_and_dead_letters(
    synthesized: Callable[[str], Synthesized], env: str
) -> None:
    terraform, settings = stack(synthesized, env), synthesized(env).config.training
    schedule = only(terraform, "aws_scheduler_schedule")
    assert schedule["schedule_expression"] == settings.schedule_expression
    assert schedule["schedule_expression_timezone"] == settings.schedule_timezone
    assert schedule["state"] == ("ENABLED" if settings.schedule_enabled else "DISABLED")
    assert schedule["flexible_time_window"] == {"mode": "FLEXIBLE", "maximum_window_in_minutes": 60}
    assert schedule["kms_key_arn"] == at_path(terraform, "schedule-key/key").ref("arn")
    target = schedule["target"]
    assert target["arn"] == at_path(terraform, "pipeline/pipeline").ref("arn")
    assert target["role_arn"] == at_path(terraform, "schedule/role/role").ref("arn")
    parameters = {p["name"]: p["value"] for p in target["sagemaker_pipeline_parameters"]["pipeline_parameter"]}
    assert parameters == {
        "ModelName": settings.model_name,
        "InputDataUri": f"s3://{synthesized(env).config.resource_name('processed-data')}/processed/churn/",
    }
    assert target["retry_policy"] == {
        "maximum_event_age_in_seconds": settings.max_event_age_minutes * 60,
        "maximum_retry_attempts": settings.retry_attempts,
    }
    assert target["dead_letter_config"] == {"arn": at_path(terraform, "schedule/dead-letters").ref("arn")}
    assert at_path(terraform, "schedule/dead-letters").body["kms_master_key_id"] == at_path(
        terraform, "schedule-key/key"
    ).ref("arn")


def test_dev_deploys_its_schedule_disabled(synthesized: Callable[[str], Synthesized]) -> None:
    assert only(stack(synthesized, "dev"), "aws_scheduler_schedule")["state"] == "DISABLED"
    assert only(stack(synthesized, "prod"), "aws_scheduler_schedule")["state"] == "ENABLED"


def test_schedule_role_may_only_start_this_pipeline_and_send_its_dead_letters(
    synthesized: Callable[[str], Synthesized],
) -> None:
    terraform = stack(synthesized)
    role = at_path(terraform, "schedule/role/role").body
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": ["scheduler.amazonaws.com"]}
    policies = inline_policies(terraform, "schedule/role/role")
    assert policies["start-pipeline"] == {
        "StartPipelineExecution": {
            "Sid": "StartPipelineExecution",
            "Effect": "Allow",
            "Action": ["sagemaker:StartPipelineExecution"],
            "Resource": [at_path(terraform, "pipeline/pipeline").ref("arn")],
        }
    }
    assert resources(policies["dead-letters"]["SendDeadLetters"]) == [
        at_path(terraform, "schedule/dead-letters").ref("arn")
    ]


def rule_trigger_app(tmp_path: Path) -> dict[str, Any]:
    config = load_config("dev", LOCAL_STATE_DIR=str(tmp_path / "state"))
    training = dataclasses.replace(
        config.training, trigger="eventbridge-rule", flexible_window_minutes=0, schedule_enabled=True
    )
    return synth_app(dataclasses.replace(config, training=training), tmp_path).stack("training")


def test_the_seeds_eventbridge_rule_trigger_targets_the_pipeline_with_the_same_parameters(tmp_path: Path) -> None:
    terraform = rule_trigger_app(tmp_path)
    assert not resources_of(terraform, "aws_scheduler_schedule")
    rule = only(terraform, "aws_cloudwatch_event_rule")
    assert rule["schedule_expression"] == "cron(0 3 ? * MON *)"
    assert rule["state"] == "ENABLED"
    target = only(terraform, "aws_cloudwatch_event_target")
    assert target["arn"] == at_path(terraform, "pipeline/pipeline").ref("arn")
    parameters = {p["name"] for p in target["sagemaker_pipeline_target"]["pipeline_parameter_list"]}
    assert parameters == {"ModelName", "InputDataUri"}
    assert target["dead_letter_config"] == {"arn": at_path(terraform, "schedule/dead-letters").ref("arn")}
    role = at_path(terraform, "schedule/role/role").body
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": ["events.amazonaws.com"]}
    # EventBridge sends a rule's dead letters itself: the queue admits this rule only
    [statement] = json.loads(only(terraform, "aws_sqs_queue_policy")["policy"])["Statement"]
    assert statement["Principal"] == {"Service": ["events.amazonaws.com"]}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": at_path(terraform, "schedule/rule").ref("arn")}}


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("cron(0 3 * * MON *)", "exactly one of them must be '?'"),
        ("cron(0 3 ? * MON)", "needs 6 fields"),
        ("cron(0 24 ? * MON *)", "hours field: 24 is out of range 0-23"),
        ("cron(61 3 ? * MON *)", "minutes field: 61 is out of range 0-59"),
        ("cron(0 3 ? 13 MON *)", "month field: 13 is out of range 1-12"),
        ("cron(0 3 ? * FUNDAY *)", "day-of-week field: 'FUNDAY'"),
        ("cron(0 3 ? * 2#6 *)", "'#' must be 1-5"),
        ("rate(2 hour)", "must be 'hours'"),
        ("rate(1 weeks)", "minute(s), hour(s) or day(s)"),
        ("daily", "must be cron("),
    ],
)
def test_bad_schedule_expressions_name_the_wrong_field(tmp_path: Path, expression: str, problem: str) -> None:
    assert problem in (schedule_expression_problem(expression) or "")
    error = load_error(write_config(tmp_path, **{"local.training.schedule_expression": expression}))
    assert error.key == "training.schedule_expression"
    assert problem in str(error) and expression in str(error)


@pytest.mark.parametrize(
    "expression", ["cron(0 3 ? * MON *)", "cron(0/15 8-18 ? * MON-FRI *)", "cron(0 0 L * ? *)", "rate(1 day)"]
)
def test_valid_schedule_expressions_pass(expression: str) -> None:
    assert schedule_expression_problem(expression) is None


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"local.training.trigger": "eventbridge-rule"}, "training.flexible_window_minutes"),
        (
            {"local.training.trigger": "eventbridge-rule", "local.training.flexible_window_minutes": 0,
             "local.training.schedule_timezone": "Europe/Dublin"},
            "training.schedule_timezone",
        ),
        ({"local.training.trigger": "cron-job"}, "training.trigger"),
        ({"local.training.schedule_timezone": "Mars/Olympus"}, "training.schedule_timezone"),
        ({"local.training.model_name": "Churn_Model"}, "training.model_name"),
        ({"local.training.quality_threshold": 1.5}, "training.quality_threshold"),
        ({"local.training.quality_metric": "f2"}, "training.quality_metric"),
        ({"local.training.training_instance_type": "m5.large"}, "training.training_instance_type"),
        # local NVMe storage: SageMaker refuses the KMS key the pipeline sets for job volumes
        ({"local.training.processing_instance_type": "ml.m5d.large"}, "training.processing_instance_type"),
        ({"local.training.training_instance_type": "ml.g4dn.xlarge"}, "training.training_instance_type"),
        ({"local.training.model_version_base": "1"}, "training.model_version_base"),
    ],
)  # fmt: skip
def test_bad_training_settings_are_named(tmp_path: Path, change: dict[str, Any], key: str) -> None:
    assert load_error(write_config(tmp_path, **change)).key == key


def test_a_dataset_whose_columns_the_feature_spec_does_not_know_fails_synth(tmp_path: Path) -> None:
    config, datasets = platform_config.load("local", environ={}), load_datasets()
    churn = datasets["churn"]
    extra = dataclasses.replace(churn.columns[0], name="favourite_colour")
    datasets = {**datasets, "churn": dataclasses.replace(churn, columns=(*churn.columns, extra))}
    with pytest.raises(ConfigError) as caught:
        check_training_dataset(config, datasets)
    assert caught.value.key == "training.dataset"
    assert "favourite_colour have no role in training/feature_spec.py" in str(caught.value)


def test_training_dataset_and_label_must_exist_in_the_dataset_schemas() -> None:
    config, datasets = platform_config.load("local", environ={}), load_datasets()
    for field, value, key in (
        ("dataset", "clicks", "training.dataset"),
        ("label", "churn", "training.label"),
        ("label", "contract", "training.label"),  # an enum column, not a bool
    ):
        changed = dataclasses.replace(config, training=dataclasses.replace(config.training, **{field: value}))
        with pytest.raises(ConfigError) as caught:
            check_training_dataset(changed, datasets)
        assert caught.value.key == key and value in str(caught.value)
