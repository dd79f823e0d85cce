"""The inference stack: the workflow's definition (Retry, Catch, failure topic), logging and tracing, and roles
scoped to exactly the functions, topic and bucket prefixes each needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from building_blocks.states_language import RETRYABLE_LAMBDA_ERRORS
from tests.conftest import Synthesized, at_path, inline_policies, only, policy_statements

ENVS = ("local", "dev", "prod")


def stack(synthesized: Callable[[str], Synthesized], env: str = "dev") -> dict[str, Any]:
    return synthesized(env).stack("inference")


def ref(terraform: dict[str, Any], path: str, attribute: str = "arn") -> str:
    return at_path(terraform, path).ref(attribute)


def definition(terraform: dict[str, Any]) -> dict[str, Any]:
    return json.loads(at_path(terraform, "workflow/state-machine").body["definition"])


@pytest.mark.parametrize("env", ENVS)
def test_workflow_runs_preprocess_then_predict_then_succeeds(synthesized: Callable[[str], Synthesized], env: str):
    terraform = stack(synthesized, env)
    states = definition(terraform)["States"]
    assert definition(terraform)["StartAt"] == "Preprocess"
    preprocess, predict = states["Preprocess"], states["Predict"]
    assert preprocess["Resource"] == predict["Resource"] == "arn:aws:states:::lambda:invoke"
    assert preprocess["Parameters"]["FunctionName"] == ref(terraform, "preprocess/function")
    assert predict["Parameters"]["FunctionName"] == ref(terraform, "predict/function")
    # The whole input reaches preprocess, so a bad input fails in the function as a named, catchable error.
    assert preprocess["Parameters"]["Payload"] == {"request.$": "$", "execution_id.$": "$$.Execution.Name"}
    assert predict["Parameters"]["Payload.$"] == "$"
    assert preprocess["OutputPath"] == predict["OutputPath"] == "$.Payload"
    assert (preprocess["Next"], predict["Next"]) == ("Predict", "Succeeded")
    assert states["Succeeded"] == {"Type": "Succeed"}
    machine = at_path(terraform, "workflow/state-machine").body
    assert machine["type"] == "STANDARD"


@pytest.mark.parametrize("env", ENVS)
def test_each_step_retries_only_lambda_service_errors_with_backoff_and_jitter(
    synthesized: Callable[[str], Synthesized], env: str
):
    settings, states = synthesized(env).config.inference, definition(stack(synthesized, env))["States"]
    for step in ("Preprocess", "Predict"):
        (retry,) = states[step]["Retry"]
        assert retry == {
            "ErrorEquals": list(RETRYABLE_LAMBDA_ERRORS),
            "IntervalSeconds": 2,
            "MaxAttempts": settings.retry_max_attempts,
            "BackoffRate": 2.0,
            "MaxDelaySeconds": 60,
            "JitterStrategy": "FULL",
        }
        # Handler errors (a bad input, a model that breaks the contract) are never retried.
        assert not {"States.ALL", "States.TaskFailed"} & set(retry["ErrorEquals"])


def test_every_failure_is_published_to_the_topic_then_fails_with_the_steps_error(
    synthesized: Callable[[str], Synthesized],
):
    terraform = stack(synthesized)
    states = definition(terraform)["States"]
    for step in ("Preprocess", "Predict"):
        assert states[step]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$", "Next": "NotifyFailure"}]
    notify = states["NotifyFailure"]
    assert notify["Resource"] == "arn:aws:states:::sns:publish"
    assert notify["Parameters"]["TopicArn"] == ref(terraform, "failures/topic")
    assert notify["Parameters"]["Message"] == {
        "state_machine.$": "$$.StateMachine.Name",
        "execution.$": "$$.Execution.Id",
        "execution_input.$": "$$.Execution.Input",
        "error.$": "$.Error",
        "cause.$": "$.Cause",
    }
    assert (notify["ResultPath"], notify["Next"]) == (None, "Failed")
    # A failed publish still ends in Failed, with the step's error.
    assert notify["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notification_error", "Next": "Failed"}]
    assert states["Failed"] == {"Type": "Fail", "ErrorPath": "$.Error", "CausePath": "$.Cause"}


@pytest.mark.parametrize("env", ENVS)
def test_workflow_logs_everything_to_its_encrypted_log_group_and_traces(
    synthesized: Callable[[str], Synthesized], env: str
):
    terraform = stack(synthesized, env)
    machine = at_path(terraform, "workflow/state-machine").body
    assert machine["logging_configuration"] == {
        "include_execution_data": True,
        "level": "ALL",
        "log_destination": f"{ref(terraform, 'workflow/logs')}:*",
    }
    assert machine["tracing_configuration"] == {"enabled": True}
    log_group = at_path(terraform, "workflow/logs").body
    assert log_group["kms_key_id"] == ref(terraform, "inference-key/key")
    assert log_group["name"].startswith("/aws/vendedlogs/states/")


def test_workflow_role_invokes_exactly_the_two_functions_and_publishes_only_to_its_topic(
    synthesized: Callable[[str], Synthesized],
):
    terraform = stack(synthesized)
    policies = inline_policies(terraform, "workflow/role/role")
    assert set(policies) == {"logs", "tracing", "invoke-functions", "publish-failures"}
    preprocess, predict = ref(terraform, "preprocess/function"), ref(terraform, "predict/function")
    assert policies["invoke-functions"] == {
        "InvokeFunctions": {
            "Sid": "InvokeFunctions",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [preprocess, f"{preprocess}:*", predict, f"{predict}:*"],
        }
    }
    assert policies["publish-failures"] == {
        "PublishToTopic": {
            "Sid": "PublishToTopic",
            "Effect": "Allow",
            "Action": ["sns:Publish"],
            "Resource": [ref(terraform, "failures/topic")],
        },
        # An encrypted topic: SNS encrypts the message with a data key of the topic's key, as the publisher.
        "EncryptMessages": {
            "Sid": "EncryptMessages",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": [ref(terraform, "inference-key/key")],
            # The key also encrypts the functions' environment and logs: usable for this only through SNS.
            "Condition": {"StringEquals": {"kms:ViaService": "sns.${data.aws_region.region.name}.amazonaws.com"}},
        },
    }


def test_failure_topic_is_encrypted_and_refuses_publishing_without_tls(synthesized: Callable[[str], Synthesized]):
    terraform = stack(synthesized)
    topic = only(terraform, "aws_sns_topic")
    assert topic["kms_master_key_id"] == ref(terraform, "inference-key/key")
    statements = policy_statements(only(terraform, "aws_sns_topic_policy")["policy"])
    deny = statements["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Action"], deny["Condition"]) == (
        "Deny",
        ["sns:Publish"],
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    assert statements["AccountOwnsTopic"]["Resource"] == [ref(terraform, "failures/topic")]
    assert not [action for action in statements["AccountOwnsTopic"]["Action"] if "*" in action]


def test_preprocess_reads_only_batches_and_writes_only_preprocessed(synthesized: Callable[[str], Synthesized]):
    terraform = stack(synthesized)
    policies = inline_policies(terraform, "preprocess/role/role")
    assert set(policies) == {"logs", "tracing", "dead-letters", "read-batches", "write-preprocessed"}
    bucket = ref(terraform, "inference-data/bucket")
    assert policies["read-batches"]["ReadObjects"]["Resource"] == [f"{bucket}/batches/*"]
    assert policies["read-batches"]["ListObjects"]["Condition"] == {"StringLike": {"s3:prefix": ["batches/*"]}}
    assert policies["write-preprocessed"]["WriteObjects"]["Resource"] == [f"{bucket}/preprocessed/*"]


def test_predict_reads_preprocessed_and_the_served_models_production_prefix_and_writes_predictions(
    synthesized: Callable[[str], Synthesized],
):
    synth = synthesized("dev")
    terraform = stack(synthesized)
    policies = inline_policies(terraform, "predict/role/role")
    assert set(policies) == {
        "logs",
        "tracing",
        "dead-letters",
        "read-preprocessed",
        "write-predictions",
        "read-production-models",
    }
    bucket = ref(terraform, "inference-data/bucket")
    assert policies["read-preprocessed"]["ReadObjects"]["Resource"] == [f"{bucket}/preprocessed/*"]
    assert policies["write-predictions"]["WriteObjects"]["Resource"] == [f"{bucket}/predictions/*"]
    production = policies["read-production-models"]
    model = synth.config.training.model_name
    # The production bucket and key come from the artifact-store stack (a cross-stack reference).
    (objects,) = production["ReadObjects"]["Resource"]
    assert "production-models_bucket" in objects and objects.endswith(f"/models/{model}/*")
    assert production["ListObjects"]["Condition"] == {"StringLike": {"s3:prefix": [f"models/{model}/*"]}}
    (key,) = production["DecryptWithKey"]["Resource"]
    assert "production-models_key" in key


def test_functions_get_their_bucket_and_the_production_bucket_by_name(synthesized: Callable[[str], Synthesized]):
    config, terraform = synthesized("dev").config, stack(synthesized)
    preprocess = at_path(terraform, "preprocess/function").body
    predict = at_path(terraform, "predict/function").body
    assert preprocess["environment"]["variables"] == {"INFERENCE_BUCKET": config.resource_name("inference-data")}
    assert predict["environment"]["variables"] == {
        "INFERENCE_BUCKET": config.resource_name("inference-data"),
        "PRODUCTION_BUCKET": config.resource_name("production-models"),
    }
    assert (preprocess["handler"], predict["handler"]) == ("preprocess.handler.handler", "predict.handler.handler")
    assert preprocess["memory_size"] == config.inference.preprocess_memory_mb
    assert predict["timeout"] == config.inference.timeout_seconds


@pytest.mark.parametrize("env", ENVS)
def test_no_stack_uses_aws_managed_or_full_access_policies(synthesized: Callable[[str], Synthesized], env: str):
    """The seed gave the state machine AWSStepFunctionsFullAccess (`states:*` on `*`, and no lambda:Invoke)."""
    for name, terraform in synthesized(env).stacks.items():
        text = json.dumps(terraform)
        assert "FullAccess" not in text, name
        assert "arn:aws:iam::aws:policy" not in text, name
        assert not terraform.get("resource", {}).get("aws_iam_role_policy_attachment"), name
        for role in terraform.get("resource", {}).get("aws_iam_role", {}).values():
            assert not role.get("managed_policy_arns"), name


@pytest.mark.parametrize("env", ENVS)
def test_only_preprocessed_batches_expire(synthesized: Callable[[str], Synthesized], env: str):
    """Cleaned batches are intermediate; the input batches and the predictions are kept (versioned)."""
    config, terraform = synthesized(env).config, stack(synthesized, env)
    rules = {rule["id"]: rule for rule in at_path(terraform, "inference-data/lifecycle").body["rule"]}
    assert rules["expire-objects"]["filter"] == [{"prefix": "preprocessed/"}]
    assert rules["expire-objects"]["expiration"] == [{"days": config.inference.preprocessed_retention_days}]


def test_each_function_zip_imports_its_handler_with_nothing_but_the_zip_on_the_path(
    synthesized: Callable[[str], Synthesized], tmp_path: Path
):
    """What Lambda runs: the zip alone (python -I: no repo, no site customisation) must import the handler, so
    every bundled package and repo module (training's scorer, the production pointer) is really in it."""
    synth = synthesized("dev")
    zips = sorted((synth.outdir / "stacks" / "dev-inference").rglob("*.zip"))
    found = {}
    for archive in zips:
        with zipfile.ZipFile(archive) as bundle:
            names = set(bundle.namelist())
            package = "predict" if "predict/handler.py" in names else "preprocess"
            assert "inference_common/served_models.json" in names
            folder = tmp_path / package
            bundle.extractall(folder)
        found[package] = names
        probe = f"import sys; sys.path.insert(0, {str(folder)!r}); import {package}.handler"
        result = subprocess.run(
            [sys.executable, "-I", "-c", probe],
            env={"AWS_DEFAULT_REGION": "eu-west-1", "PATH": os.environ.get("PATH", "")},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
    assert set(found) == {"predict", "preprocess"}
    assert {"model_format.py", "model_archive.py", "promotion/pointer.py", "training/model_naming.py"} <= found[
        "predict"
    ]
    # Preprocess needs neither the model code nor the pointer: least code, least surprise.
    assert not {"model_format.py", "promotion/pointer.py"} & found["preprocess"]
