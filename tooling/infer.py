"""`make infer INPUT=<file or s3 URI> [MODEL=..] [OUTPUT_PREFIX=..]`: score a batch with the production model.

    python -m tooling.infer batch.csv [--model churn] [--output-prefix daily/2026-11-30/] [--name run-1]

A local .csv or .csv.gz file is uploaded to s3://<inference bucket>/batches/<execution name>/<file name>; an
s3:// URI there is used as is. Starts the inference state machine (its ARN from the outputs `make deploy`
wrote) with a name (the run folder), follows it, then prints each step's time, the row counts, where the
outputs are and the first predictions; a failed execution prints the step's error and cause. Exit 0 when it
succeeded, 1 when it failed, 2 for usage errors. Works in every environment (ENV=dev uses your credentials).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

import platform_config
from lambdas.inference_common.contract import BATCH_SUFFIXES, BATCHES_PREFIX
from platform_config import EnvironmentConfig
from tooling import aws_clients, deploy
from tooling.backfill import wait_for_execution

SHOWN_PREDICTIONS = 5
TIMEOUT_SECONDS = 900


class InferError(RuntimeError):
    """A usage problem (a missing file, a stack not deployed); the message says what to do."""


@dataclass(frozen=True)
class InferenceRun:
    """A finished execution: its ARN and status, the output (predict's summary) or the error and cause."""

    execution_arn: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    steps: list[tuple[str, float, str]]

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"


def execution_name(now: datetime | None = None) -> str:
    """A unique, sortable execution name: infer-<UTC time>-<6 hex> (also the run folder)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"infer-{moment:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def workflow_outputs(config: EnvironmentConfig) -> dict[str, Any]:
    """The inference stack's outputs from the file `make deploy` writes."""
    path = deploy.outputs_file(config)
    stack = config.stack_name("inference")
    if not path.exists():
        raise InferError(f"{path} is missing: run `make deploy ENV={config.name}` first")
    outputs = json.loads(path.read_text()).get(stack)
    if not outputs:
        raise InferError(f"{path} has no outputs of {stack}: run `make deploy ENV={config.name}`")
    return dict(outputs)


def execution_exists(sfn: Any, state_machine_arn: str, name: str) -> bool:
    """Whether the state machine already has an execution called `name` (AWS keeps names for 90 days)."""
    arn = f"{state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}"
    try:
        sfn.describe_execution(executionArn=arn)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
            return False
        raise
    return True


def batch_uri(s3: Any, bucket: str, source: str, name: str) -> str:
    """The s3:// URI of the batch: `source` itself when it is one, else the local file uploaded under batches/."""
    if source.startswith("s3://"):
        return source
    path = Path(source)
    if not path.is_file():
        raise InferError(f"INPUT {source!r} is neither an s3:// URI nor a file")
    if not path.name.endswith(BATCH_SUFFIXES):
        raise InferError(f"INPUT {source!r} must be a .csv or .csv.gz file")
    key = f"{BATCHES_PREFIX}{name}/{path.name}"
    s3.upload_file(str(path), bucket, key)
    return f"s3://{bucket}/{key}"


# History events that mean the Task state in progress failed. On AWS a caught failure is still followed by
# TaskStateExited, so an exit alone does not mean the step succeeded.
STEP_FAILURE_EVENTS = frozenset({"TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut"})


def step_timings(sfn: Any, execution_arn: str) -> list[tuple[str, float, str]]:
    """(state, seconds, "done" or "failed") for every Task state the execution ran, in order; a state that
    failed (its error caught or not) is "failed", one still running or cut short when the execution ended too."""
    events = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    steps, entered, failed = [], {}, set()
    current = None
    for event in events:
        kind = event["type"]
        if kind == "TaskStateEntered":
            current = event["stateEnteredEventDetails"]["name"]
            entered[current] = event["timestamp"]
        elif kind in STEP_FAILURE_EVENTS and current is not None:
            failed.add(current)
        elif kind == "TaskStateExited":
            name = event["stateExitedEventDetails"]["name"]
            started = entered.pop(name, event["timestamp"])
            outcome = "failed" if name in failed else "done"
            steps.append((name, (event["timestamp"] - started).total_seconds(), outcome))
    steps.extend((name, 0.0, "failed") for name in entered)  # entered, never exited: the execution ended there
    return steps


def run(
    sfn: Any,
    state_machine_arn: str,
    request: dict[str, Any],
    name: str,
    *,
    timeout_seconds: float = TIMEOUT_SECONDS,
    on_progress: Callable[[str, float], None] = lambda status, elapsed: None,
) -> InferenceRun:
    """Start the named execution with `request` (the execution input) and wait until it finishes."""
    started = sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(request))
    described = wait_for_execution(sfn, started["executionArn"], timeout_seconds, on_progress=on_progress)
    output = json.loads(described["output"]) if described.get("output") else None
    return InferenceRun(
        execution_arn=started["executionArn"],
        status=described["status"],
        output=output,
        error=described.get("error"),
        cause=described.get("cause"),
        steps=step_timings(sfn, started["executionArn"]),
    )


def first_predictions(s3: Any, uri: str, count: int = SHOWN_PREDICTIONS) -> list[list[str]]:
    """The header and the first `count` rows of a gzip CSV in S3, read as a stream (the file may be large)."""
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        text = io.TextIOWrapper(gzip.GzipFile(fileobj=body), encoding="utf-8", newline="")
        reader = csv.reader(text)
        return [row for _, row in zip(range(count + 1), reader, strict=False)]
    finally:
        body.close()


def readable_cause(cause: str | None) -> str:
    """A step's cause as a person reads it: a Lambda error's message (the cause is the function's error document,
    {"errorMessage", "errorType", "stackTrace", ...}), else the cause as given."""
    try:
        document = json.loads(cause or "")
    except json.JSONDecodeError:
        return cause or "no cause given"
    return str(document.get("errorMessage", cause)) if isinstance(document, dict) else str(cause)


def report(result: InferenceRun, predictions: Sequence[Sequence[str]] = ()) -> list[str]:
    """What a person reads after a run: status, steps, counts, outputs and the first predictions (or the error)."""
    lines = [f"execution {result.execution_arn}", f"status    {result.status}"]
    lines += [f"  {name:<14} {outcome} ({seconds:.1f} s)" for name, seconds, outcome in result.steps]
    if not result.succeeded or result.output is None:
        lines.append(f"error     {result.error}: {readable_cause(result.cause)}")
        return lines
    output, rows = result.output, result.output["rows"]
    lines += [
        f"model     {output['model']} {output['model_version']} (sha256 {output['model_sha256'][:16]}…)",
        f"rows      {rows['read']} read: {rows['scored']} scored ({rows['positive']} predicted positive), "
        f"{rows['rejected']} rejected by the schema, {rows['unscored']} unscored, {rows['blank']} blank",
        f"outputs   {output['predictions_uri']}",
        f"          {output['summary_uri']}",
        f"          {output['rejected_uri']} (rows the schema rejected, with reasons)",
    ]
    if predictions:
        widths = [max(len(row[i]) for row in predictions) for i in range(len(predictions[0]))]
        lines.append(f"first {len(predictions) - 1} predictions:")
        lines += [
            "  " + "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
            for row in predictions
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="a local .csv/.csv.gz batch, or s3://<inference bucket>/batches/<key>")
    parser.add_argument("--model", help="the served model (default: [<env>.training] model_name)")
    parser.add_argument("--output-prefix", help="the run's folder under predictions/ (default: <model>/)")
    parser.add_argument("--name", help="the execution name (default: infer-<UTC time>-<random>)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds to wait (default 900)")
    args = parser.parse_args(argv)
    try:
        config = platform_config.load()
        aws_clients.require_emulator(config)
        outputs = workflow_outputs(config)
        s3, sfn = aws_clients.client("s3", config), aws_clients.client("stepfunctions", config)
        name = args.name or execution_name()
        # Before the upload: a reused name would overwrite batches/<name>/ and then fail to start.
        if args.name and execution_exists(sfn, outputs["inference_state_machine_arn"], name):
            raise InferError(f"execution name {name!r} is taken (names stay taken for 90 days); choose another")
        request = {
            "model": args.model or config.training.model_name,
            "input_uri": batch_uri(s3, outputs["inference_bucket_name"], args.input, name),
        }
        if args.output_prefix:
            request["output_prefix"] = args.output_prefix
        print(f"infer: {json.dumps(request)}", flush=True)
        result = run(
            sfn,
            outputs["inference_state_machine_arn"],
            request,
            name,
            timeout_seconds=args.timeout,
            on_progress=lambda status, elapsed: print(f"infer: {status} ({elapsed:.0f} s)", flush=True),
        )
        shown = first_predictions(s3, result.output["predictions_uri"]) if result.succeeded and result.output else []
    except InferError as exc:
        print(f"infer: error: {exc}", file=sys.stderr)
        return 2
    except (platform_config.ConfigError, RuntimeError, TimeoutError, BotoCoreError, ClientError) as exc:
        print(f"infer: error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report(result, shown)))
    return 0 if result.succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
