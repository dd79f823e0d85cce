"""The inference part of `make demo`: score a sample batch with the model the demo just promoted.

Uploads a generated churn batch (every column but the label, some bad rows) to batches/ of the inference
bucket, runs the inference state machine on it in the emulator (the deployed preprocess and predict zips run
for real), prints the steps, the row counts and the first predictions, and checks them from the outside: the
counts add up, the rows the schema rejects are exactly the bad ones, and the first predictions are what
training's own scorer (training/model_format.py) computes with the production model. Then a batch that does
not exist fails the execution with a named error after the failure topic is notified.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from platform_config import EnvironmentConfig
from promotion.deployed import read_pointer
from sample_data import batch_csv_bytes
from tooling.code_layout import use_deployed_layout
from tooling.infer import InferenceRun, execution_name, first_predictions, readable_cause, report, run

use_deployed_layout()  # training's scorer, imported as the predict zip imports it
import model_archive  # noqa: E402
import model_format  # noqa: E402

BATCH_KEY = "batches/demo/customers-to-score.csv"
BATCH_ROWS, BATCH_BAD_ROWS, BATCH_SEED = 1_000, 20, 11
MISSING_KEY = "batches/demo/does-not-exist.csv"
TIMEOUT_SECONDS = 300


def reference_scores(s3: Any, production_bucket: str, model: str, batch: bytes, ids: list[str]) -> dict[str, str]:
    """What training's scorer gives the rows `ids` of `batch` with the production model: id -> repr(score)."""
    pointer = read_pointer(s3, production_bucket, model)
    if pointer is None:
        raise LookupError(f"{model} has no production pointer in {production_bucket}")
    archive = s3.get_object(Bucket=production_bucket, Key=pointer.artifact_key)["Body"].read()
    linear = model_archive.read_model(archive, name=pointer.artifact_key)
    wanted = set(ids)
    rows = csv.DictReader(io.StringIO(batch.decode("utf-8"), newline=""))
    return {row["customer_id"]: repr(model_format.score(linear, row)) for row in rows if row["customer_id"] in wanted}


def tour(
    config: EnvironmentConfig, s3: Any, sfn: Any, outputs: dict[str, Any], *, emit: Callable[[str], None] = print
) -> list[tuple[bool, str]]:
    """Run one inference execution on the sample batch and one on a missing batch; checks of what they did."""
    bucket, machine = outputs["inference_bucket_name"], outputs["inference_state_machine_arn"]
    model = config.training.model_name
    batch, bad_rows = batch_csv_bytes(BATCH_ROWS, BATCH_SEED, bad_rows=BATCH_BAD_ROWS)
    s3.put_object(Bucket=bucket, Key=BATCH_KEY, Body=batch)
    request = {"model": model, "input_uri": f"s3://{bucket}/{BATCH_KEY}", "output_prefix": "demo/"}
    emit(f"\nInference (make infer INPUT=s3://{bucket}/{BATCH_KEY}): {BATCH_ROWS} rows, {bad_rows} of them bad")
    result = run(sfn, machine, request, execution_name(), timeout_seconds=TIMEOUT_SECONDS)
    predictions = first_predictions(s3, result.output["predictions_uri"]) if result.succeeded and result.output else []
    for line in report(result, predictions):
        emit(f"  {line}")
    checks = [(result.succeeded, f"inference execution {result.status.lower()}: Preprocess -> Predict")]
    if not result.succeeded or result.output is None:
        return checks
    rows = result.output["rows"]
    checks.append(
        (
            rows["read"] == BATCH_ROWS == rows["scored"] + rows["unscored"] + rows["rejected"] + rows["blank"]
            and rows["rejected"] == bad_rows,
            f"{rows['read']} rows = {rows['scored']} scored + {rows['rejected']} rejected (the {bad_rows} bad rows, "
            f"with reasons) + {rows['unscored']} unscored + {rows['blank']} blank",
        )
    )
    shown = {row[0]: row[1] for row in predictions[1:]}
    expected = reference_scores(s3, config.resource_name("production-models"), model, batch, list(shown))
    checks.append(
        (
            bool(shown) and shown == expected,
            f"the first {len(shown)} scores equal training/model_format.py's with the production model "
            f"{result.output['model_version']}",
        )
    )
    checks.append(_missing_batch_fails(sfn, machine, model, bucket, emit))
    return checks


def _missing_batch_fails(
    sfn: Any, machine: str, model: str, bucket: str, emit: Callable[[str], None]
) -> tuple[bool, str]:
    request = {"model": model, "input_uri": f"s3://{bucket}/{MISSING_KEY}"}
    failed: InferenceRun = run(sfn, machine, request, execution_name(), timeout_seconds=TIMEOUT_SECONDS)
    emit(f"  a batch that does not exist: {failed.status} {failed.error}: {readable_cause(failed.cause)}")
    steps = [name for name, _, _ in failed.steps]
    return (
        failed.status == "FAILED" and failed.error == "InvalidInferenceInput" and "NotifyFailure" in steps,
        f"a missing batch fails the execution with {failed.error}, after NotifyFailure published it to the "
        "failure topic",
    )
