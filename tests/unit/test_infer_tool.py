"""tooling.infer (`make infer`): execution names fit the run folder, batches are uploaded under batches/, steps and
results are reported as a person reads them, and usage problems say what to do."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inference_common.contract import EXECUTION_NAME  # the rule for run folders
from tooling import infer

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_execution_names_are_unique_sortable_and_valid_run_folders() -> None:
    first, second = infer.execution_name(T0), infer.execution_name(T0 + timedelta(seconds=1))
    assert first.startswith("infer-20261130T120000Z-") and EXECUTION_NAME.fullmatch(first)
    assert first < second and infer.execution_name(T0) != first


class FakeS3:
    def __init__(self, objects: dict[str, bytes] | None = None) -> None:
        self.uploaded: list[tuple[str, str, str]] = []
        self.objects = objects or {}

    def upload_file(self, path: str, bucket: str, key: str) -> None:
        self.uploaded.append((Path(path).name, bucket, key))

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        import io

        return {"Body": io.BytesIO(self.objects[f"s3://{Bucket}/{Key}"])}


def test_a_local_batch_is_uploaded_under_batches_in_a_folder_named_after_the_run(tmp_path: Path) -> None:
    batch = tmp_path / "customers.csv.gz"
    batch.write_bytes(b"x")
    s3 = FakeS3()
    assert infer.batch_uri(s3, "inference", str(batch), "run-1") == "s3://inference/batches/run-1/customers.csv.gz"
    assert s3.uploaded == [("customers.csv.gz", "inference", "batches/run-1/customers.csv.gz")]
    # An s3:// URI is the execution's business (preprocess checks it): passed on untouched, nothing uploaded.
    assert infer.batch_uri(s3, "inference", "s3://elsewhere/x.csv", "run-2") == "s3://elsewhere/x.csv"
    assert len(s3.uploaded) == 1


@pytest.mark.parametrize(
    ("name", "message"), [("missing.csv", "is neither an s3:// URI nor a file"), ("notes.txt", "must be a .csv")]
)
def test_a_batch_that_is_not_a_csv_file_is_refused_before_anything_starts(
    tmp_path: Path, name: str, message: str
) -> None:
    if name == "notes.txt":
        (tmp_path / name).write_text("x")
    with pytest.raises(infer.InferError, match=message):
        infer.batch_uri(FakeS3(), "inference", str(tmp_path / name), "run")


class FakeHistory:
    def __init__(self, events: list[dict[str, Any]], page: int = 2) -> None:
        self.events, self.page = events, page

    def get_execution_history(self, executionArn: str, maxResults: int, nextToken: str | None = None) -> dict:
        start = int(nextToken or 0)
        chunk = self.events[start : start + self.page]
        more = start + self.page < len(self.events)
        return {"events": chunk, **({"nextToken": str(start + self.page)} if more else {})}


def event(kind: str, name: str, seconds: float) -> dict[str, Any]:
    field = "stateEnteredEventDetails" if kind.endswith("Entered") else "stateExitedEventDetails"
    return {"type": kind, "timestamp": T0 + timedelta(seconds=seconds), field: {"name": name}}


def test_a_caught_failure_marks_its_step_failed_although_aws_exits_the_state_afterwards() -> None:
    """The event order AWS records for a Task whose error a Catch handles."""
    history = FakeHistory(
        [
            event("TaskStateEntered", "Preprocess", 0),
            {"type": "LambdaFunctionFailed", "timestamp": T0 + timedelta(seconds=0.5)},
            event("TaskStateExited", "Preprocess", 0.5),
            event("TaskStateEntered", "NotifyFailure", 0.5),
            event("TaskStateExited", "NotifyFailure", 0.75),
        ]
    )
    assert infer.step_timings(history, "arn") == [("Preprocess", 0.5, "failed"), ("NotifyFailure", 0.25, "done")]


def test_step_timings_follow_the_history_across_pages_and_name_the_step_that_never_ended() -> None:
    history = FakeHistory(
        [
            {"type": "ExecutionStarted", "timestamp": T0},
            event("TaskStateEntered", "Preprocess", 0),
            event("TaskStateExited", "Preprocess", 1.5),
            event("TaskStateEntered", "Predict", 1.5),
            event("FailStateEntered", "Failed", 3),
            {"type": "ExecutionFailed", "timestamp": T0 + timedelta(seconds=4)},
        ]
    )
    assert infer.step_timings(history, "arn") == [("Preprocess", 1.5, "done"), ("Predict", 0.0, "failed")]


SUMMARY = {
    "model": "churn",
    "model_version": "1.0.20261130120000",
    "model_sha256": "ab" * 32,
    "predictions_uri": "s3://inference/predictions/churn/run/predictions.csv.gz",
    "summary_uri": "s3://inference/predictions/churn/run/summary.json",
    "rejected_uri": "s3://inference/preprocessed/churn/run/rejected.csv.gz",
    "rows": {"read": 10, "scored": 7, "positive": 2, "rejected": 2, "unscored": 0, "blank": 1},
}


def test_a_succeeded_run_reports_counts_outputs_and_the_first_predictions_as_a_table() -> None:
    run = infer.InferenceRun("arn:exec", "SUCCEEDED", SUMMARY, None, None, [("Preprocess", 1.25, "done")])
    predictions = [["customer_id", "score", "label", "model_version"], ["CUST-1", "0.25", "false", "1.0.1"]]
    text = "\n".join(infer.report(run, predictions))
    assert "status    SUCCEEDED" in text and "  Preprocess     done (1.2 s)" in text
    assert "10 read: 7 scored (2 predicted positive), 2 rejected by the schema, 0 unscored, 1 blank" in text
    assert SUMMARY["predictions_uri"] in text and "first 1 predictions:" in text
    assert "  CUST-1       0.25   false  1.0.1\n" in text + "\n"  # no trailing spaces


def test_a_failed_run_reports_the_steps_error_and_the_functions_message() -> None:
    cause = json.dumps({"errorMessage": "churn has no pointer", "errorType": "ModelNotPromoted", "stackTrace": []})
    run = infer.InferenceRun("arn:exec", "FAILED", None, "ModelNotPromoted", cause, [])
    assert infer.report(run)[-1] == "error     ModelNotPromoted: churn has no pointer"
    # A cause that is not a Lambda error document (States.Timeout, say) is shown as it is.
    assert infer.readable_cause("took too long") == "took too long" and infer.readable_cause(None) == "no cause given"


def test_first_predictions_reads_only_the_head_of_the_file() -> None:
    rows = "customer_id,score\n" + "".join(f"CUST-{i},0.{i}\n" for i in range(1000))
    s3 = FakeS3({"s3://b/p.csv.gz": gzip.compress(rows.encode())})
    assert infer.first_predictions(s3, "s3://b/p.csv.gz", count=2) == [
        ["customer_id", "score"],
        ["CUST-0", "0.0"],
        ["CUST-1", "0.1"],
    ]


def test_infer_without_a_deploy_says_to_deploy_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(infer.deploy, "outputs_file", lambda config: tmp_path / "outputs.json")
    monkeypatch.setattr(infer.aws_clients, "require_emulator", lambda config: None)
    monkeypatch.setenv("ENV", "local")
    assert infer.main(["batch.csv"]) == 2
    assert "outputs.json is missing: run `make deploy ENV=local` first" in capsys.readouterr().err
    (tmp_path / "outputs.json").write_text(json.dumps({"local-data-pipeline": {}}))
    assert infer.main(["batch.csv"]) == 2
    assert "has no outputs of local-inference" in capsys.readouterr().err


class FakeExecutions:
    def __init__(self, existing: set[str]) -> None:
        self.existing = existing

    def describe_execution(self, executionArn: str) -> dict[str, str]:
        from botocore.exceptions import ClientError

        if executionArn not in self.existing:
            raise ClientError({"Error": {"Code": "ExecutionDoesNotExist", "Message": "no"}}, "DescribeExecution")
        return {"status": "SUCCEEDED"}


def test_a_taken_execution_name_is_found_from_the_state_machine_arn() -> None:
    machine = "arn:aws:states:eu-west-1:111122223333:stateMachine:mlp-dev-inference"
    sfn = FakeExecutions({"arn:aws:states:eu-west-1:111122223333:execution:mlp-dev-inference:daily-1"})
    assert infer.execution_exists(sfn, machine, "daily-1") and not infer.execution_exists(sfn, machine, "daily-2")
