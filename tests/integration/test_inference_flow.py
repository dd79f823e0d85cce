"""Inference end to end in the emulator: the deployed state machine runs the deployed preprocess and predict zips
on a batch with a model in production; a bad input takes the Catch path to the failure topic."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import model_format
from model_archive import archive_of
from promotion.pointer import artifact_key, dumps, pointer_document, pointer_key
from sample_data import batch_csv_bytes
from tests.conftest import Synthesized
from tests.training.fitted_model import trained
from tooling.infer import InferenceRun, run

pytestmark = pytest.mark.integration

MODEL = "churn"
VERSION = "0.0.1-inference-test"
TIMEOUT_SECONDS = 180


@pytest.fixture(scope="module")
def production_model(
    deployed: Synthesized, stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any]
) -> Iterator[model_format.LinearModel]:
    """A churn model fitted by the training code, in production as a promotion leaves it (the archive under its
    version, the pointer naming it); both removed afterwards, so the promotion tests start from an empty store."""
    s3, bucket = aws("s3"), stack_outputs("artifact-store")["production_model_bucket_name"]
    model = trained().model
    archive = archive_of(model_format.dumps(model).encode())
    document = pointer_document(
        model=MODEL,
        version=VERSION,
        sha256=hashlib.sha256(archive).hexdigest(),
        size=len(archive),
        sequence=1,
        promotion={"action": "promote", "approved_by": "integration-test", "approved_at": "2026-11-30T00:00:00Z"},
        quality={"metric": "auc", "value": 0.8, "threshold": 0.7},
        training_data_uri="s3://processed/processed/churn/",
    )
    keys = (artifact_key(MODEL, VERSION), pointer_key(MODEL))
    s3.put_object(Bucket=bucket, Key=keys[0], Body=archive)
    s3.put_object(Bucket=bucket, Key=keys[1], Body=dumps(document).encode())
    try:
        yield model
    finally:
        for key in keys:
            s3.delete_object(Bucket=bucket, Key=key)


def infer(aws: Callable[[str], Any], outputs: dict[str, Any], name: str, **request: Any) -> InferenceRun:
    return run(
        aws("stepfunctions"),
        outputs["inference_state_machine_arn"],
        {"model": MODEL, **request},
        name,
        timeout_seconds=TIMEOUT_SECONDS,
    )


def gzip_rows(s3: Any, uri: str) -> list[list[str]]:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    data = gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_a_batch_is_scored_by_the_deployed_functions_with_the_production_model(
    production_model: model_format.LinearModel,
    stack_outputs: Callable[[str], dict[str, Any]],
    aws: Callable[[str], Any],
) -> None:
    outputs, s3 = stack_outputs("inference"), aws("s3")
    batch, bad_rows = batch_csv_bytes(300, seed=31, bad_rows=12)
    bucket = outputs["inference_bucket_name"]
    s3.put_object(Bucket=bucket, Key="batches/it/customers.csv.gz", Body=gzip.compress(batch, mtime=0))

    result = infer(aws, outputs, "it-success", input_uri=f"s3://{bucket}/batches/it/customers.csv.gz")

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert [(name, outcome) for name, _, outcome in result.steps] == [("Preprocess", "done"), ("Predict", "done")]
    summary = result.output
    assert summary is not None and summary["model_version"] == VERSION
    rows = summary["rows"]
    assert rows["read"] == 300 == rows["scored"] + rows["unscored"] + rows["rejected"] + rows["blank"]
    assert (rows["rejected"], rows["unscored"]) == (bad_rows, 0)
    # Every prediction is what training's scorer gives that row with that model, to the last bit.
    valid = [row for row in csv.DictReader(io.StringIO(batch.decode(), newline="")) if row]
    predictions = gzip_rows(s3, summary["predictions_uri"])
    assert predictions[0] == ["customer_id", "score", "label", "model_version"]
    by_id = {row["customer_id"]: row for row in valid}
    assert len(predictions) - 1 == rows["scored"]
    for customer, score, label, version in predictions[1:]:
        expected = model_format.score(production_model, by_id[customer])
        assert (score, label, version) == (repr(expected), str(expected >= production_model.threshold).lower(), VERSION)
    assert rows["positive"] == sum(1 for row in predictions[1:] if row[2] == "true")
    rejected = gzip_rows(s3, summary["rejected_uri"])
    assert len(rejected) - 1 == bad_rows and all(row[1] for row in rejected[1:])  # each with its reason
    bucket_name, key = summary["summary_uri"].removeprefix("s3://").split("/", 1)
    stored = json.loads(s3.get_object(Bucket=bucket_name, Key=key)["Body"].read())
    assert stored["rows"] == rows and stored["model_version"] == VERSION


def test_a_bad_input_uri_reaches_the_catch_path_and_is_published_to_the_failure_topic(
    production_model: model_format.LinearModel,
    stack_outputs: Callable[[str], dict[str, Any]],
    aws: Callable[[str], Any],
) -> None:
    outputs, sns, sqs = stack_outputs("inference"), aws("sns"), aws("sqs")
    queue = sqs.create_queue(QueueName="inference-failures-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(
        TopicArn=outputs["inference_failure_topic_arn"],
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )["SubscriptionArn"]
    try:
        missing = f"s3://{outputs['inference_bucket_name']}/batches/it/does-not-exist.csv"
        results = {
            "not-s3": infer(aws, outputs, "it-bad-uri", input_uri="https://example.com/batch.csv"),
            "missing": infer(aws, outputs, "it-missing", input_uri=missing),
        }
        notices = []
        while len(notices) < len(results):
            received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=5)
            assert received.get("Messages"), f"only {len(notices)} notification(s) on the failure topic"
            notices += [json.loads(message["Body"]) for message in received["Messages"]]
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=queue)

    for result in results.values():
        assert (result.status, result.error) == ("FAILED", "InvalidInferenceInput")
        assert [(name, outcome) for name, _, outcome in result.steps] == [
            ("Preprocess", "failed"),
            ("NotifyFailure", "done"),
        ]
    assert "input_uri 'https://example.com/batch.csv' is not an S3 URI" in results["not-s3"].cause
    assert "does-not-exist.csv" in results["missing"].cause
    by_execution = {notice["execution"]: notice for notice in notices}
    for result in results.values():
        notice = by_execution[result.execution_arn]
        assert notice["error"] == "InvalidInferenceInput" and notice["state_machine"].endswith("-inference")
        assert notice["execution_input"]["model"] == MODEL
