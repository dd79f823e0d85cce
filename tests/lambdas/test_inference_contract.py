"""The inference contract (inference_common.contract): every invalid execution input is refused with a message
naming the field, the defaults place the run, the Preprocessed document round-trips and checks its counts, and a
malformed served_models.json says what is wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest
from inference_support import INFERENCE_BUCKET, MODEL, event, served_models_text

from inference_common.contract import (
    MAX_OUTPUT_PREFIX_CHARS,
    InvalidInferenceInput,
    Preprocessed,
    RunLayout,
    parse_request,
    parse_served_models,
)

SERVED = parse_served_models(served_models_text())
BATCH = "batches/2026-11-30/customers.csv"


def parse(document: Any) -> Any:
    return parse_request(document, bucket=INFERENCE_BUCKET, served=SERVED)


def refused(document: Any) -> str:
    with pytest.raises(InvalidInferenceInput) as raised:
        parse(document)
    return str(raised.value)


# --- parse_request ----------------------------------------------------------------------------------------


def test_defaults_put_the_run_under_the_model_and_the_execution():
    request = parse(event(BATCH, execution_id="run-42"))
    assert request.model is SERVED[MODEL]
    assert (request.source.bucket, request.source.key) == (INFERENCE_BUCKET, BATCH)
    assert request.execution_id == "run-42"
    assert request.layout == RunLayout(INFERENCE_BUCKET, f"{MODEL}/run-42/")
    assert request.layout.batch_key == f"preprocessed/{MODEL}/run-42/batch.csv.gz"
    assert request.layout.rejected_key == f"preprocessed/{MODEL}/run-42/rejected.csv.gz"
    assert request.layout.predictions_key == f"predictions/{MODEL}/run-42/predictions.csv.gz"
    assert request.layout.summary_key == f"predictions/{MODEL}/run-42/summary.json"


def test_output_prefix_is_the_folder_of_the_run():
    request = parse(event(f"{BATCH}.gz", output_prefix="daily/dt=2026-11-30/"))
    assert request.layout.run == "daily/dt=2026-11-30/exec-0001/"
    assert request.source.key.endswith(".csv.gz")


@pytest.mark.parametrize("document", [None, [], "churn", {"execution_id": "e"}, {"request": ["churn"]}])
def test_an_event_that_is_not_an_object_with_a_request_object_is_refused(document):
    assert refused(document) == (
        'the event must be {"request": <execution input object>, "execution_id": <execution name>}'
    )


@pytest.mark.parametrize("execution_id", [None, "", "has space", "-leading-dash", "x" * 81, 7, "a/b"])
def test_a_bad_execution_id_is_named(execution_id):
    document = event(BATCH)
    document["execution_id"] = execution_id
    assert refused(document).startswith(f"execution_id {execution_id!r} must be 1-80 letters, digits")


def test_an_execution_id_of_80_characters_is_accepted():
    assert parse(event(BATCH, execution_id="x" * 80)).layout.run == f"{MODEL}/{'x' * 80}/"


def test_an_unknown_field_is_named_with_the_known_ones():
    assert refused(event(BATCH, outputPrefix="x/", extra=1)) == (
        "unknown input field(s) extra, outputPrefix; known: model, input_uri, output_prefix"
    )


@pytest.mark.parametrize("model", ["fraud", None, ["churn"], {"name": "churn"}, 1])
def test_a_model_that_is_not_served_lists_the_served_ones(model):
    assert refused(event(BATCH, model=model)) == f"model {model!r} is not served here; served: churn"


def test_a_missing_model_is_named():
    document = event(BATCH)
    del document["request"]["model"]
    assert refused(document) == "model None is not served here; served: churn"


def test_a_missing_input_uri_says_where_batches_go():
    document = event(BATCH)
    del document["request"]["input_uri"]
    assert refused(document) == f"input_uri is missing: s3://{INFERENCE_BUCKET}/batches/<key>.csv"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (None, "input_uri must be a string s3://<bucket>/<key>, not NoneType"),
        (["s3://b/k.csv"], "input_uri must be a string s3://<bucket>/<key>, not list"),
        (
            "https://bucket/batches/a.csv",
            "input_uri 'https://bucket/batches/a.csv' is not an S3 URI s3://<bucket>/<key>",
        ),
        (f"s3://{INFERENCE_BUCKET}", f"input_uri 's3://{INFERENCE_BUCKET}' is not an S3 URI s3://<bucket>/<key>"),
        (f"s3://{INFERENCE_BUCKET}/", f"input_uri 's3://{INFERENCE_BUCKET}/' is not an S3 URI s3://<bucket>/<key>"),
        ("s3://Bad_Bucket/batches/a.csv", "input_uri 's3://Bad_Bucket/batches/a.csv' is not an S3 URI"),
    ],
)
def test_an_input_uri_that_is_not_an_s3_uri_is_named(uri, message):
    document = event(BATCH)
    document["request"]["input_uri"] = uri
    assert refused(document).startswith(message)


@pytest.mark.parametrize(
    "uri",
    [
        f"s3://another-bucket/{BATCH}",
        f"s3://{INFERENCE_BUCKET}/incoming/a.csv",
        f"s3://{INFERENCE_BUCKET}/preprocessed/churn/x/batch.csv.gz",
        f"s3://{INFERENCE_BUCKET}/Batches/a.csv",
    ],
)
def test_an_input_uri_outside_the_batch_folder_of_the_bucket_is_refused(uri):
    document = event(BATCH)
    document["request"]["input_uri"] = uri
    assert refused(document) == (
        f"input_uri {uri!r} is outside the batch folder; upload batches to s3://{INFERENCE_BUCKET}/batches/"
    )


@pytest.mark.parametrize("key", ["batches/a.json", "batches/a.csv.zip", "batches/a.CSV", "batches/a.gz", "batches/"])
def test_an_input_uri_that_is_not_a_csv_object_is_refused(key):
    assert refused(event(key)) == f"input_uri 's3://{INFERENCE_BUCKET}/{key}' must name a .csv or .csv.gz object"


@pytest.mark.parametrize(
    "prefix",
    [
        "/daily/",  # absolute
        "daily/../other/",  # climbs out
        "daily//x/",  # empty segment
        "daily",  # not a folder
        "",  # no folder at all
        ".hidden/",  # segment starting with a dot
        "daily/a b/",  # space
        "daily\\x/",  # backslash
    ],
)
def test_a_bad_output_prefix_is_named(prefix):
    assert refused(event(BATCH, output_prefix=prefix)).startswith(
        f"output_prefix {prefix!r} must be a relative folder ending in '/'"
    )


def test_an_output_prefix_that_is_not_a_string_is_named():
    assert refused(event(BATCH, output_prefix=None)) == (
        "output_prefix must be a string such as 'daily/2026-11-30/', not NoneType"
    )


def test_an_output_prefix_over_the_length_limit_is_refused_and_one_at_it_accepted():
    at_limit = "a" * (MAX_OUTPUT_PREFIX_CHARS - 1) + "/"
    assert parse(event(BATCH, output_prefix=at_limit)).layout.run == f"{at_limit}exec-0001/"
    too_long = "a" * MAX_OUTPUT_PREFIX_CHARS + "/"
    assert refused(event(BATCH, output_prefix=too_long)) == (
        f"output_prefix is {MAX_OUTPUT_PREFIX_CHARS + 1} characters long; at most {MAX_OUTPUT_PREFIX_CHARS}"
    )


# --- Preprocessed -----------------------------------------------------------------------------------------

RESULT = Preprocessed(
    model=MODEL,
    execution_id="exec-0001",
    run=f"{MODEL}/exec-0001/",
    input_uri=f"s3://{INFERENCE_BUCKET}/{BATCH}",
    input_sha256="ab" * 32,
    input_bytes=1234,
    rows_read=10,
    rows_valid=6,
    rows_rejected=3,
    rows_blank=1,
)


def test_preprocessed_round_trips_through_its_document():
    document = RESULT.to_dict(INFERENCE_BUCKET)
    assert document["batch_uri"] == f"s3://{INFERENCE_BUCKET}/preprocessed/{MODEL}/exec-0001/batch.csv.gz"
    assert document["rejected_uri"] == f"s3://{INFERENCE_BUCKET}/preprocessed/{MODEL}/exec-0001/rejected.csv.gz"
    assert document["rows"] == {"read": 10, "valid": 6, "rejected": 3, "blank": 1}
    # The state machine passes it on as JSON.
    assert Preprocessed.from_dict(json.loads(json.dumps(document))) == RESULT


def test_preprocessed_counts_that_do_not_add_up_are_refused():
    document = RESULT.to_dict(INFERENCE_BUCKET)
    document["rows"]["valid"] = 7
    with pytest.raises(InvalidInferenceInput, match="the predict event's row counts do not add up"):
        Preprocessed.from_dict(document)


@pytest.mark.parametrize("count", [-1, 1.0, "6", True, None])
def test_preprocessed_counts_must_be_non_negative_integers(count):
    document = RESULT.to_dict(INFERENCE_BUCKET)
    document["rows"]["valid"] = count
    with pytest.raises(InvalidInferenceInput, match=r"row counts .* must be non-negative integers"):
        Preprocessed.from_dict(document)


def test_preprocessed_missing_field_is_named():
    document = RESULT.to_dict(INFERENCE_BUCKET)
    del document["input"]["sha256"]
    with pytest.raises(InvalidInferenceInput, match=r"the predict event is not a preprocess result: KeyError.*sha256"):
        Preprocessed.from_dict(document)


@pytest.mark.parametrize(("field", "value"), [("model", ["churn"]), ("execution_id", "../x"), ("execution_id", 7)])
def test_preprocessed_with_a_model_or_execution_id_of_the_wrong_kind_is_refused(field, value):
    document = RESULT.to_dict(INFERENCE_BUCKET)
    document[field] = value
    with pytest.raises(InvalidInferenceInput, match="must be a name and its execution_id"):
        Preprocessed.from_dict(document)


@pytest.mark.parametrize("run", ["/abs/exec/", "churn/../x/", "churn/exec", 3])
def test_preprocessed_with_a_run_that_is_not_a_run_folder_is_refused(run):
    document = RESULT.to_dict(INFERENCE_BUCKET)
    document["run"] = run
    with pytest.raises(InvalidInferenceInput, match=r"run .* (is not a run folder|must be a relative folder)"):
        Preprocessed.from_dict(document)


# --- served_models.json -----------------------------------------------------------------------------------


def test_served_models_hold_the_training_columns_without_the_label():
    model = SERVED[MODEL]
    assert (model.id_column, model.label) == ("customer_id", "churned")
    assert "churned" not in model.columns and model.columns[0] == "customer_id" and len(model.columns) == 10


def served_document(**changes: Any) -> dict[str, Any]:
    document = json.loads(served_models_text())
    document["models"][MODEL].update(changes)
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"format_version": 2, "models": {}}, "served_models.json must have format_version 1"),
        ([], "served_models.json must have format_version 1"),
        ({"format_version": 1, "models": {}}, "served_models.json declares no model"),
        ({"format_version": 1}, "served_models.json declares no model"),
        (
            served_document(id_column="account"),
            "served_models.json: model 'churn': ValueError(\"id_column 'account' is not a batch column\")",
        ),
        (served_document(dataset={"name": "churn"}), "served_models.json: model 'churn': KeyError('columns')"),
        ({"format_version": 1, "models": {"churn": ["customer_id"]}}, "served_models.json: model 'churn': TypeError"),
    ],
    ids=["format_version", "not_an_object", "no_models", "models_missing", "id_column", "no_columns", "entry_list"],
)
def test_malformed_served_models_say_what_is_wrong(document, message):
    with pytest.raises(ValueError) as raised:
        parse_served_models(json.dumps(document))
    assert str(raised.value).startswith(message)


def test_served_models_entry_missing_a_key_names_the_model_and_key():
    document = served_document()
    del document["models"][MODEL]["label"]
    with pytest.raises(ValueError, match=r"served_models.json: model 'churn': KeyError\('label'\)"):
        parse_served_models(json.dumps(document))
