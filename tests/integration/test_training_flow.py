"""Training end to end in the emulator: the deployed schedule fires, the pipeline runs the project's
scripts on data the processor Lambda wrote, and only a model that passes the gate becomes a candidate."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import random
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import model_format
from sample_data import csv_bytes
from tests.conftest import Synthesized
from tooling.fire_schedule import fire
from tooling.train import follow, list_steps, published_candidate

pytestmark = pytest.mark.integration

TIMEOUT_SECONDS = 300


def wait_for_processed_rows(s3: Any, bucket: str, prefix: str) -> None:
    deadline = time.monotonic() + 90
    while not any(
        item["Key"].endswith(".csv.gz") for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    ):
        assert time.monotonic() < deadline, f"nothing processed under {prefix} within 90 s"
        time.sleep(0.1)


def start(aws: Callable[[str], Any], pipeline: str, **parameters: str) -> str:
    listed = [{"Name": name, "Value": value} for name, value in parameters.items()]
    return str(
        aws("sagemaker").start_pipeline_execution(PipelineName=pipeline, PipelineParameters=listed)[
            "PipelineExecutionArn"
        ]
    )


@contextmanager
def processed_csv(s3: Any, bucket: str, name: str, text: str) -> Iterator[str]:
    """A processed CSV of its own under processed/churn/ (the only dataset the pipeline's role may read),
    removed afterwards so that later runs over processed/churn/ do not train on it; yields its prefix."""
    prefix = f"processed/churn/_test-{name}/"
    key = f"{prefix}dt=2025-06-30/{name}/v1.csv.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(text.encode(), mtime=0))
    try:
        yield prefix
    finally:
        s3.delete_object(Bucket=bucket, Key=key)


def test_the_fired_schedule_trains_on_processed_data_and_publishes_a_verified_candidate(
    deployed: Synthesized, stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    pipeline_outputs, s3 = stack_outputs("data-pipeline"), aws("s3")
    s3.put_object(
        Bucket=pipeline_outputs["raw_data_bucket_name"],
        Key="incoming/churn/training-flow.csv.gz",
        Body=gzip.compress(csv_bytes(1500, seed=21, bad_rows=10), mtime=0),
    )
    wait_for_processed_rows(s3, pipeline_outputs["processed_data_bucket_name"], "processed/churn/")

    target, execution_arn = fire(deployed.config)  # as Scheduler does: the schedule's role and parameters
    assert (
        target.parameters["InputDataUri"] == f"s3://{pipeline_outputs['processed_data_bucket_name']}/processed/churn/"
    )
    sagemaker = aws("sagemaker")
    execution = follow(sagemaker, execution_arn, timeout_seconds=TIMEOUT_SECONDS, poll_seconds=0.2, emit=lambda _: None)
    assert execution["PipelineExecutionStatus"] == "Succeeded", execution.get("FailureReason")
    steps = {step["StepName"]: step for step in list_steps(sagemaker, execution_arn)}
    assert {name: step["StepStatus"] for name, step in steps.items()} == dict.fromkeys(
        ("Prepare", "Train", "Evaluate", "QualityGate", "Publish"), "Succeeded"
    )
    assert steps["QualityGate"]["Metadata"]["Condition"]["Outcome"] == "True"

    settings = deployed.config.training
    bucket = stack_outputs("artifact-store")["candidate_model_bucket_name"]
    candidate = published_candidate(s3, bucket, settings.model_name, execution_arn)
    prefix, manifest, metrics = candidate.prefix, candidate.manifest, candidate.metrics
    archive = s3.get_object(Bucket=bucket, Key=prefix + "model.tar.gz")["Body"].read()
    assert hashlib.sha256(archive).hexdigest() == manifest["artifact"]["sha256"]
    assert prefix == f"models/{settings.model_name}/{manifest['model']['version']}/"
    assert manifest["model"]["version"].startswith(settings.model_version_base + ".")
    assert manifest["training_data"]["uri"] == target.parameters["InputDataUri"]
    assert metrics["metrics"]["auc"] >= settings.quality_threshold
    # the candidate scores with the standard library alone (what inference will load)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.extractfile("model.json")
        assert member is not None
        model = model_format.loads(member.read())
    row = next(csv.DictReader(io.StringIO(csv_bytes(1, seed=3).decode())))
    assert 0.0 < model_format.score(model, row) < 1.0


def test_a_model_below_the_quality_gate_is_not_published(
    deployed: Synthesized, stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    processed, s3 = stack_outputs("data-pipeline")["processed_data_bucket_name"], aws("s3")
    # real rows with the label shuffled: nothing to learn, so held-out AUC lands near 0.5
    rows = list(csv.reader(io.StringIO(csv_bytes(800, seed=5).decode())))
    labels = [row[-1] for row in rows[1:]]
    random.Random(5).shuffle(labels)
    text = "\n".join(",".join([*row[:-1], label]) for row, label in zip(rows[1:], labels, strict=True))

    model_name = "noise-model"
    pipeline = stack_outputs("training")["training_pipeline_name"]
    sagemaker = aws("sagemaker")
    with processed_csv(s3, processed, "noise", ",".join(rows[0]) + "\n" + text) as prefix:
        execution_arn = start(aws, pipeline, InputDataUri=f"s3://{processed}/{prefix}", ModelName=model_name)
        execution = follow(
            sagemaker, execution_arn, timeout_seconds=TIMEOUT_SECONDS, poll_seconds=0.2, emit=lambda _: None
        )
    assert execution["PipelineExecutionStatus"] == "Failed"
    assert execution["FailureReason"].startswith("Model quality gate failed: auc 0.")
    assert execution["FailureReason"].endswith(f"is below the threshold {deployed.config.training.quality_threshold}")
    steps = {step["StepName"]: step["StepStatus"] for step in list_steps(sagemaker, execution_arn)}
    assert steps["QualityGateFailed"] == "Failed" and "Publish" not in steps
    candidate = stack_outputs("artifact-store")["candidate_model_bucket_name"]
    assert not s3.list_objects_v2(Bucket=candidate, Prefix=f"models/{model_name}/").get("KeyCount")


def test_data_without_the_label_fails_in_prepare_naming_it_and_publishes_nothing(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    processed, s3 = stack_outputs("data-pipeline")["processed_data_bucket_name"], aws("s3")
    rows = list(csv.reader(io.StringIO(csv_bytes(50, seed=8).decode())))
    text = "\n".join(",".join(row[:-1]) for row in rows)  # the churned column dropped

    pipeline = stack_outputs("training")["training_pipeline_name"]
    sagemaker = aws("sagemaker")
    with processed_csv(s3, processed, "unlabelled", text) as prefix:
        execution_arn = start(aws, pipeline, InputDataUri=f"s3://{processed}/{prefix}", ModelName="unlabelled")
        execution = follow(
            sagemaker, execution_arn, timeout_seconds=TIMEOUT_SECONDS, poll_seconds=0.2, emit=lambda _: None
        )
    assert execution["PipelineExecutionStatus"] == "Failed"
    steps = {step["StepName"]: step for step in list_steps(sagemaker, execution_arn)}
    assert set(steps) == {"Prepare"} and steps["Prepare"]["StepStatus"] == "Failed"
    assert "churned" in steps["Prepare"]["FailureReason"]
    candidate = stack_outputs("artifact-store")["candidate_model_bucket_name"]
    assert not s3.list_objects_v2(Bucket=candidate, Prefix="models/unlabelled/").get("KeyCount")


def test_a_version_that_was_published_is_never_overwritten(
    stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    pipeline, sagemaker = stack_outputs("training")["training_pipeline_name"], aws("sagemaker")
    candidate, s3 = stack_outputs("artifact-store")["candidate_model_bucket_name"], aws("s3")
    wait_for_processed_rows(s3, stack_outputs("data-pipeline")["processed_data_bucket_name"], "processed/churn/")

    def run(version: str) -> dict[str, Any]:
        arn = start(aws, pipeline, ModelName="pinned", ModelVersion=version)
        return follow(sagemaker, arn, timeout_seconds=TIMEOUT_SECONDS, poll_seconds=0.2, emit=lambda _: None) | {
            "steps": {step["StepName"]: step for step in list_steps(sagemaker, arn)}
        }

    assert run("2.0.0")["PipelineExecutionStatus"] == "Succeeded"
    manifest_key = "models/pinned/2.0.0/manifest.json"
    first = s3.head_object(Bucket=candidate, Key=manifest_key)["VersionId"]

    again = run("2.0.0")
    assert again["PipelineExecutionStatus"] == "Failed"
    assert set(again["steps"]) == {"Prepare"}  # refused before any training
    assert "version 2.0.0 already exists" in again["steps"]["Prepare"]["FailureReason"]
    assert s3.head_object(Bucket=candidate, Key=manifest_key)["VersionId"] == first


def test_make_train_fires_the_schedule_follows_the_steps_and_names_the_candidate(
    deployed: Synthesized, stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> None:
    wait_for_processed_rows(aws("s3"), stack_outputs("data-pipeline")["processed_data_bucket_name"], "processed/churn/")
    port = str(deployed.config.emulator_port)
    result = subprocess.run(
        [sys.executable, "-m", "tooling.train", "--timeout-minutes", "5"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "ENV": "local", "EMULATOR_PORT": port},
        capture_output=True,
        text=True,
        timeout=360,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "fired schedule mlp-local-training-schedule (as its role mlp-local-training-schedule)"
    assert any(line.split()[:2] == ["Publish", "Succeeded"] for line in lines)
    candidate = next(line for line in lines if line.startswith("candidate "))
    assert candidate.startswith(f"candidate s3://{stack_outputs('artifact-store')['candidate_model_bucket_name']}/")
    assert next(line for line in lines if line.startswith("metrics ")).split()[1] == "auc"
