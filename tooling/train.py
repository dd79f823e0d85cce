"""`make train`: run the training pipeline once and follow it step by step.

    local     fires the deployed schedule (tooling.fire_schedule), as EventBridge would
    dev/prod  starts an execution in the account with the pipeline's default parameters

Then it prints each step as it starts and ends, and at the end either the published candidate
(where it is, its version and metrics) or why the execution failed. Exit 0 only for a published
candidate; 1 when the execution failed (a quality gate miss included); 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from platform_config import ConfigError, EnvironmentConfig, load
from tooling.aws_clients import client, require_emulator
from tooling.fire_schedule import fire

FINISHED = ("Succeeded", "Failed", "Stopped")
MANIFEST = "manifest.json"
METRICS = "metrics.json"


@dataclass
class StepProgress:
    """What has been printed of each step, so each change prints once."""

    seen: dict[str, str] = field(default_factory=dict)

    def changes(self, steps: list[Mapping[str, Any]]) -> Iterator[str]:
        """A line for every step whose status changed since the last call (oldest first)."""
        for step in sorted(steps, key=lambda item: item.get("StartTime") or 0):
            name, status = step["StepName"], step["StepStatus"]
            if self.seen.get(name) == status:
                continue
            self.seen[name] = status
            line = f"  {name:<18} {status}"
            if step.get("StartTime") and step.get("EndTime"):
                line += f"  ({(step['EndTime'] - step['StartTime']).total_seconds():.0f} s)"
            detail = _step_detail(step)
            yield line + (f"  {detail}" if detail else "")


def _step_detail(step: Mapping[str, Any]) -> str:
    metadata = step.get("Metadata", {})
    if "Condition" in metadata:
        return f"condition {metadata['Condition'].get('Outcome', '?').lower()}"
    if step.get("FailureReason"):
        return str(step["FailureReason"])
    return ""


def list_steps(sagemaker: Any, execution_arn: str) -> list[dict[str, Any]]:
    """Every step of the execution (all pages)."""
    steps: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"PipelineExecutionArn": execution_arn}
    while True:
        page = sagemaker.list_pipeline_execution_steps(**kwargs)
        steps.extend(page["PipelineExecutionSteps"])
        if not page.get("NextToken"):
            return steps
        kwargs["NextToken"] = page["NextToken"]


def follow(
    sagemaker: Any,
    execution_arn: str,
    *,
    timeout_seconds: float,
    poll_seconds: float = 2.0,
    emit: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Print step changes until the execution finishes; returns DescribePipelineExecution's answer."""
    progress = StepProgress()
    deadline = time.monotonic() + timeout_seconds
    while True:
        execution = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        for line in progress.changes(list_steps(sagemaker, execution_arn)):
            emit(line)
        if execution["PipelineExecutionStatus"] in FINISHED:
            return dict(execution)
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{execution_arn} still {execution['PipelineExecutionStatus']} after {timeout_seconds} s"
            )
        time.sleep(poll_seconds)


@dataclass(frozen=True)
class Candidate:
    """A published candidate: its key prefix `models/<name>/<version>/`, manifest and metrics."""

    prefix: str
    manifest: dict[str, Any]
    metrics: dict[str, Any]


def published_candidate(s3: Any, bucket: str, model_name: str, execution_arn: str) -> Candidate:
    """The candidate under `models/<name>/` whose manifest names `execution_arn`.

    Manifests are read newest first, so finding the run that just finished costs one or two reads however
    many versions the model has."""
    paginator = s3.get_paginator("list_objects_v2")
    manifests = [
        item
        for page in paginator.paginate(Bucket=bucket, Prefix=f"models/{model_name}/")
        for item in page.get("Contents", [])
        if item["Key"].endswith(f"/{MANIFEST}")
    ]
    for item in sorted(manifests, key=lambda listed: listed["LastModified"], reverse=True):
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        if manifest.get("pipeline_execution_arn") == execution_arn:
            prefix = item["Key"].removesuffix(MANIFEST)
            metrics = json.loads(s3.get_object(Bucket=bucket, Key=prefix + METRICS)["Body"].read())
            return Candidate(prefix, manifest, metrics)
    raise LookupError(f"no candidate under s3://{bucket}/models/{model_name}/ names {execution_arn}")


def start(config: EnvironmentConfig) -> str:
    """Locally fire the schedule; in an account start the pipeline. Returns the execution ARN."""
    if config.is_local:
        target, execution_arn = fire(config)  # FireError (a RuntimeError) when it would not fire
        role = target.role_arn.rsplit("/", 1)[-1]
        print(f"fired schedule {config.resource_name('training-schedule')} (as its role {role})")
        return execution_arn
    response = client("sagemaker", config).start_pipeline_execution(
        PipelineName=config.resource_name("training"),
        PipelineExecutionDescription="make train",
    )
    return str(response["PipelineExecutionArn"])


def format_metrics(metrics: Mapping[str, Any]) -> str:
    values = metrics.get("metrics", {})
    return ", ".join(f"{name} {value:.3f}" for name, value in values.items() if isinstance(value, (int, float)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--timeout-minutes", type=float, default=None, help="default: the four jobs' limits plus 30 minutes"
    )
    args = parser.parse_args(argv)
    try:
        config = load()
        require_emulator(config)
        # Four jobs run one after another, each up to max_runtime_minutes, plus instance start-up.
        timeout = (args.timeout_minutes or 4 * config.training.max_runtime_minutes + 30) * 60
        execution_arn = start(config)
        print(f"execution {execution_arn}", flush=True)
        execution = follow(client("sagemaker", config), execution_arn, timeout_seconds=timeout)
        status = execution["PipelineExecutionStatus"]
        if status != "Succeeded":
            print(f"training {status.lower()}: {execution.get('FailureReason', 'no reason given')}", file=sys.stderr)
            return 1
        bucket = config.resource_name("candidate-models")
        candidate = published_candidate(client("s3", config), bucket, config.training.model_name, execution_arn)
    except (ConfigError, RuntimeError, TimeoutError, LookupError, BotoCoreError, ClientError) as exc:
        print(f"train: error: {exc}", file=sys.stderr)
        return 1
    print(f"candidate s3://{bucket}/{candidate.prefix}")
    print(f"metrics   {format_metrics(candidate.metrics)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
