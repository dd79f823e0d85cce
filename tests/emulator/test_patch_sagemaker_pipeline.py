"""SageMaker pipelines really run: Processing, Training, property files, conditions, Fail, Stop, steps list."""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_zip_support import process_alive
from moto.sagemaker.models import sagemaker_backends
from sagemaker_pipeline_support import ROLE_ARN, all_steps, code_files, definition, step, wait_until_done

from emulator.sagemaker_pipelines.conditions import ConditionError, evaluate
from emulator.sagemaker_pipelines.expressions import parse_path, walk
from emulator.sagemaker_pipelines.jobs import job_name
from emulator.sagemaker_pipelines.s3 import relative_key

Aws = Callable[[str], Any]
Name = Callable[[str], str]
DATA = "x,churned\n1,true\n2,false\n3,true\n"


@dataclass
class Setup:
    """Buckets, keys, code and a pipeline of the contract's shape."""

    work: str
    candidate: str
    work_key: str
    candidate_key: str
    pipeline: str
    document: dict[str, Any]


def _deny_other_keys(bucket: str, key_arn: str) -> str:
    """The platform's rule: PutObject only with SSE-KMS under the bucket's own key."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyOtherKeys",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                    "Condition": {
                        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}
                    },
                }
            ],
        }
    )


def make_setup(aws: Aws, name: Name, edit: Callable[[dict[str, Any]], None] | None = None) -> Setup:
    s3, kms = aws("s3"), aws("kms")
    work, candidate = name("training"), name("candidate")
    keys = [kms.create_key()["KeyMetadata"]["Arn"] for _ in range(2)]
    for bucket, key in ((work, keys[0]), (candidate, keys[1])):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=_deny_other_keys(bucket, key))
    upload = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": keys[0]}
    s3.put_object(Bucket=work, Key="data/part-1.csv", Body=DATA.encode(), **upload)
    for file_name, body in code_files().items():
        s3.put_object(Bucket=work, Key=f"code/{file_name}", Body=body, **upload)
    document = definition(work, candidate, f"s3://{work}/code/", keys[0], keys[1])
    if edit is not None:
        edit(document)
    pipeline = name("pipeline")
    aws("sagemaker").create_pipeline(PipelineName=pipeline, PipelineDefinition=json.dumps(document), RoleArn=ROLE_ARN)
    return Setup(work, candidate, keys[0], keys[1], pipeline, document)


def start(aws: Aws, setup: Setup, **parameters: str) -> str:
    values = [{"Name": key, "Value": value} for key, value in parameters.items()]
    response = aws("sagemaker").start_pipeline_execution(PipelineName=setup.pipeline, PipelineParameters=values)
    return str(response["PipelineExecutionArn"])


def keys_under(aws: Aws, bucket: str, prefix: str) -> list[str]:
    return sorted(item["Key"] for item in aws("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


@pytest.fixture(scope="module")
def passed(aws: Aws, name: Name) -> dict[str, Any]:
    """One execution that passes the quality gate, shared by the tests that inspect it."""
    setup = make_setup(aws, name)
    arn = start(aws, setup, ModelName="churn-a")
    first = aws("sagemaker").describe_pipeline_execution(PipelineExecutionArn=arn)
    return {"aws": aws, "setup": setup, "arn": arn, "first": first, "described": wait_until_done(aws("sagemaker"), arn)}


def test_start_returns_at_once_and_the_execution_succeeds(passed: dict[str, Any]) -> None:
    assert passed["first"]["PipelineExecutionStatus"] == "Executing"
    assert passed["described"]["PipelineExecutionStatus"] == "Succeeded"
    assert "FailureReason" not in passed["described"]
    summaries = passed["aws"]("sagemaker").list_pipeline_executions(PipelineName=passed["setup"].pipeline)
    assert [s["PipelineExecutionStatus"] for s in summaries["PipelineExecutionSummaries"]] == ["Succeeded"]


def test_steps_are_listed_newest_first_with_their_metadata(passed: dict[str, Any]) -> None:
    sagemaker, arn = passed["aws"]("sagemaker"), passed["arn"]
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert [s["StepName"] for s in steps] == ["Publish", "QualityGate", "Evaluate", "Train", "Prepare"]
    assert all(s["StepStatus"] == "Succeeded" and s["AttemptCount"] == 1 for s in steps)
    assert all(s["StartTime"] <= s["EndTime"] for s in steps)
    assert step(steps, "Train")["StepDisplayName"] == "Train the model"
    assert "StepDisplayName" not in step(steps, "Prepare")
    assert step(steps, "QualityGate")["Metadata"] == {"Condition": {"Outcome": "True"}}
    execution_id = arn.rsplit("/", 1)[-1]
    for name, kind in (("Prepare", "ProcessingJob"), ("Train", "TrainingJob"), ("Publish", "ProcessingJob")):
        job_arn = step(steps, name)["Metadata"][kind]["Arn"]
        resource = "processing-job" if kind == "ProcessingJob" else "training-job"
        assert job_arn.startswith(
            f"arn:aws:sagemaker:us-east-1:123456789012:{resource}/pipelines-{execution_id}-{name}-"
        )
    ascending = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")
    assert [s["StepName"] for s in ascending["PipelineExecutionSteps"]] == [s["StepName"] for s in reversed(steps)]


def test_steps_paginate(passed: dict[str, Any]) -> None:
    sagemaker, arn = passed["aws"]("sagemaker"), passed["arn"]
    first = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn, MaxResults=2)
    assert len(first["PipelineExecutionSteps"]) == 2 and "NextToken" in first
    paged = all_steps(sagemaker, arn, MaxResults=2)
    assert [s["StepName"] for s in paged] == ["Publish", "QualityGate", "Evaluate", "Train", "Prepare"]
    with pytest.raises(ClientError, match="ValidationException"):
        sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn, NextToken="99")


def test_outputs_land_in_s3_under_the_jobs_kms_keys(passed: dict[str, Any]) -> None:
    aws, setup, arn = passed["aws"], passed["setup"], passed["arn"]
    execution_id = arn.rsplit("/", 1)[-1]
    s3 = aws("s3")
    assert keys_under(aws, setup.work, f"runs/{execution_id}/prepare/") == [
        f"runs/{execution_id}/prepare/test/test.csv",
        f"runs/{execution_id}/prepare/train/env.json",
        f"runs/{execution_id}/prepare/train/train.csv",
    ]
    train_job = step(all_steps(aws("sagemaker"), arn), "Train")["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    model_key = f"runs/{execution_id}/train/{train_job}/output/model.tar.gz"
    head = s3.head_object(Bucket=setup.work, Key=model_key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", setup.work_key)
    manifest_key = "models/churn-a/1.0.0/manifest.json"
    assert keys_under(aws, setup.candidate, "models/") == [manifest_key, "models/churn-a/1.0.0/model.tar.gz"]
    assert s3.head_object(Bucket=setup.candidate, Key=manifest_key)["SSEKMSKeyId"] == setup.candidate_key
    assert json.loads(s3.get_object(Bucket=setup.candidate, Key=manifest_key)["Body"].read()) == {
        "model": "churn-a",
        "execution": arn,
    }


def test_training_runs_in_framework_mode(passed: dict[str, Any]) -> None:
    aws, setup, arn = passed["aws"], passed["setup"], passed["arn"]
    execution_id = arn.rsplit("/", 1)[-1]
    (model_key,) = keys_under(aws, setup.work, f"runs/{execution_id}/train/")
    archive = aws("s3").get_object(Bucket=setup.work, Key=model_key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert tar.getnames() == ["model.json"]
        model = json.load(tar.extractfile("model.json"))  # type: ignore[arg-type]
    assert model["args"] == {
        "label": "churned",
        "regularization": "1.0",
        "max_iter": "1000",
        "score": "0.9",
        "training_data_uri": f"s3://{setup.work}/data/",  # a raw (non-JSON) value passes as it is
    }
    assert model["rows"] == 2 and model["helper"] == "helper"
    assert model["cwd"].endswith("/opt/ml/code")
    env = model["env"]
    assert env["SM_CHANNEL_TRAIN"].endswith("/opt/ml/input/data/train")
    assert env["SM_MODEL_DIR"].endswith("/opt/ml/model")
    assert (env["SM_CURRENT_HOST"], env["SM_HOSTS"], env["SM_CHANNELS"]) == ("algo-1", '["algo-1"]', '["train"]')
    assert env["SM_USER_ENTRY_POINT"] == "train.py"
    assert json.loads(env["SM_HPS"])["max-iter"] == 1000
    # the job's role, as the emulator stands it in: its endpoint and dummy keys, no session of the caller
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("test", "test")
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:") and "AWS_SESSION_TOKEN" not in env


def test_processing_environment_is_built_from_scratch(passed: dict[str, Any], emulator_server: Any) -> None:
    aws, setup, arn = passed["aws"], passed["setup"], passed["arn"]
    key = f"runs/{arn.rsplit('/', 1)[-1]}/prepare/train/env.json"
    env = json.loads(aws("s3").get_object(Bucket=setup.work, Key=key)["Body"].read())
    assert env["JOB_GREETING"] == "hello"
    # nothing of the emulator's own environment; the job's own endpoint setting is replaced by the emulator's
    assert "MOTO_PORT" not in env
    assert env["AWS_ENDPOINT_URL"] == emulator_server.url
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_REGION"]) == ("test", "us-east-1")


def test_quality_gate_failure_fails_the_execution_with_the_metric(aws: Aws, name: Name) -> None:
    setup = make_setup(aws, name)
    arn = start(aws, setup, Score="0.5")  # overrides the default 0.9

    described = wait_until_done(aws("sagemaker"), arn)

    message = "Model quality gate failed: auc 0.5 is below the threshold 0.7"
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == message
    steps = all_steps(aws("sagemaker"), arn)
    assert [s["StepName"] for s in steps] == ["QualityGateFailed", "QualityGate", "Evaluate", "Train", "Prepare"]
    assert step(steps, "QualityGate")["Metadata"] == {"Condition": {"Outcome": "False"}}
    failed = step(steps, "QualityGateFailed")
    assert (failed["StepStatus"], failed["Metadata"]) == ("Failed", {"Fail": {"ErrorMessage": message}})
    assert keys_under(aws, setup.candidate, "") == []


def _prepare_runs(script: str, seconds: int = 60) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        arguments = document["Steps"][0]["Arguments"]
        arguments["AppSpecification"]["ContainerEntrypoint"][1] = f"/opt/ml/processing/input/code/{script}"
        arguments["StoppingCondition"]["MaxRuntimeInSeconds"] = seconds

    return edit


def test_failing_script_fails_its_step_with_exit_code_and_stderr(aws: Aws, name: Name) -> None:
    setup = make_setup(aws, name, _prepare_runs("fail.py"))
    arn = start(aws, setup)

    described = wait_until_done(aws("sagemaker"), arn)

    (prepare,) = all_steps(aws("sagemaker"), arn)  # later steps never start
    assert prepare["StepStatus"] == "Failed"
    assert prepare["FailureReason"].startswith("AlgorithmError: ExitCode 3")
    assert "ValueError: no rows in the input" in prepare["FailureReason"]
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == f"Step failure: Prepare failed: {prepare['FailureReason']}"
    assert keys_under(aws, setup.work, "runs/") == []  # a failed job uploads nothing


def test_max_runtime_kills_the_job(aws: Aws, name: Name) -> None:
    setup = make_setup(aws, name, _prepare_runs("sleep.py", seconds=1))
    arn = start(aws, setup)

    described = wait_until_done(aws("sagemaker"), arn, timeout=15)

    assert described["PipelineExecutionStatus"] == "Failed"
    assert "MaxRuntimeInSeconds (1)" in all_steps(aws("sagemaker"), arn)[0]["FailureReason"]


def test_stop_pipeline_execution_kills_the_running_job(aws: Aws, name: Name) -> None:
    setup = make_setup(aws, name, _prepare_runs("sleep.py"))
    arn = start(aws, setup)
    sagemaker = aws("sagemaker")
    deadline = time.monotonic() + 10
    while not all_steps(sagemaker, arn):
        assert time.monotonic() < deadline
        time.sleep(0.05)

    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
    described = wait_until_done(sagemaker, arn, timeout=10)

    assert described["PipelineExecutionStatus"] == "Stopped"
    assert [s["StepStatus"] for s in all_steps(sagemaker, arn)] == ["Stopped"]
    with pytest.raises(ClientError, match="only an Executing execution can be stopped"):
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)


def test_moto_reset_kills_running_jobs(aws: Aws, name: Name, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"

    def edit(document: dict[str, Any]) -> None:
        _prepare_runs("sleep.py")(document)
        document["Steps"][0]["Arguments"]["Environment"]["PID_FILE"] = str(pid_file)

    setup = make_setup(aws, name, edit)
    start(aws, setup)
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.05)
    pid = int(pid_file.read_text())

    # What /moto-api/reset does to this backend (the whole reset would also wipe other modules' state).
    sagemaker_backends["123456789012"]["us-east-1"].reset()

    while process_alive(pid):
        assert time.monotonic() < deadline + 5, "the job survived the reset"
        time.sleep(0.05)
    assert aws("sagemaker").list_pipelines()["PipelineSummaries"] == []


def test_unresolvable_reference_fails_the_execution_naming_it(aws: Aws, name: Name) -> None:
    def edit(document: dict[str, Any]) -> None:
        channel = document["Steps"][1]["Arguments"]["InputDataConfig"][0]
        channel["DataSource"]["S3DataSource"]["S3Uri"] = {
            "Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['nope'].S3Output.S3Uri"
        }

    setup = make_setup(aws, name, edit)
    arn = start(aws, setup)

    described = wait_until_done(aws("sagemaker"), arn)

    assert described["PipelineExecutionStatus"] == "Failed"
    assert "Outputs['nope']" in described["FailureReason"] and "Train" in described["FailureReason"]
    assert [s["StepName"] for s in all_steps(aws("sagemaker"), arn)] == ["Train", "Prepare"]


def test_upload_under_a_key_the_bucket_denies_fails_the_step(aws: Aws, name: Name) -> None:
    def edit(document: dict[str, Any]) -> None:
        document["Steps"][0]["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"] = (
            "arn:aws:kms:us-east-1:123456789012:key/other"
        )

    setup = make_setup(aws, name, edit)
    arn = start(aws, setup)

    described = wait_until_done(aws("sagemaker"), arn)

    assert described["PipelineExecutionStatus"] == "Failed"
    assert "AccessDenied" in all_steps(aws("sagemaker"), arn)[0]["FailureReason"]


def test_undeclared_parameter_is_refused_at_start(aws: Aws, name: Name) -> None:
    setup = make_setup(aws, name)
    with pytest.raises(ClientError, match="parameter Nope is not declared"):
        start(aws, setup, Nope="1")


# -- pure pieces ----------------------------------------------------------------


def test_property_paths_index_lists_by_name_and_position() -> None:
    properties = {"Outputs": [{"OutputName": "train", "S3Output": {"S3Uri": "s3://b/t"}}], "Xs": [[1, 2]]}
    assert walk(properties, "Outputs['train'].S3Output.S3Uri") == "s3://b/t"
    assert walk(properties, 'Outputs["train"].S3Output') == {"S3Uri": "s3://b/t"}
    assert walk(properties, "Xs[0][1]") == 2
    with pytest.raises(LookupError):
        walk(properties, "Outputs['test']")
    with pytest.raises(ValueError, match="cannot parse"):
        parse_path("Outputs[train]")


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ({"Type": "GreaterThanOrEqualTo", "LeftValue": 0.7, "RightValue": 0.7}, True),
        ({"Type": "GreaterThan", "LeftValue": "0.8", "RightValue": 0.7}, True),  # a String parameter vs a number
        ({"Type": "LessThan", "LeftValue": 1, "RightValue": 2}, True),
        ({"Type": "LessThanOrEqualTo", "LeftValue": 3, "RightValue": 2}, False),
        ({"Type": "Equals", "LeftValue": "a", "RightValue": "a"}, True),
        ({"Type": "NotEquals", "LeftValue": "a", "RightValue": "a"}, False),
        ({"Type": "In", "QueryValue": "b", "Values": ["a", "b"]}, True),
        ({"Type": "Not", "Expression": {"Type": "Equals", "LeftValue": 1, "RightValue": 1}}, False),
        (
            {
                "Type": "Or",
                "Conditions": [
                    {"Type": "Equals", "LeftValue": 1, "RightValue": 2},
                    {"Type": "Equals", "LeftValue": 2, "RightValue": 2},
                ],
            },
            True,
        ),
    ],
)
def test_conditions(condition: dict[str, Any], holds: bool) -> None:
    assert evaluate(condition, lambda value: value) is holds


def test_unknown_condition_type_is_an_error() -> None:
    with pytest.raises(ConditionError, match="'Between'"):
        evaluate({"Type": "Between"}, lambda value: value)


@pytest.mark.parametrize(
    ("prefix", "key", "relative"),
    [
        ("code/", "code/a.py", "a.py"),
        ("runs/1/train", "runs/1/train/train.csv", "train.csv"),
        ("runs/1/model.tar.gz", "runs/1/model.tar.gz", "model.tar.gz"),
        ("data/tra", "data/train/a.csv", "train/a.csv"),
        ("", "a/b.csv", "a/b.csv"),
    ],
)
def test_s3_prefix_keys_land_below_the_local_path(prefix: str, key: str, relative: str) -> None:
    assert relative_key(prefix, key) == relative


def test_job_names_fit_aws_limits() -> None:
    name = job_name("a1b2c3d4e5f6", "A_very_long_step_name_that_goes_on_and_on_and_on_and_on")
    assert len(name) <= 63 and name.startswith("pipelines-a1b2c3d4e5f6-A-very-long")
    assert all(part for part in name.split("-"))


def test_a_job_stopped_after_its_script_exited_cleanly_uploads_nothing(tmp_path: Path) -> None:
    from emulator.child_process import ProcessGroups
    from emulator.sagemaker_pipelines.jobs import JobSettings, JobStopped
    from emulator.sagemaker_pipelines.processing import run_processing_job

    processes = ProcessGroups()
    uploads: list[str] = []

    class RecordingTransfer:
        def download(self, uri: str, directory: Path) -> list[Path]:
            return []

        def upload_tree(self, directory: Path, uri: str, kms_key_id: str | None) -> list[str]:
            uploads.append(uri)
            return []

    def log(job_name: str, line: str) -> None:
        if line == "completed":  # the script exited 0; the stop arrives before the upload
            processes.close()

    job = {
        "AppSpecification": {"ContainerEntrypoint": ["python3", "-c", "print('done')"]},
        "ProcessingOutputConfig": {
            "Outputs": [
                {"OutputName": "out", "S3Output": {"S3Uri": "s3://b/out", "LocalPath": "/opt/ml/processing/out"}}
            ]
        },
    }
    with pytest.raises(JobStopped):
        run_processing_job("job", job, JobSettings(log=log, temp_dir=tmp_path), RecordingTransfer(), processes)
    assert uploads == []


def test_an_image_runs_with_its_local_stand_in_interpreter_when_installed(tmp_path: Path) -> None:
    from emulator.sagemaker_pipelines.jobs import JobSettings

    interpreter = tmp_path / "python"
    interpreter.write_text("")
    settings = JobSettings(
        log=lambda *_: None,
        python="/emulator/python",
        image_pythons={"sagemaker-scikit-learn:1.2-1": str(interpreter), "other:1": str(tmp_path / "absent")},
    )
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    assert settings.python_for(image) == (str(interpreter), None)
    assert settings.python_for("123.dkr.ecr.us-east-1.amazonaws.com/custom:latest") == ("/emulator/python", None)
    python, note = settings.python_for("other:1.0")
    assert python == "/emulator/python" and note is not None and "is not installed" in note
