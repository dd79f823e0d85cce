"""The preprocess Lambda end to end against moto S3 (an SSE-KMS inference bucket): the batch's valid rows reach
batch.csv.gz unchanged, the bad ones rejected.csv.gz with their reasons, the counts add up and match the result;
every problem with the input is an InvalidInferenceInput naming the object and what is wrong, and leaves no
output behind (no object, no open multipart upload)."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from inference_support import (
    INFERENCE_BUCKET,
    MODEL,
    batch_bytes,
    batch_rows,
    bucket_keys,
    create_inference_bucket,
    csv_text,
    event,
    open_uploads,
    served_models_text,
)
from lambda_support import REGION, read_gzip_csv

from inference_common.contract import InvalidInferenceInput, RunLayout, parse_request, parse_served_models
from lambda_common.environment import ConfigurationError
from preprocess.service import Settings, StreamMismatch, compile_catalog, preprocess_batch
from sample_data import BATCH_COLUMNS, LABEL
from tests.moto_support import mock_aws_without_managed_policies, moto_client

CONTEXT = SimpleNamespace(aws_request_id="req-preprocess-1")
RUN = f"{MODEL}/exec-0001/"
LAYOUT = RunLayout(INFERENCE_BUCKET, RUN)


@pytest.fixture
def s3(aws_env: None) -> Iterator[Any]:
    """The moto S3 client, with the inference bucket."""
    with mock_aws_without_managed_policies():
        client = moto_client("s3", REGION)
        create_inference_bucket(client, moto_client("kms", REGION))
        yield client


@pytest.fixture
def served_models_path(tmp_path: Path) -> Path:
    path = tmp_path / "served_models.json"
    path.write_text(served_models_text(), encoding="utf-8")
    return path


@pytest.fixture
def preprocess_handler(s3: Any, served_models_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """preprocess.handler wired to the moto client and the served models of the local environment."""
    from preprocess import handler

    monkeypatch.setattr(handler, "s3", s3)
    monkeypatch.setenv("INFERENCE_BUCKET", INFERENCE_BUCKET)
    monkeypatch.setenv("SERVED_MODELS_PATH", str(served_models_path))
    return handler


def settings(*, part_size: int | None = None, max_object_mib: int | None = None) -> Settings:
    catalog = compile_catalog(parse_served_models(served_models_text(max_object_mib=max_object_mib)))
    return Settings(INFERENCE_BUCKET, catalog, **({"part_size": part_size} if part_size else {}))


def run_service(s3: Any, key: str, config: Settings | None = None) -> Any:
    """preprocess_batch of the batch at `key`, called directly (no handler)."""
    config = config or settings()
    request = parse_request(event(key), bucket=INFERENCE_BUCKET, served=config.catalog.models)
    return preprocess_batch(s3, request, config)


def upload(s3: Any, key: str, body: bytes) -> None:
    s3.put_object(Bucket=INFERENCE_BUCKET, Key=key, Body=body)


def read(s3: Any, key: str) -> bytes:
    return s3.get_object(Bucket=INFERENCE_BUCKET, Key=key)["Body"].read()


def padded(body: bytes, size: int) -> bytes:
    """`body` followed by blank lines (of spaces) up to exactly `size` bytes: the same rows, a chosen size."""
    lines, rest = divmod(size - len(body), 1024)
    return body + (b" " * 1023 + b"\n") * lines + b"\n" * rest


def assert_nothing_left(s3: Any) -> None:
    assert bucket_keys(s3, prefix="preprocessed/") == []
    assert open_uploads(s3) == []


def spy(client: Any, monkeypatch: pytest.MonkeyPatch, name: str) -> list[dict[str, Any]]:
    """Record the arguments of each `name` call of `client`, still making it."""
    calls: list[dict[str, Any]] = []
    original = getattr(client, name)

    def call(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(client, name, call)
    return calls


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


# --- batches that are preprocessed ----------------------------------------------------------------------


def test_valid_rows_go_to_the_batch_unchanged_and_bad_rows_to_rejected_with_reasons(s3, preprocess_handler):
    rows = batch_rows(300, bad_rows=40)
    records = [row.fields for row in rows]
    # Blank records (an empty line, a line of empty fields) are counted, and go to neither output.
    records[10:10] = [(), ("", "", "")]
    body = csv_text(BATCH_COLUMNS, records)
    upload(s3, "batches/2026-11-30/customers.csv", body)

    result = preprocess_handler.handler(event("batches/2026-11-30/customers.csv"), CONTEXT)

    valid = [list(row.fields) for row in rows if row.valid]
    invalid = [row.fields for row in rows if not row.valid]
    assert 0 < len(invalid) < len(rows)
    assert result == {
        "model": MODEL,
        "execution_id": "exec-0001",
        "run": RUN,
        "input": {
            "uri": f"s3://{INFERENCE_BUCKET}/batches/2026-11-30/customers.csv",
            "sha256": hashlib.sha256(body).hexdigest(),
            "bytes": len(body),
        },
        "batch_uri": f"s3://{INFERENCE_BUCKET}/preprocessed/{RUN}batch.csv.gz",
        "rejected_uri": f"s3://{INFERENCE_BUCKET}/preprocessed/{RUN}rejected.csv.gz",
        "rows": {"read": 302, "valid": len(valid), "rejected": len(invalid), "blank": 2},
    }
    assert result["rows"]["read"] == sum(result["rows"][name] for name in ("valid", "rejected", "blank"))
    assert read_gzip_csv(read(s3, LAYOUT.batch_key)) == [list(BATCH_COLUMNS), *valid]
    rejected = read_gzip_csv(read(s3, LAYOUT.rejected_key))
    assert rejected[0] == ["row_number", "reason", *BATCH_COLUMNS]
    assert [tuple(row[2:]) for row in rejected[1:]] == invalid
    assert all(row[1] for row in rejected[1:]), "every rejected row carries its reason"
    # Row numbers count records after the header, blank ones included.
    assert [records[int(row[0]) - 1] for row in rejected[1:]] == invalid
    assert bucket_keys(s3, prefix="preprocessed/") == [LAYOUT.batch_key, LAYOUT.rejected_key]
    assert open_uploads(s3) == []


def test_outputs_are_gzip_csv_encrypted_with_the_bucket_key(s3, preprocess_handler):
    upload(s3, "batches/b.csv", batch_bytes(20))
    preprocess_handler.handler(event("batches/b.csv"), CONTEXT)
    for key in (LAYOUT.batch_key, LAYOUT.rejected_key):
        head = s3.head_object(Bucket=INFERENCE_BUCKET, Key=key)
        assert head["ContentType"] == "application/gzip"
        assert head["ServerSideEncryption"] == "aws:kms"


def test_gzip_batch_gives_the_same_rows_and_the_fingerprint_of_the_stored_bytes(s3, preprocess_handler):
    plain = batch_bytes(120, bad_rows=12)
    zipped = gzip.compress(plain, mtime=0)
    upload(s3, "batches/a.csv", plain)
    upload(s3, "batches/a.csv.gz", zipped)

    from_plain = preprocess_handler.handler(event("batches/a.csv", execution_id="plain"), CONTEXT)
    from_gzip = preprocess_handler.handler(event("batches/a.csv.gz", execution_id="zipped"), CONTEXT)

    assert from_gzip["rows"] == from_plain["rows"]
    assert from_gzip["input"] == {
        "uri": f"s3://{INFERENCE_BUCKET}/batches/a.csv.gz",
        "sha256": hashlib.sha256(zipped).hexdigest(),
        "bytes": len(zipped),
    }
    for name in ("batch.csv.gz", "rejected.csv.gz"):
        # Deterministic gzip: the same rows give the same bytes, whatever the input's compression.
        assert read(s3, f"preprocessed/{MODEL}/zipped/{name}") == read(s3, f"preprocessed/{MODEL}/plain/{name}")


def test_output_prefix_places_the_run(s3, preprocess_handler):
    upload(s3, "batches/b.csv", batch_bytes(5))
    result = preprocess_handler.handler(event("batches/b.csv", output_prefix="daily/2026-11-30/"), CONTEXT)
    assert result["run"] == "daily/2026-11-30/exec-0001/"
    assert bucket_keys(s3, prefix="preprocessed/") == [
        "preprocessed/daily/2026-11-30/exec-0001/batch.csv.gz",
        "preprocessed/daily/2026-11-30/exec-0001/rejected.csv.gz",
    ]


def test_a_retried_invocation_writes_the_same_result_and_bytes(s3, preprocess_handler):
    upload(s3, "batches/b.csv", batch_bytes(50, bad_rows=5))
    first = preprocess_handler.handler(event("batches/b.csv"), CONTEXT)
    batch = read(s3, LAYOUT.batch_key)
    assert preprocess_handler.handler(event("batches/b.csv"), CONTEXT) == first
    assert read(s3, LAYOUT.batch_key) == batch


def test_large_outputs_are_multipart_uploads_with_every_row(s3, small_parts, monkeypatch):
    rows = batch_rows(2000, bad_rows=300)
    upload(s3, "batches/big.csv", csv_text(BATCH_COLUMNS, [row.fields for row in rows]))
    created = spy(s3, monkeypatch, "create_multipart_upload")
    result = run_service(s3, "batches/big.csv", settings(part_size=small_parts))
    assert {call["Key"] for call in created} == {LAYOUT.batch_key, LAYOUT.rejected_key}
    assert read_gzip_csv(read(s3, LAYOUT.batch_key))[1:] == [list(row.fields) for row in rows if row.valid]
    assert len(read_gzip_csv(read(s3, LAYOUT.rejected_key))) - 1 == result.rows_rejected
    assert (result.rows_read, result.rows_valid) == (2000, sum(row.valid for row in rows))
    assert open_uploads(s3) == []


def test_logs_carry_the_request_the_counts_and_the_rejections(s3, preprocess_handler, capsys):
    upload(s3, "batches/b.csv", batch_bytes(40, bad_rows=8))
    result = preprocess_handler.handler(event("batches/b.csv"), CONTEXT)

    lines = log_lines(capsys)
    by_message = {line["message"]: line for line in lines}
    assert all(line["correlation_id"] == "req-preprocess-1" and line["service"] == "preprocess" for line in lines)
    assert by_message["request"]["input_uri"] == f"s3://{INFERENCE_BUCKET}/batches/b.csv"
    assert by_message["request"]["run"] == RUN and by_message["request"]["model"] == MODEL
    assert by_message["batch preprocessed"]["rows"] == result["rows"]
    assert by_message["rows rejected"]["level"] == "WARNING"
    assert by_message["rows rejected"]["rows_rejected"] == result["rows"]["rejected"] > 0
    assert by_message["rows rejected"]["rejected_uri"] == result["rejected_uri"]


# --- input problems: InvalidInferenceInput, nothing left behind --------------------------------------------


def test_missing_batch_names_the_object(s3, preprocess_handler, capsys):
    with pytest.raises(InvalidInferenceInput, match=rf"batch s3://{INFERENCE_BUCKET}/batches/gone\.csv does not exist"):
        preprocess_handler.handler(event("batches/gone.csv"), CONTEXT)
    assert_nothing_left(s3)
    refused = [line for line in log_lines(capsys) if line["message"] == "batch refused"]
    assert refused and "does not exist" in refused[0]["error"] and refused[0]["level"] == "WARNING"


def test_denied_head_of_an_absent_batch_is_a_missing_batch(s3, monkeypatch):
    # With s3:ListBucket limited to a prefix, S3 answers 403 for a missing key: listing settles it.
    def denied(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")

    monkeypatch.setattr(s3, "head_object", denied)
    with pytest.raises(InvalidInferenceInput, match=r"batches/gone\.csv does not exist"):
        run_service(s3, "batches/gone.csv")


def test_denied_head_of_a_present_batch_propagates_the_denial(s3, monkeypatch):
    upload(s3, "batches/b.csv", batch_bytes(3))

    def denied(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")

    monkeypatch.setattr(s3, "head_object", denied)
    with pytest.raises(ClientError, match="Forbidden"):
        run_service(s3, "batches/b.csv")


def test_header_with_columns_swapped_lists_the_expected_columns(s3, preprocess_handler):
    swapped = (BATCH_COLUMNS[1], BATCH_COLUMNS[0], *BATCH_COLUMNS[2:])
    upload(s3, "batches/b.csv", csv_text(swapped, [row.fields for row in batch_rows(5)]))
    with pytest.raises(InvalidInferenceInput) as raised:
        preprocess_handler.handler(event("batches/b.csv"), CONTEXT)
    message = str(raised.value)
    assert f"batch s3://{INFERENCE_BUCKET}/batches/b.csv" in message and "(bad_header)" in message
    assert "header column 1 is 'signup_date'" in message
    assert ",".join(BATCH_COLUMNS) in message
    assert_nothing_left(s3)


def test_batch_with_the_label_column_is_a_bad_header_that_names_the_label(s3, preprocess_handler):
    upload(s3, "batches/b.csv", batch_bytes(5, with_label=True))
    with pytest.raises(InvalidInferenceInput) as raised:
        preprocess_handler.handler(event("batches/b.csv"), CONTEXT)
    message = str(raised.value)
    assert "(bad_header)" in message and "the header has 11 columns" in message
    assert f"without the label {LABEL!r}" in message
    assert f"expected: {','.join(BATCH_COLUMNS)})" in message
    assert_nothing_left(s3)


def test_header_too_long_to_read_still_lists_the_expected_columns(s3):
    header = ("x" * (300 * 1024), *BATCH_COLUMNS[1:])  # a field over max_row_kib (256): csv cannot return it
    upload(s3, "batches/b.csv", csv_text(header, [row.fields for row in batch_rows(2)]))
    with pytest.raises(InvalidInferenceInput) as raised:
        run_service(s3, "batches/b.csv")
    message = str(raised.value)
    assert "(bad_header): a header field is over the row limit" in message
    assert message.endswith(f"without the label {LABEL!r}: {','.join(BATCH_COLUMNS)}")
    assert_nothing_left(s3)


def test_oversized_batch_is_refused_before_it_is_read(s3, monkeypatch):
    limit = 1024 * 1024
    upload(s3, "batches/big.csv", padded(batch_bytes(10), limit + 1))
    reads = spy(s3, monkeypatch, "get_object")
    with pytest.raises(InvalidInferenceInput) as raised:
        run_service(s3, "batches/big.csv", settings(max_object_mib=1))
    assert str(raised.value) == (
        f"batch s3://{INFERENCE_BUCKET}/batches/big.csv is {limit + 1} bytes, over the limit of {limit} bytes for "
        "model churn (max_object_mib 1 of dataset churn); split it into smaller batches"
    )
    assert reads == []
    assert_nothing_left(s3)


def test_batch_of_exactly_the_limit_is_read(s3):
    limit = 1024 * 1024
    upload(s3, "batches/edge.csv", padded(batch_bytes(10), limit))
    result = run_service(s3, "batches/edge.csv", settings(max_object_mib=1))
    assert (result.input_bytes, result.rows_valid, result.rows_rejected) == (limit, 10, 0)


def test_batch_of_only_bad_rows_keeps_the_rejected_file_and_says_where(s3, preprocess_handler):
    bad = [row.fields for row in batch_rows(200, bad_rows=200) if not row.valid]
    upload(s3, "batches/bad.csv", csv_text(BATCH_COLUMNS, bad))
    with pytest.raises(InvalidInferenceInput) as raised:
        preprocess_handler.handler(event("batches/bad.csv"), CONTEXT)
    rejected_uri = f"s3://{INFERENCE_BUCKET}/{LAYOUT.rejected_key}"
    assert str(raised.value) == (
        f"batch s3://{INFERENCE_BUCKET}/batches/bad.csv has no valid row, nothing to predict: {len(bad)} rows read, "
        f"{len(bad)} rejected, 0 blank; the rejected rows and their reasons are in {rejected_uri}"
    )
    assert bucket_keys(s3, prefix="preprocessed/") == [LAYOUT.rejected_key]
    rejected = read_gzip_csv(read(s3, LAYOUT.rejected_key))
    assert [tuple(row[2:]) for row in rejected[1:]] == bad and all(row[1] for row in rejected[1:])
    assert open_uploads(s3) == []


def test_batch_with_a_header_and_no_row_has_nothing_to_predict(s3):
    upload(s3, "batches/header-only.csv", csv_text(BATCH_COLUMNS, [(), ()]))
    with pytest.raises(
        InvalidInferenceInput, match="has no valid row, nothing to predict: 2 rows read, 0 rejected, 2 "
    ):
        run_service(s3, "batches/header-only.csv")


TRUNCATED_GZIP = gzip.compress(batch_bytes(3000), mtime=0)


@pytest.mark.parametrize(
    ("key", "body", "code", "detail"),
    [
        ("batches/b.csv", b"", "empty", "the object is empty"),
        ("batches/b.csv.gz", batch_bytes(5), "not_gzip", "the name ends in .gz but the content is not gzip"),
        ("batches/b.csv.gz", TRUNCATED_GZIP[: len(TRUNCATED_GZIP) // 2], "corrupt_gzip", "corrupt or truncated"),
        ("batches/b.csv", batch_bytes(5) + "CUST-00000099,Zürich\n".encode("latin-1"), "not_utf8", "0xfc"),
        ("batches/b.csv", batch_bytes(1) + bytes(range(128)), "not_csv", "NUL bytes"),
        ("batches/b.csv", batch_bytes(3) + b'CUST-00000004,"2024-01-01,3\n', "not_csv", "not parseable as CSV"),
    ],
    ids=["empty", "not_gzip", "truncated_gzip", "not_utf8", "nul_bytes", "unterminated_quote"],
)
def test_unreadable_batch_says_what_is_wrong_and_leaves_nothing(s3, preprocess_handler, key, body, code, detail):
    upload(s3, key, body)
    with pytest.raises(InvalidInferenceInput) as raised:
        preprocess_handler.handler(event(key), CONTEXT)
    message = str(raised.value)
    assert message.startswith(
        f"batch s3://{INFERENCE_BUCKET}/{key} cannot be read as a batch for model churn ({code}): "
    )
    assert detail in message
    assert_nothing_left(s3)


def test_batch_overwritten_between_head_and_read_is_refused(s3, monkeypatch):
    upload(s3, "batches/b.csv", batch_bytes(5))
    original = s3.head_object

    def head_then_overwrite(**kwargs: Any) -> Any:
        response = original(**kwargs)
        upload(s3, "batches/b.csv", batch_bytes(6))
        return response

    monkeypatch.setattr(s3, "head_object", head_then_overwrite)
    with pytest.raises(InvalidInferenceInput, match=r"batches/b\.csv was overwritten while the run started"):
        run_service(s3, "batches/b.csv")
    assert_nothing_left(s3)


def test_request_problems_are_refused_before_anything_is_read(s3, preprocess_handler, monkeypatch, capsys):
    heads = spy(s3, monkeypatch, "head_object")
    with pytest.raises(InvalidInferenceInput, match="model 'fraud' is not served here; served: churn"):
        preprocess_handler.handler(event("batches/b.csv", model="fraud"), CONTEXT)
    assert heads == []
    assert [line["message"] for line in log_lines(capsys)] == ["request refused"]


# --- failures while reading: aborted, and the error propagates --------------------------------------------


class _FailingBody:
    """A GetObject body that raises a network error once `after` bytes were served."""

    def __init__(self, inner: Any, after: int) -> None:
        self.inner, self.after, self.served = inner, after, 0

    def read(self, size: int = -1) -> bytes:
        if self.served >= self.after:
            raise ReadTimeoutError(endpoint_url="https://s3.amazonaws.com")
        data = self.inner.read(min(size, self.after - self.served) if size >= 0 else self.after - self.served)
        self.served += len(data)
        return data

    def close(self) -> None:
        self.inner.close()


def test_network_error_mid_read_aborts_both_outputs_and_propagates(s3, small_parts, monkeypatch):
    # Over a few MiB: the reader takes 1 MiB at a time, so the error comes after rows were written.
    body = batch_bytes(40_000, bad_rows=4_000)
    upload(s3, "batches/b.csv", body)
    original = s3.get_object

    def failing_get(**kwargs: Any) -> Any:
        response = original(**kwargs)
        return {**response, "Body": _FailingBody(response["Body"], after=len(body) * 2 // 3)}

    monkeypatch.setattr(s3, "get_object", failing_get)
    created = spy(s3, monkeypatch, "create_multipart_upload")
    with pytest.raises(ReadTimeoutError):
        run_service(s3, "batches/b.csv", settings(part_size=16 * small_parts))
    assert {call["Key"] for call in created} == {LAYOUT.batch_key, LAYOUT.rejected_key}, "both uploads had started"
    assert_nothing_left(s3)


def test_unreadable_tail_found_after_parts_were_uploaded_aborts_both_outputs(s3, small_parts, monkeypatch):
    body = batch_bytes(3000, bad_rows=300) + "CUST-00009999,Zürich\n".encode("latin-1")
    upload(s3, "batches/b.csv", body)
    created = spy(s3, monkeypatch, "create_multipart_upload")
    with pytest.raises(InvalidInferenceInput, match=r"\(not_utf8\)"):
        run_service(s3, "batches/b.csv", settings(part_size=small_parts))
    assert created, "the clean output had already started a multipart upload"
    assert_nothing_left(s3)


def test_upload_error_propagates_unchanged_and_leaves_nothing(s3, monkeypatch):
    upload(s3, "batches/b.csv", batch_bytes(20))
    original = s3.put_object

    def failing_put(**kwargs: Any) -> Any:
        if kwargs["Key"].startswith("preprocessed/"):
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "reduce your request rate"}}, "PutObject")
        return original(**kwargs)

    monkeypatch.setattr(s3, "put_object", failing_put)
    with pytest.raises(ClientError, match="SlowDown"):
        run_service(s3, "batches/b.csv")
    assert_nothing_left(s3)


def test_counts_that_do_not_add_up_publish_nothing(s3, monkeypatch):
    from dataclasses import replace

    from preprocess import service

    real = service.process_csv
    monkeypatch.setattr(service, "process_csv", lambda *args, **kwargs: replace(real(*args, **kwargs), rows_read=99))
    upload(s3, "batches/b.csv", batch_bytes(20))
    with pytest.raises(StreamMismatch, match=r"rows_read 99 != valid 20 \+ rejected 0 \+ blank 0"):
        run_service(s3, "batches/b.csv")
    assert_nothing_left(s3)


# --- configuration ----------------------------------------------------------------------------------------


def test_missing_inference_bucket_setting_names_the_variable(preprocess_handler, monkeypatch):
    monkeypatch.delenv("INFERENCE_BUCKET")
    with pytest.raises(ConfigurationError, match="INFERENCE_BUCKET is not set"):
        preprocess_handler.handler(event("batches/b.csv"), CONTEXT)


def test_unreadable_served_models_file_says_how_to_provide_it(preprocess_handler, monkeypatch, tmp_path):
    monkeypatch.setenv("SERVED_MODELS_PATH", str(tmp_path / "absent.json"))
    with pytest.raises(ConfigurationError, match=r"absent\.json.*set SERVED_MODELS_PATH"):
        preprocess_handler.handler(event("batches/b.csv"), CONTEXT)


def test_served_models_default_to_the_file_beside_the_contract(preprocess_handler, monkeypatch):
    import inference_common

    loaded = []
    monkeypatch.setattr(preprocess_handler, "_catalog", lambda path: loaded.append(path))
    preprocess_handler.settings_from_env({"INFERENCE_BUCKET": INFERENCE_BUCKET})
    assert loaded == [str(Path(inference_common.__file__).resolve().parent / "served_models.json")]
