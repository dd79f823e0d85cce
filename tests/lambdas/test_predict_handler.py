"""The predict handler end to end against moto S3 (SSE-KMS buckets): what it refuses and how it says so, the
production model it loads (read afresh, cached by version), scores identical to the training code's, counts that
add up, and outputs that are whole or absent."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from predict_support import (
    EXECUTION_ID,
    INFERENCE_BUCKET,
    MODEL,
    PRODUCTION_BUCKET,
    RUN,
    PredictWorld,
    archive_bytes,
    batch_bytes,
    predict_world,
    preprocessed,
)

import model_format
from inference_common.contract import (
    InvalidInferenceInput,
    ModelChecksumMismatch,
    ModelContractError,
    ModelNotPromoted,
    RunLayout,
)
from lambda_common.environment import ConfigurationError
from sample_data import BATCH_COLUMNS
from tests.training.fitted_model import UNKNOWN_REGION, trained

LAYOUT = RunLayout(INFERENCE_BUCKET, RUN)


@pytest.fixture
def world(aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[PredictWorld]:
    with predict_world(monkeypatch, tmp_path) as world:
        yield world


@pytest.fixture
def promoted(world: PredictWorld) -> PredictWorld:
    """The trained model promoted as 1.0.0, and a batch of the 500 rows it never saw staged for the run."""
    world.promote(trained().model_json)
    world.put_batch(batch_bytes(trained().batch_rows))
    return world


def model_document(**changes: Any) -> dict[str, Any]:
    document = model_format.to_dict(trained().model)
    document.update(changes)
    return document


# ---- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"model": MODEL}, r"the predict event is not a preprocess result: KeyError\('rows'\) is missing"),
        ("not an event", "the predict event is not a preprocess result"),
        ({**preprocessed(3), "run": "../escape/"}, "run '../escape/' must be a relative folder"),
        ({**preprocessed(3), "rows": {"read": 5, "valid": 3, "rejected": 0, "blank": 0}}, "do not add up"),
        (preprocessed(3, model="fraud"), "model 'fraud' is not served here; served: churn"),
        (preprocessed(3, run="churn/another-run/"), "run 'churn/another-run/' is not the folder of execution"),
    ],
)
def test_an_invalid_event_is_refused_naming_the_field(world: PredictWorld, event: Any, message: str) -> None:
    with pytest.raises(InvalidInferenceInput, match=message):
        world.invoke(event)


@pytest.mark.parametrize("name", ["PRODUCTION_BUCKET", "INFERENCE_BUCKET"])
def test_a_missing_bucket_setting_is_a_configuration_error_naming_it(
    world: PredictWorld, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.delenv(name)
    with pytest.raises(ConfigurationError, match=f"{name} is not set"):
        world.invoke(preprocessed(3))


def test_a_model_never_promoted_is_model_not_promoted_naming_model_and_key(world: PredictWorld) -> None:
    with pytest.raises(ModelNotPromoted) as caught:
        world.invoke(preprocessed(3))
    assert str(caught.value) == (
        f"model 'churn' has no production pointer s3://{PRODUCTION_BUCKET}/models/churn/production.json: "
        "no version of it was promoted"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: "{not json", "production pointer is not JSON"),
        (lambda d: {**d, "artifact": {**d["artifact"], "sha256": "abc"}}, "artifact.sha256 'abc' is not a hex sha256"),
        (lambda d: {**d, "format_version": 2}, "expected 'ml-platform/production-pointer' v1"),
    ],
)
def test_a_malformed_pointer_is_a_contract_error(world: PredictWorld, change: Any, message: str) -> None:
    document = world.promote(trained().model_json)
    changed = change(document)
    world.put_pointer(changed if isinstance(changed, str) else json.dumps(changed))
    with pytest.raises(ModelContractError, match=message) as caught:
        world.invoke(preprocessed(3))
    assert f"s3://{PRODUCTION_BUCKET}/models/churn/production.json: " in str(caught.value)


def test_a_pointer_naming_another_model_is_a_contract_error(world: PredictWorld) -> None:
    document = world.promote(trained().model_json, model="fraud")
    world.put_pointer(json.dumps(document), model=MODEL)  # churn's pointer holds fraud's document
    with pytest.raises(ModelContractError, match="production pointer names model 'fraud', expected 'churn'"):
        world.invoke(preprocessed(3))


def test_an_archive_without_model_json_is_a_contract_error(world: PredictWorld) -> None:
    world.promote("", archive=archive_bytes({"weights.bin": b"\x00\x01"}))
    with pytest.raises(ModelContractError) as caught:
        world.invoke(preprocessed(3))
    assert str(caught.value) == (
        "model 'churn' version 1.0.0 (models/churn/1.0.0/model.tar.gz): expected one regular file model.json, "
        "the archive holds weights.bin"
    )


def test_an_archive_that_is_not_a_tar_gz_is_a_contract_error(world: PredictWorld) -> None:
    world.promote("", archive=b"PK\x03\x04 a zip, not a tar.gz")
    with pytest.raises(ModelContractError, match=r"version 1.0.0 .*: not a readable tar.gz archive"):
        world.invoke(preprocessed(3))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"threshold": 2.0}, "model.json: threshold 2.0 must be between 0 and 1"),
        ({"format": "onnx"}, "model.json: format is 'onnx', expected 'ml-platform/linear-model'"),
        (
            {"coefficients": [1.0]},
            "model.json: coefficients must be a list of 19 numbers, one per expanded feature (1)",
        ),
    ],
)
def test_an_invalid_model_json_names_the_version_and_field(
    world: PredictWorld, changes: dict[str, Any], message: str
) -> None:
    world.promote(json.dumps(model_document(**changes)))
    with pytest.raises(ModelContractError) as caught:
        world.invoke(preprocessed(3))
    assert str(caught.value).startswith("model 'churn' version 1.0.0 (models/churn/1.0.0/model.tar.gz): ")
    assert message in str(caught.value)


def test_a_model_of_another_label_is_a_contract_error(promoted: PredictWorld) -> None:
    promoted.promote(json.dumps(model_document(label="upgraded")), "1.1.0", sequence=2)
    with pytest.raises(
        ModelContractError, match=re.escape("version 1.1.0 predicts 'upgraded'; the served model predicts 'churned'")
    ):
        promoted.invoke(preprocessed(500))


@pytest.mark.parametrize(
    ("change", "holds"), [(lambda data: data + b"\x00", "more than {size}"), (lambda data: data[:-10], "{short}")]
)
def test_an_archive_of_another_size_than_promoted_is_a_checksum_mismatch(
    promoted: PredictWorld, change: Any, holds: str
) -> None:
    document = promoted.promote(trained().model_json)
    size = document["artifact"]["bytes"]
    promoted.s3.put_object(
        Bucket=PRODUCTION_BUCKET,
        Key=document["artifact"]["key"],
        Body=change(promoted.read(document["artifact"]["key"], bucket=PRODUCTION_BUCKET)),
    )
    with pytest.raises(ModelChecksumMismatch) as caught:
        promoted.invoke(preprocessed(500))
    assert str(caught.value) == (
        f"s3://{PRODUCTION_BUCKET}/models/churn/1.0.0/model.tar.gz holds {holds.format(size=size, short=size - 10)} "
        f"bytes, the production pointer (sequence 1) promoted {size} with sha256 {document['artifact']['sha256']}: "
        "the archive changed after promotion"
    )
    assert promoted.keys("predictions/") == []


def test_an_archive_of_the_promoted_size_with_other_bytes_names_both_hashes(world: PredictWorld) -> None:
    document = world.promote(trained().model_json)
    original = world.read(document["artifact"]["key"], bucket=PRODUCTION_BUCKET)
    flipped = original[:-1] + bytes([original[-1] ^ 1])
    world.s3.put_object(Bucket=PRODUCTION_BUCKET, Key=document["artifact"]["key"], Body=flipped)
    with pytest.raises(ModelChecksumMismatch) as caught:
        world.invoke(preprocessed(3))
    assert str(caught.value) == (
        f"s3://{PRODUCTION_BUCKET}/models/churn/1.0.0/model.tar.gz has sha256 {hashlib.sha256(flipped).hexdigest()}, "
        f"the production pointer (sequence 1) promoted sha256 {document['artifact']['sha256']}: the archive changed "
        "after promotion"
    )


def test_an_archive_deleted_after_promotion_is_a_contract_error(world: PredictWorld) -> None:
    document = world.promote(trained().model_json)
    world.s3.delete_object(Bucket=PRODUCTION_BUCKET, Key=document["artifact"]["key"])
    with pytest.raises(
        ModelContractError,
        match=re.escape(f"names s3://{PRODUCTION_BUCKET}/models/churn/1.0.0/model.tar.gz, which does not exist"),
    ):
        world.invoke(preprocessed(3))


def test_a_batch_missing_a_model_column_names_the_column_and_the_header(world: PredictWorld) -> None:
    # A model trained when the dataset had a column the served batch no longer has.
    document = model_document()
    document["features"][3]["name"] = "support_tickets"
    world.promote(json.dumps(document))
    world.put_batch(batch_bytes(trained().batch_rows))
    with pytest.raises(ModelContractError) as caught:
        world.invoke(preprocessed(500))
    assert str(caught.value) == (
        f"the batch lacks the model's column(s) support_tickets; batch header: {','.join(BATCH_COLUMNS)}"
    )
    assert world.keys("predictions/") == [] and world.open_uploads() == []


def test_a_missing_batch_is_invalid_input_naming_it(world: PredictWorld) -> None:
    world.promote(trained().model_json)
    with pytest.raises(InvalidInferenceInput, match=f"the batch s3://{INFERENCE_BUCKET}/{LAYOUT.batch_key} does not"):
        world.invoke(preprocessed(3))


def test_a_batch_whose_header_is_not_the_served_columns_is_invalid_input(world: PredictWorld) -> None:
    world.promote(trained().model_json)
    world.put_batch(batch_bytes([row[1:] for row in trained().batch_rows], header=BATCH_COLUMNS[1:]))
    with pytest.raises(
        InvalidInferenceInput,
        match=r"the batch header signup_date,.* is not model churn's batch columns customer_id,signup_date,",
    ):
        world.invoke(preprocessed(500))


# ---- scoring -----------------------------------------------------------------------------------------------------


def test_scores_equal_the_training_code_and_scikit_learn(promoted: PredictWorld) -> None:
    model, test = trained().model, trained().test_table
    # The comparison must cover the imputed and the unknown-category paths, not only plain rows.
    assert "" in test.column("total_charges") and UNKNOWN_REGION in test.column("region")
    result = promoted.invoke(preprocessed(500, rejected=7, blank=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scikit-learn warns about the unknown category
        expected = trained().fitted.predict_proba(test)
    predictions = promoted.read_csv(LAYOUT.predictions_key)
    assert predictions[0] == ["customer_id", "score", "label", "model_version"]
    assert len(predictions) - 1 == 500
    positives = 0
    for prediction, row, record, sklearn_score in zip(
        predictions[1:], trained().batch_rows, test.records(), expected, strict=True
    ):
        reference = model_format.score(model, dict(zip(BATCH_COLUMNS, row, strict=True)))
        assert reference == model_format.score(model, record)
        customer, score, label, version = prediction
        assert (customer, version) == (row[0], "1.0.0")
        assert float(score) == reference and score == repr(reference)
        assert abs(float(score) - sklearn_score) < 1e-9
        assert label == ("true" if reference >= model.threshold else "false")
        positives += label == "true"
    assert result["rows"] == {
        "read": 509,
        "rejected": 7,
        "blank": 2,
        "scored": 500,
        "unscored": 0,
        "positive": positives,
    }
    assert 0 < positives < 500
    assert promoted.read_csv(LAYOUT.unscored_key) == [["row_number", "reason", *BATCH_COLUMNS]]


def test_rows_the_model_cannot_score_go_to_unscored_with_their_reason(promoted: PredictWorld) -> None:
    rows = [list(row) for row in trained().batch_rows[:40]]
    column = {name: index for index, name in enumerate(BATCH_COLUMNS)}
    rows[3][column["tenure_months"]] = ""  # required by the model: no value to impute
    rows[10][column["monthly_charges"]] = "12,50"
    rows[11][column["support_calls"]] = "nan"
    rows[12][column["monthly_charges"]] = " 45.5 "  # scored: padded numbers are numbers to the training code
    rows[20][column["total_charges"]] = "1e999"
    promoted.put_batch(batch_bytes(rows))
    result = promoted.invoke(preprocessed(40))
    unscored = promoted.read_csv(LAYOUT.unscored_key)
    assert unscored[1:] == [
        ["4", "column 'tenure_months' is empty (the model has no value to impute for it)", *rows[3]],
        ["11", "column 'monthly_charges' value '12,50' is not a number", *rows[10]],
        ["12", "column 'support_calls' value 'nan' is not a number", *rows[11]],
        ["21", "column 'total_charges' value inf is not a finite number", *rows[20]],
    ]
    predictions = promoted.read_csv(LAYOUT.predictions_key)[1:]
    scored_rows = [row for number, row in enumerate(rows, start=1) if number not in (4, 11, 12, 21)]
    assert [p[0] for p in predictions] == [row[0] for row in scored_rows]
    for prediction, row in zip(predictions, scored_rows, strict=True):
        assert float(prediction[1]) == model_format.score(trained().model, dict(zip(BATCH_COLUMNS, row, strict=True)))
    rows_out = result["rows"]
    assert (rows_out["scored"], rows_out["unscored"]) == (36, 4)
    assert rows_out["read"] == rows_out["rejected"] + rows_out["blank"] + rows_out["scored"] + rows_out["unscored"]


def test_the_summary_holds_the_result_and_the_models_provenance(promoted: PredictWorld) -> None:
    result = promoted.invoke(preprocessed(500))
    archive = promoted.read("models/churn/1.0.0/model.tar.gz", bucket=PRODUCTION_BUCKET)
    assert {key: value for key, value in result.items() if key != "rows"} == {
        "model": "churn",
        "model_version": "1.0.0",
        "model_sha256": hashlib.sha256(archive).hexdigest(),
        "execution_id": EXECUTION_ID,
        "run": RUN,
        "predictions_uri": f"s3://{INFERENCE_BUCKET}/predictions/{RUN}predictions.csv.gz",
        "unscored_uri": f"s3://{INFERENCE_BUCKET}/predictions/{RUN}unscored.csv.gz",
        "rejected_uri": f"s3://{INFERENCE_BUCKET}/preprocessed/{RUN}rejected.csv.gz",
        "summary_uri": f"s3://{INFERENCE_BUCKET}/predictions/{RUN}summary.json",
    }
    summary = json.loads(promoted.read(LAYOUT.summary_key))
    provenance = {key: summary.pop(key) for key in set(summary) - set(result)}
    assert summary == result
    assert provenance["promotion"]["sequence"] == 1 and provenance["promotion"]["approved_by"] == "reviewer"
    assert provenance["quality"] == {"metric": "auc", "value": 0.83, "threshold": 0.75}
    assert provenance["threshold"] == 0.5 and provenance["scoring_seconds"] >= 0
    assert provenance["input"]["uri"] == f"s3://{INFERENCE_BUCKET}/batches/today.csv"
    assert sorted(promoted.keys("predictions/")) == sorted(
        [LAYOUT.predictions_key, LAYOUT.unscored_key, LAYOUT.summary_key]
    )


def test_the_outputs_are_gzip_and_the_same_bytes_on_a_rerun(promoted: PredictWorld) -> None:
    promoted.invoke(preprocessed(500))
    first = promoted.read(LAYOUT.predictions_key), promoted.read(LAYOUT.unscored_key)
    promoted.invoke(preprocessed(500))
    assert (promoted.read(LAYOUT.predictions_key), promoted.read(LAYOUT.unscored_key)) == first
    assert first[0][:2] == b"\x1f\x8b" and first[0][4:8] == b"\x00\x00\x00\x00"  # gzip, mtime 0
    head = promoted.s3.head_object(Bucket=INFERENCE_BUCKET, Key=LAYOUT.predictions_key)
    assert head["ContentType"] == "application/gzip" and head["ServerSideEncryption"] == "aws:kms"


def test_an_empty_batch_gives_header_only_outputs(world: PredictWorld) -> None:
    world.promote(trained().model_json)
    world.put_batch(batch_bytes([]))
    result = world.invoke(preprocessed(0, rejected=3))
    assert result["rows"] == {"read": 3, "rejected": 3, "blank": 0, "scored": 0, "unscored": 0, "positive": 0}
    assert world.read_csv(LAYOUT.predictions_key) == [["customer_id", "score", "label", "model_version"]]


# ---- the production model: read afresh, cached by version -------------------------------------------------------


def test_a_warm_invocation_does_not_download_the_archive_again(promoted: PredictWorld) -> None:
    gets = promoted.count_gets()
    first = promoted.invoke(preprocessed(500))
    second = promoted.invoke(preprocessed(500))
    archive_key = "models/churn/1.0.0/model.tar.gz"
    assert gets.count(archive_key) == 1
    assert gets.count("models/churn/production.json") == 2  # the pointer is read every time
    assert first["model_version"] == second["model_version"] == "1.0.0"


def test_a_new_pointer_is_picked_up_by_the_next_invocation(promoted: PredictWorld) -> None:
    gets = promoted.count_gets()
    assert promoted.invoke(preprocessed(500))["model_version"] == "1.0.0"
    promoted.promote(json.dumps(model_document(intercept=trained().model.intercept + 1.0)), "1.1.0", sequence=2)
    result = promoted.invoke(preprocessed(500))
    assert result["model_version"] == "1.1.0"
    assert gets.count("models/churn/1.1.0/model.tar.gz") == 1
    predictions = promoted.read_csv(LAYOUT.predictions_key)[1:]
    assert {row[3] for row in predictions} == {"1.1.0"}
    summary = json.loads(promoted.read(LAYOUT.summary_key))
    assert summary["promotion"]["sequence"] == 2
    # A rollback to 1.0.0 is served from the cache: no second download of its archive.
    promoted.promote(trained().model_json, "1.0.0", sequence=3)
    assert promoted.invoke(preprocessed(500))["model_version"] == "1.0.0"
    assert gets.count("models/churn/1.0.0/model.tar.gz") == 1


# ---- nothing partial ---------------------------------------------------------------------------------------------


def test_a_batch_failing_midway_leaves_no_output(
    promoted: PredictWorld, small_parts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from predict import gzip_outputs, service

    # Parts are uploaded long before the failure: small ones, handed to the upload thread often.
    monkeypatch.setattr(service, "PART_SIZE", small_parts)
    monkeypatch.setattr(gzip_outputs, "HANDOFF_BYTES", 4 * small_parts)
    rows = trained().batch_rows * 40
    data = batch_bytes(rows)
    promoted.put_batch(data[: len(data) * 3 // 4])  # gzip cut off three quarters in
    parts: list[int] = []
    promoted.s3.meta.events.register("before-call.s3.UploadPart", lambda params, **_: parts.append(1))
    with pytest.raises(InvalidInferenceInput, match="the batch is not a complete gzip stream"):
        promoted.invoke(preprocessed(len(rows)))
    assert parts, "the failure came after parts were uploaded"
    assert promoted.keys("predictions/") == []
    assert promoted.open_uploads() == []


def test_counts_that_do_not_add_up_publish_nothing(promoted: PredictWorld) -> None:
    with pytest.raises(RuntimeError) as caught:
        promoted.invoke(preprocessed(499, rejected=1))  # the batch holds 500 rows
    assert str(caught.value) == (
        f"the counts do not add up for s3://{INFERENCE_BUCKET}/{LAYOUT.batch_key}: read 500, scored 500 + unscored 0, "
        "and preprocess wrote 499 valid rows"
    )
    assert promoted.keys("predictions/") == [] and promoted.open_uploads() == []


def test_a_corrupt_batch_is_invalid_input(promoted: PredictWorld) -> None:
    promoted.put_batch(b"customer_id,signup_date\nnot gzip\n")
    with pytest.raises(InvalidInferenceInput, match="the batch is not a complete gzip stream: Not a gzipped file"):
        promoted.invoke(preprocessed(1))
    promoted.put_batch(gzip.compress(b"\xff\xfe not utf-8", mtime=0))
    with pytest.raises(InvalidInferenceInput, match="the batch is not UTF-8 text"):
        promoted.invoke(preprocessed(1))


def test_a_failed_run_is_logged_with_its_error(promoted: PredictWorld, capsys: pytest.CaptureFixture[str]) -> None:
    promoted.put_pointer("{not json")
    with pytest.raises(ModelContractError):
        promoted.invoke(preprocessed(500))
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"ERROR"' in line]
    assert line["message"] == "prediction failed" and line["error_type"] == "ModelContractError"
    assert line["correlation_id"] == "req-0001" and line["execution_id"] == EXECUTION_ID


def test_a_run_logs_the_model_version_counts_and_cache_use(
    promoted: PredictWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    promoted.invoke(preprocessed(500))
    promoted.invoke(preprocessed(500))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    models = [line for line in lines if line["message"] == "production model"]
    assert [(m["model_version"], m["cache"]) for m in models] == [("1.0.0", "miss"), ("1.0.0", "hit")]
    scored = [line for line in lines if line["message"] == "batch scored"]
    assert scored[0]["rows"]["scored"] == 500 and scored[0]["scoring_seconds"] >= 0
