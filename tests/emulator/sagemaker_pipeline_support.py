"""Toy job scripts and a pipeline definition of the training contract's shape, for the SageMaker tests.

Prepare (Processing) -> Train (framework-mode Training) -> Evaluate (Processing with a property
file) -> QualityGate (Condition on ``metrics.auc`` >= 0.7) -> Publish (Processing) | Failed (Fail).
The scripts are tiny stand-ins (not the project's training code): the "model" records its
hyperparameters, and its auc is the ``Score`` parameter, so a test picks the gate's outcome.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import Any

PREPARE = """
import argparse, json, os, pathlib, sys
parser = argparse.ArgumentParser()
for name in ("--input-dir", "--train-dir", "--test-dir", "--model-name", "--model-version"):
    parser.add_argument(name)
args = parser.parse_args()
rows = []
for path in sorted(pathlib.Path(args.input_dir).rglob("*.csv")):
    rows += path.read_text().splitlines()[1:]
print(f"prepare: {len(rows)} rows for {args.model_name} {args.model_version}")
print("a warning on stderr", file=sys.stderr)
pathlib.Path(args.train_dir, "train.csv").write_text("x,churned\\n" + "\\n".join(rows[:-1]) + "\\n")
pathlib.Path(args.test_dir, "test.csv").write_text("x,churned\\n" + rows[-1] + "\\n")
pathlib.Path(args.train_dir, "env.json").write_text(json.dumps(dict(os.environ)))
"""

TRAIN = """
import argparse, json, os, pathlib, sys
parser = argparse.ArgumentParser()
for name in ("--label", "--regularization", "--max-iter", "--score", "--training-data-uri"):
    parser.add_argument(name)
args = parser.parse_args()
rows = pathlib.Path(os.environ["SM_CHANNEL_TRAIN"], "train.csv").read_text().splitlines()
import helper  # a sibling module of the submitted directory
model = {"args": vars(args), "rows": len(rows) - 1, "helper": helper.NAME, "cwd": os.getcwd(), "argv": sys.argv[1:],
         "env": {k: v for k, v in os.environ.items() if k.startswith(("SM_", "AWS_"))}}
pathlib.Path(os.environ["SM_MODEL_DIR"], "model.json").write_text(json.dumps(model))
print("trained on", model["rows"], "rows")
"""

EVALUATE = """
import argparse, json, pathlib, tarfile
parser = argparse.ArgumentParser()
for name in ("--model-dir", "--test-dir", "--output-dir"):
    parser.add_argument(name)
args = parser.parse_args()
with tarfile.open(pathlib.Path(args.model_dir, "model.tar.gz")) as tar:
    model = json.load(tar.extractfile("model.json"))
test_rows = pathlib.Path(args.test_dir, "test.csv").read_text().splitlines()[1:]
metrics = {"metrics": {"auc": float(model["args"]["score"]), "rows": len(test_rows)}}
pathlib.Path(args.output_dir, "metrics.json").write_text(json.dumps(metrics))
"""

PUBLISH = """
import argparse, json, pathlib, shutil
parser = argparse.ArgumentParser()
for name in ("--model-dir", "--evaluation-dir", "--candidate-dir", "--model-name", "--pipeline-execution-arn"):
    parser.add_argument(name)
args = parser.parse_args()
target = pathlib.Path(args.candidate_dir, "1.0.0")
target.mkdir(parents=True)
shutil.copy(pathlib.Path(args.model_dir, "model.tar.gz"), target / "model.tar.gz")
manifest = {"model": args.model_name, "execution": args.pipeline_execution_arn}
(target / "manifest.json").write_text(json.dumps(manifest))
"""

FAIL = """
import sys
print("starting", flush=True)
print("Traceback (most recent call last):", file=sys.stderr)
print("ValueError: no rows in the input", file=sys.stderr)
sys.exit(3)
"""

SLEEP = """
import os, pathlib, time
if os.environ.get("PID_FILE"):
    pathlib.Path(os.environ["PID_FILE"]).write_text(str(os.getpid()))
print("sleeping", flush=True)
time.sleep(60)
"""

SCRIPTS = {
    "prepare.py": PREPARE,
    "train.py": TRAIN,
    "helper.py": "NAME = 'helper'\n",
    "evaluate.py": EVALUATE,
    "publish.py": PUBLISH,
    "fail.py": FAIL,
    "sleep.py": SLEEP,
}
ROLE_ARN = "arn:aws:iam::123456789012:role/sagemaker-pipeline"
CODE = "/opt/ml/processing/input/code"


def sourcedir() -> bytes:
    """The scripts as ``sourcedir.tar.gz``, as the SageMaker SDK packs a framework job's code."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in SCRIPTS.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def code_files() -> dict[str, bytes]:
    """The scripts, flat, plus ``sourcedir.tar.gz``: what the platform uploads under its code prefix."""
    return {**{name: text.encode() for name, text in SCRIPTS.items()}, "sourcedir.tar.gz": sourcedir()}


def _input(name: str, uri: Any, local_path: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def _output(name: str, uri: Any, local_path: str) -> dict[str, Any]:
    return {
        "OutputName": name,
        "AppManaged": False,
        "S3Output": {"S3Uri": uri, "LocalPath": local_path, "S3UploadMode": "EndOfJob"},
    }


def _run_uri(work: str, *parts: str) -> dict[str, Any]:
    values: list[Any] = [f"s3://{work}/runs", {"Get": "Execution.PipelineExecutionId"}, *parts]
    return {"Std:Join": {"On": "/", "Values": values}}


def _processing(
    name: str, script: str, arguments: list[Any], inputs: list[Any], outputs: list[Any], kms: str
) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}
            },
            "AppSpecification": {
                "ImageUri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
                "ContainerEntrypoint": ["python3", f"{CODE}/{script}"],
                "ContainerArguments": arguments,
            },
            "RoleArn": ROLE_ARN,
            "ProcessingInputs": inputs,
            "ProcessingOutputConfig": {"Outputs": outputs, "KmsKeyId": kms},
            "StoppingCondition": {"MaxRuntimeInSeconds": 60},
            "Environment": {"JOB_GREETING": "hello", "AWS_ENDPOINT_URL": "http://example.invalid"},
        },
    }


def definition(work: str, candidate: str, code: str, work_key: str, candidate_key: str) -> dict[str, Any]:
    """Prepare -> Train -> Evaluate -> QualityGate -> Publish | QualityGateFailed, as the contract lays out."""
    prepare_output = "Steps.Prepare.ProcessingOutputConfig.Outputs['{}'].S3Output.S3Uri"
    auc = {
        "Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}, "Path": "metrics.auc"}
    }
    model = {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    prepare = _processing(
        "Prepare",
        "prepare.py",
        [
            "--input-dir",
            "/opt/ml/processing/input/data",
            "--train-dir",
            "/opt/ml/processing/train",
            "--test-dir",
            "/opt/ml/processing/test",
            "--model-name",
            {"Get": "Parameters.ModelName"},
            "--model-version",
            {"Get": "Parameters.ModelVersion"},
        ],
        [
            _input("code", code, CODE),
            _input("data", {"Get": "Parameters.InputDataUri"}, "/opt/ml/processing/input/data"),
        ],
        [
            _output("train", _run_uri(work, "prepare", "train"), "/opt/ml/processing/train"),
            _output("test", _run_uri(work, "prepare", "test"), "/opt/ml/processing/test"),
        ],
        work_key,
    )
    train = {
        "Name": "Train",
        "Type": "Training",
        "DisplayName": "Train the model",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": "sklearn:1.2-1", "TrainingInputMode": "File"},
            "HyperParameters": {
                "sagemaker_program": json.dumps("train.py"),
                "sagemaker_submit_directory": json.dumps(f"{code}sourcedir.tar.gz"),
                "sagemaker_region": json.dumps("us-east-1"),
                "label": json.dumps("churned"),
                "regularization": "1.0",
                "max-iter": "1000",
                "score": {"Get": "Parameters.Score"},
                "training-data-uri": {"Get": "Parameters.InputDataUri"},
            },
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": {"Get": prepare_output.format("train")},
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                    "ContentType": "text/csv",
                }
            ],
            "OutputDataConfig": {"S3OutputPath": _run_uri(work, "train"), "KmsKeyId": work_key},
            "ResourceConfig": {
                "InstanceType": {"Get": "Parameters.TrainingInstanceType"},
                "InstanceCount": 1,
                "VolumeSizeInGB": 30,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 60},
            "RoleArn": ROLE_ARN,
        },
    }
    evaluate = _processing(
        "Evaluate",
        "evaluate.py",
        [
            "--model-dir",
            "/opt/ml/processing/model",
            "--test-dir",
            "/opt/ml/processing/test",
            "--output-dir",
            "/opt/ml/processing/evaluation",
        ],
        [
            _input("code", code, CODE),
            _input("model", model, "/opt/ml/processing/model"),
            _input("test", {"Get": prepare_output.format("test")}, "/opt/ml/processing/test"),
        ],
        [_output("evaluation", _run_uri(work, "evaluate", "evaluation"), "/opt/ml/processing/evaluation")],
        work_key,
    )
    evaluate["PropertyFiles"] = [
        {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": "metrics.json"}
    ]
    publish = _processing(
        "Publish",
        "publish.py",
        [
            "--model-dir",
            "/opt/ml/processing/model",
            "--evaluation-dir",
            "/opt/ml/processing/evaluation",
            "--candidate-dir",
            "/opt/ml/processing/candidate",
            "--model-name",
            {"Get": "Parameters.ModelName"},
            "--pipeline-execution-arn",
            {"Get": "Execution.PipelineExecutionArn"},
        ],
        [
            _input("code", code, CODE),
            _input("model", model, "/opt/ml/processing/model"),
            _input(
                "evaluation",
                {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
                "/opt/ml/processing/evaluation",
            ),
        ],
        [
            _output(
                "candidate",
                {"Std:Join": {"On": "/", "Values": [f"s3://{candidate}/models", {"Get": "Parameters.ModelName"}]}},
                "/opt/ml/processing/candidate",
            )
        ],
        candidate_key,
    )
    failed = {
        "Name": "QualityGateFailed",
        "Type": "Fail",
        "Arguments": {
            "ErrorMessage": {
                "Std:Join": {
                    "On": "",
                    "Values": ["Model quality gate failed: auc ", auc, " is below the threshold 0.7"],
                }
            }
        },
    }
    gate = {
        "Name": "QualityGate",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": auc, "RightValue": 0.7}],
            "IfSteps": [publish],
            "ElseSteps": [failed],
        },
    }
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [
            {"Name": "InputDataUri", "Type": "String", "DefaultValue": f"s3://{work}/data/"},
            {"Name": "ModelName", "Type": "String", "DefaultValue": "churn"},
            {"Name": "ModelVersion", "Type": "String", "DefaultValue": "auto"},
            {"Name": "Score", "Type": "String", "DefaultValue": "0.9"},
            {"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.m5.large"},
        ],
        "PipelineExperimentConfig": {},
        "Steps": [prepare, train, evaluate, gate],
    }


def wait_until_done(sagemaker: Any, arn: str, timeout: float = 30) -> dict[str, Any]:
    """DescribePipelineExecution once the status is no longer Executing/Stopping."""
    deadline = time.monotonic() + timeout
    while (described := sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn))["PipelineExecutionStatus"] in (
        "Executing",
        "Stopping",
    ):
        assert time.monotonic() < deadline, f"execution still {described['PipelineExecutionStatus']}"
        time.sleep(0.1)
    return dict(described)


def all_steps(sagemaker: Any, arn: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every ListPipelineExecutionSteps entry, following NextToken."""
    steps: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn, **kwargs, **token)
        steps += page["PipelineExecutionSteps"]
        if "NextToken" not in page:
            return steps
        token = {"NextToken": page["NextToken"]}


def step(steps: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The entry of step ``name``."""
    return next(item for item in steps if item["StepName"] == name)
