"""The training part of `make demo`: fire the schedule, follow the pipeline, read the candidate.

Runs after the data-pipeline tour, so the pipeline trains on what the processor Lambda wrote to
processed/churn/. Fires the deployed schedule as EventBridge Scheduler would (its role, its
parameters), follows the execution step by step as the emulator runs the project's scripts, then reads
the published candidate back: the archive's sha256 against the manifest, the metrics, and the data
it was trained on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from platform_config import EnvironmentConfig
from tooling.fire_schedule import FireError, fire
from tooling.train import Candidate, follow, format_metrics, list_steps, published_candidate

PIPELINE_STEPS = ("Prepare", "Train", "Evaluate", "QualityGate", "Publish")
TIMEOUT_SECONDS = 600


def tour(
    config: EnvironmentConfig, s3: Any, sagemaker: Any, *, candidate_key_arn: str, emit: Callable[[str], None] = print
) -> tuple[list[tuple[bool, str]], Candidate | None]:
    """Run one training execution through the deployed schedule; checks of what it produced, and the
    candidate it published (None when it published none)."""
    settings = config.training
    try:
        target, execution_arn = fire(config)
    except FireError as exc:
        return [(False, f"the training schedule could not fire: {exc}")], None
    checks = [
        (True, f"fired {config.resource_name('training-schedule')} as its role: {execution_arn.rsplit('/', 1)[-1]}")
    ]
    emit(f"\nTraining pipeline {target.pipeline_name} (fired by its schedule; the emulator runs training/*.py):")
    execution = follow(sagemaker, execution_arn, timeout_seconds=TIMEOUT_SECONDS, emit=emit)
    ran = [step["StepName"] for step in list_steps(sagemaker, execution_arn) if step["StepStatus"] == "Succeeded"]
    status = execution["PipelineExecutionStatus"]
    checks.append(
        (
            status == "Succeeded" and set(ran) == set(PIPELINE_STEPS),
            f"pipeline {status.lower()}: {' -> '.join(step for step in PIPELINE_STEPS if step in ran)}"
            + (f" ({execution.get('FailureReason')})" if status != "Succeeded" else ""),
        )
    )
    if status != "Succeeded":
        return checks, None
    bucket = config.resource_name("candidate-models")
    candidate = published_candidate(s3, bucket, settings.model_name, execution_arn)
    prefix, manifest, metrics = candidate.prefix, candidate.manifest, candidate.metrics
    archive_key = prefix + manifest["artifact"]["file"]
    archive = s3.get_object(Bucket=bucket, Key=archive_key)["Body"].read()
    checks.append(
        (
            hashlib.sha256(archive).hexdigest() == manifest["artifact"]["sha256"]
            and s3.head_object(Bucket=bucket, Key=archive_key).get("SSEKMSKeyId") == candidate_key_arn,
            f"candidate s3://{bucket}/{prefix}: model.tar.gz matches the sha256 in its manifest, "
            "encrypted with the candidate key",
        )
    )
    score = metrics["metrics"][settings.quality_metric]
    checks.append(
        (
            score >= settings.quality_threshold,
            f"held-out {settings.quality_metric} {score:.3f} >= gate {settings.quality_threshold} "
            f"on {metrics['rows']['test']} test rows",
        )
    )
    data = manifest["training_data"]
    checks.append(
        (
            data["uri"] == target.parameters["InputDataUri"] and data["rows"] > 0,
            f"trained on {data['rows']} rows the processor wrote to {data['uri']}",
        )
    )
    emit(f"  candidate  s3://{bucket}/{prefix}")
    emit(f"  metrics    {format_metrics(metrics)}")
    return checks, candidate
