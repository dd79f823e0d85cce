"""The data-processor handler end to end against moto S3 (SSE-KMS buckets): every kind of bad input,
duplicate delivery, encoded keys, gzip, transient errors. Each processed case checks that the counts add
up and that every input row is in exactly one output; each case checks that the original is still there."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from lambda_support import PROCESSED_BUCKET, RAW_BUCKET, SEQUENCER, Buckets, invoke, read_gzip_csv, s3_event

from lambda_common.environment import ConfigurationError
from sample_data import COLUMNS, bad_file_bytes, csv_bytes, generate_rows


def upload_and_invoke(buckets: Buckets, handler_module: Any, key: str, body: bytes) -> dict[str, Any]:
    version = buckets.put_raw(key, body)
    (result,) = invoke(handler_module, s3_event((key, version)))
    return result


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def assert_original_kept(buckets: Buckets, key: str, body: bytes) -> None:
    assert buckets.read(key, bucket=buckets.raw) == body


def is_blank(record: list[str]) -> bool:
    return not "".join(record).strip()


def assert_nothing_lost(buckets: Buckets, result: dict[str, Any], input_rows: list[list[str]]) -> None:
    """Counts add up, and the clean rows plus the rejected rows (at their row numbers) rebuild the input,
    blank records aside."""
    counts = ("rows_read", "rows_written", "rows_quarantined", "rows_blank")
    read, written, quarantined, blank = (result[name] for name in counts)
    assert read == written + quarantined + blank == len(input_rows) - 1
    assert blank == sum(map(is_blank, input_rows[1:]))
    clean_key, rejected_key, manifest_key = result["outputs"]
    clean, rejected = buckets.read_csv(clean_key), buckets.read_csv(rejected_key)
    assert clean[0] == list(COLUMNS)
    assert rejected[0] == ["row_number", "reason", *COLUMNS]
    assert len(clean) - 1 == written and len(rejected) - 1 == quarantined
    by_number = {int(row[0]): row[2:] for row in rejected[1:]}
    assert all(row[1] for row in rejected[1:]), "every rejected row carries its reason"
    clean_rows = iter(clean[1:])
    for number, record in enumerate(input_rows[1:], start=1):
        if number in by_number:
            assert by_number[number] == record
        elif not is_blank(record):
            assert next(clean_rows) == record
    assert next(clean_rows, None) is None
    manifest = json.loads(buckets.read(manifest_key))
    assert manifest["rows_read"] == manifest["rows_written"] + manifest["rows_quarantined"] + manifest["rows_blank"]
    assert tuple(manifest[name] for name in counts) == (read, written, quarantined, blank)


def churn_csv(rows: int, *, bad_rows: int = 0, seed: int = 3) -> tuple[bytes, list[str]]:
    """A churn CSV and the defect kind of each row (None when clean)."""
    samples = list(generate_rows(rows, seed, bad_rows=bad_rows))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(sample.fields for sample in samples)
    return buffer.getvalue().encode("utf-8"), [sample.defect for sample in samples]


# --- processed objects --------------------------------------------------------------------------------


def test_bad_rows_of_every_kind_go_to_quarantine_with_their_reason(buckets, handler_module):
    body, defects = churn_csv(400, bad_rows=40)
    key = "incoming/churn/2025/06/export.csv"
    result = upload_and_invoke(buckets, handler_module, key, body)

    assert result["status"] == "processed"
    assert (result["rows_read"], result["rows_written"], result["rows_quarantined"]) == (400, 360, 40)
    assert_nothing_lost(buckets, result, rows_of(body))
    rejected = buckets.read_csv(result["outputs"][1])[1:]
    assert [int(row[0]) for row in rejected] == [i + 1 for i, kind in enumerate(defects) if kind]
    reasons = {defects[int(row[0]) - 1]: row[1] for row in rejected}
    assert reasons.keys() == {
        "missing_required",
        "out_of_range",
        "not_a_number",
        "bad_enum",
        "bad_date",
        "wrong_field_count",
        "bad_bool",
        "bad_pattern",
    }
    assert "required value is missing" in reasons["missing_required"]
    assert reasons["out_of_range"].startswith("tenure_months: ")
    assert reasons["not_a_number"].startswith("monthly_charges: ") and "is not a number" in reasons["not_a_number"]
    assert reasons["bad_enum"].startswith("contract: ") and "is not one of month-to-month" in reasons["bad_enum"]
    assert reasons["bad_date"].startswith("signup_date: ")
    assert reasons["wrong_field_count"] in ("expected 11 fields, got 9", "expected 11 fields, got 12")
    assert reasons["bad_bool"].startswith("churned: ")
    assert reasons["bad_pattern"].startswith("customer_id: ")
    assert_original_kept(buckets, key, body)


def test_outputs_and_manifest_use_the_documented_keys_and_fingerprint(buckets, handler_module):
    body, _ = churn_csv(50, bad_rows=5)
    key = "incoming/churn/crm/export.csv"
    version = buckets.put_raw(key, body)
    head = buckets.s3.head_object(Bucket=RAW_BUCKET, Key=key)
    day = head["LastModified"].strftime("%Y-%m-%d")
    (result,) = invoke(handler_module, s3_event((key, version)))

    assert result["outputs"] == [
        f"processed/churn/dt={day}/crm--export/{version}.csv.gz",
        f"quarantine/churn/dt={day}/crm--export/{version}.rejected.csv.gz",
        f"processed/churn/dt={day}/crm--export/{version}.manifest.json",
    ]
    assert result["index"] == "index/churn/crm/export.csv.json" and result["removed"] == []
    assert buckets.processed_keys() == sorted([*result["outputs"], result["index"]])
    assert (result["source_bucket"], result["source_key"], result["version_id"]) == (RAW_BUCKET, key, version)
    assert result["etag"] == head["ETag"].strip('"') and result["reason"] is None
    manifest = json.loads(buckets.read(result["outputs"][2]))
    source = {
        "bucket": RAW_BUCKET,
        "key": key,
        "version_id": version,
        "etag": result["etag"],
        "size": len(body),
        "last_modified": head["LastModified"].isoformat().replace("+00:00", "Z"),
        "sequencer": SEQUENCER,
    }
    assert manifest["source"] == {**source, "sha256": hashlib.sha256(body).hexdigest(), "gzip": False}
    assert (manifest["version"], manifest["index"]) == (version, result["index"])
    assert manifest["dataset"] == "churn" and manifest["schema"]["columns"] == list(COLUMNS)
    assert manifest["outputs"] == [
        {"kind": "processed", "bucket": PROCESSED_BUCKET, "key": result["outputs"][0], "rows": 45},
        {"kind": "rejected", "bucket": PROCESSED_BUCKET, "key": result["outputs"][1], "rows": 5},
    ]
    assert manifest["processed_at"].endswith("Z")
    index = json.loads(buckets.read(result["index"]))
    assert index.pop("committed_at").endswith("Z")
    assert index == {
        "format_version": 1,
        "source": source,
        "version": version,
        "dataset": "churn",
        "status": "processed",
        "reason_code": None,
        "outputs": result["outputs"],
        "manifest": result["outputs"][2],
        "report": None,
        "rows_read": 50,
        "rows_written": 45,
        "rows_quarantined": 5,
        "rows_blank": 0,
    }


def test_gzip_input_is_read_through_gzip_and_hashed_as_stored(buckets, handler_module):
    plain, _ = churn_csv(300, bad_rows=12)
    body = gzip.compress(plain, mtime=0)
    result = upload_and_invoke(buckets, handler_module, "incoming/churn/export.csv.gz", body)

    assert result["status"] == "processed" and result["rows_quarantined"] == 12
    assert result["outputs"][0].endswith(f"/export/{result['version_id']}.csv.gz")
    assert_nothing_lost(buckets, result, rows_of(plain))
    manifest = json.loads(buckets.read(result["outputs"][2]))
    assert manifest["source"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert manifest["source"]["gzip"] is True and manifest["source"]["size"] == len(body)


def test_gzip_content_is_detected_by_magic_bytes_not_by_name(buckets, handler_module):
    plain, _ = churn_csv(20)
    result = upload_and_invoke(buckets, handler_module, "incoming/churn/export.csv", gzip.compress(plain))
    assert result["status"] == "processed" and result["rows_written"] == 20


def test_url_encoded_key_with_spaces_and_plus_is_decoded(buckets, handler_module):
    body, _ = churn_csv(10)
    key = "incoming/churn/June 2025/export+v2 (final).csv"
    result = upload_and_invoke(buckets, handler_module, key, body)

    assert result["source_key"] == key and result["status"] == "processed"
    assert result["outputs"][0].endswith(f"/June 2025--export+v2 (final)/{result['version_id']}.csv.gz")
    assert result["index"] == "index/churn/June 2025/export+v2 (final).csv.json"
    assert_nothing_lost(buckets, result, rows_of(body))


def test_duplicate_delivery_rewrites_the_same_keys_with_the_same_content_and_deletes_nothing(
    buckets, handler_module, monkeypatch
):
    body, _ = churn_csv(200, bad_rows=9)
    key = "incoming/churn/export.csv"
    event = s3_event((key, buckets.put_raw(key, body)))
    (first,) = invoke(handler_module, event)
    snapshot = {k: buckets.read(k) for k in buckets.processed_keys()}
    deletes = []
    monkeypatch.setattr(buckets.s3, "delete_objects", lambda **kw: deletes.append(kw))
    (second,) = invoke(handler_module, event)

    assert second == first and second["removed"] == []
    assert deletes == [], "nothing is deleted"
    assert buckets.processed_keys() == sorted(snapshot)
    for key_ in first["outputs"][:2]:
        assert buckets.read(key_) == snapshot[key_], "data outputs are byte-identical"
    manifests = [json.loads(snapshot[first["outputs"][2]]), json.loads(buckets.read(first["outputs"][2]))]
    for manifest in manifests:
        manifest.pop("processed_at")
    assert manifests[0] == manifests[1]
    clean_ids = [row[0] for row in buckets.read_csv(first["outputs"][0])[1:]]
    assert len(clean_ids) == len(set(clean_ids)) == 191


def test_backfill_item_without_a_version_processes_the_current_one(buckets, handler_module):
    key = "incoming/churn/export.csv"
    buckets.put_raw(key, churn_csv(30, seed=1)[0])
    new_body, _ = churn_csv(5, seed=2)
    new_version = buckets.put_raw(key, new_body)
    (result,) = invoke(handler_module, {"bucket": RAW_BUCKET, "key": key})

    assert result["status"] == "processed" and result["version_id"] == new_version and result["rows_read"] == 5
    assert_nothing_lost(buckets, result, rows_of(new_body))
    assert json.loads(buckets.read(result["index"]))["source"]["sequencer"] is None, "a backfill has no event"


def test_backfill_item_naming_an_older_version_writes_nothing(buckets, handler_module):
    key = "incoming/churn/export.csv"
    old_version = buckets.put_raw(key, churn_csv(30, seed=1)[0])
    current = buckets.put_raw(key, churn_csv(5, seed=2)[0])
    (result,) = invoke(handler_module, {"bucket": RAW_BUCKET, "key": key, "versionId": old_version})

    assert (result["status"], result["version_id"], result["outputs"]) == ("superseded", old_version, [])
    assert f"is not the current version ({current})" in result["reason"]
    assert [k for k in buckets.processed_keys() if not k.startswith("index/")] == []


def test_every_record_of_an_event_is_processed(buckets, handler_module):
    keys = ["incoming/churn/a.csv", "incoming/churn/b.csv"]
    versions = [buckets.put_raw(key, churn_csv(n)[0]) for key, n in zip(keys, (3, 4), strict=True)]
    results = invoke(handler_module, s3_event(*zip(keys, versions, strict=True)))
    assert [(r["source_key"], r["rows_read"]) for r in results] == [(keys[0], 3), (keys[1], 4)]


def test_an_excel_csv_utf8_export_is_processed_like_any_other(buckets, handler_module):
    """Excel writes a byte-order mark, CRLF line ends and often empty lines at the end."""
    body, _ = churn_csv(60, bad_rows=4)
    excel = b"\xef\xbb\xbf" + body.replace(b"\n", b"\r\n") + b"\r\n\r\n"
    result = upload_and_invoke(buckets, handler_module, "incoming/churn/excel-export.csv", excel)

    assert result["status"] == "processed"
    assert (result["rows_read"], result["rows_written"], result["rows_quarantined"], result["rows_blank"]) == (
        62,
        56,
        4,
        2,
    )
    assert_nothing_lost(buckets, result, rows_of(excel.removeprefix(b"\xef\xbb\xbf")))


def test_header_only_object_is_processed_with_zero_rows(buckets, handler_module):
    result = upload_and_invoke(buckets, handler_module, "incoming/churn/empty-day.csv", csv_bytes(0))
    assert result["status"] == "processed"
    assert (result["rows_read"], result["rows_written"], result["rows_quarantined"]) == (0, 0, 0)
    assert buckets.read_csv(result["outputs"][0]) == [list(COLUMNS)]


# --- whole-object quarantine ----------------------------------------------------------------------------

WHOLE_OBJECT_CASES = [
    # (bad file kind, key, reason_code, words in the reason)
    ("empty", "incoming/churn/empty.csv", "empty", "empty"),
    ("not_utf8", "incoming/churn/latin1.csv", "not_utf8", "UTF-8"),
    ("wrong_header", "incoming/churn/swapped.csv", "bad_header", "header column 1 is 'signup_date'"),
    ("fake_gzip", "incoming/churn/plain.csv.gz", "not_gzip", "not gzip"),
    ("not_csv", "incoming/churn/blob.csv", "not_csv", "NUL"),
    ("malformed_csv", "incoming/churn/quotes.csv", "not_csv", "CSV"),
    ("truncated_gzip", "incoming/churn/cut.csv.gz", "corrupt_gzip", "gzip"),
]


def assert_quarantined_whole(buckets: Buckets, result: dict[str, Any], key: str, body: bytes, code: str) -> None:
    assert result["status"] == "quarantined" and result["reason_code"] == code
    assert (result["rows_read"], result["rows_written"], result["rows_quarantined"]) == (0, 0, 0)
    copy_key, report_key = result["outputs"]
    assert buckets.processed_keys() == sorted([copy_key, report_key, result["index"]]), "no processed output"
    assert copy_key.startswith("quarantine/") and report_key.endswith(f"/{result['version_id']}/report.json")
    assert buckets.read(copy_key) == body
    report = json.loads(buckets.read(report_key))
    assert report["reason_code"] == code and report["reason"] == result["reason"]
    assert report["source"]["key"] == key and report["source"]["size"] == len(body)
    assert report["quarantined_copy"] == copy_key and report["detected_at"].endswith("Z")
    assert report["index"] == result["index"] and report["version"] == result["version_id"]
    index = json.loads(buckets.read(result["index"]))
    assert (index["status"], index["reason_code"], index["outputs"]) == ("quarantined", code, [copy_key, report_key])
    assert index["report"] == report_key and index["manifest"] is None
    assert buckets.open_uploads() == []
    assert_original_kept(buckets, key, body)


@pytest.mark.parametrize(("kind", "key", "code", "words"), WHOLE_OBJECT_CASES, ids=[c[0] for c in WHOLE_OBJECT_CASES])
def test_unusable_object_is_quarantined_whole(buckets, handler_module, kind, key, code, words):
    body = bad_file_bytes(kind)
    result = upload_and_invoke(buckets, handler_module, key, body)
    assert_quarantined_whole(buckets, result, key, body, code)
    assert words in result["reason"]
    day = buckets.s3.head_object(Bucket=RAW_BUCKET, Key=key)["LastModified"].strftime("%Y-%m-%d")
    name = key.rsplit("/", 1)[1]
    stem = name.removesuffix(".gz").removesuffix(".csv")
    assert result["outputs"][0] == f"quarantine/churn/dt={day}/{stem}/{result['version_id']}/{name}"


def test_object_over_the_size_limit_is_quarantined_before_it_is_read(
    buckets, handler_module, tmp_path, schemas_text, monkeypatch
):
    document = json.loads(schemas_text)
    document["datasets"]["churn"]["max_object_mib"] = 1
    small_limit = tmp_path / "schemas.json"
    small_limit.write_text(json.dumps(document))
    monkeypatch.setenv("DATASET_SCHEMAS_PATH", str(small_limit))
    body = bad_file_bytes("oversize", limit_bytes=1024 * 1024)
    key = "incoming/churn/huge.csv"
    get_calls = []
    original_get = buckets.s3.get_object
    monkeypatch.setattr(buckets.s3, "get_object", lambda **kw: get_calls.append(kw) or original_get(**kw))
    result = upload_and_invoke(buckets, handler_module, key, body)
    reads_by_processor = [call for call in get_calls if call["Bucket"] == RAW_BUCKET]

    assert reads_by_processor == [], "the size is checked from HeadObject before any GetObject"
    assert_quarantined_whole(buckets, result, key, body, "too_large")
    assert "over the churn limit of 1048576 bytes" in result["reason"]


def test_unknown_dataset_is_quarantined_under_unknown(buckets, handler_module):
    key, body = "incoming/orders/2025/export.csv", csv_bytes(3)
    result = upload_and_invoke(buckets, handler_module, key, body)
    assert_quarantined_whole(buckets, result, key, body, "unknown_dataset")
    assert "'orders'" in result["reason"] and "known: churn" in result["reason"]
    assert result["outputs"][0].endswith(f"/orders--2025--export/{result['version_id']}/export.csv")
    assert result["outputs"][0].startswith("quarantine/_unknown/dt=")
    assert result["index"] == "index/orders/2025/export.csv.json", "the raw path, so the dataset can be added later"
    assert json.loads(buckets.read(result["index"]))["dataset"] == "_unknown"


def test_key_without_dataset_folder_is_quarantined(buckets, handler_module):
    key, body = "incoming/export.csv", csv_bytes(3)
    result = upload_and_invoke(buckets, handler_module, key, body)
    assert_quarantined_whole(buckets, result, key, body, "bad_key")


def test_key_outside_incoming_is_reported_but_never_read(buckets, handler_module, monkeypatch):
    key, body = "exports/churn.csv", csv_bytes(3)
    buckets.put_raw(key, body)
    calls = []
    for name in ("head_object", "get_object", "copy_object"):
        original = getattr(buckets.s3, name)
        monkeypatch.setattr(buckets.s3, name, lambda _o=original, _n=name, **kw: calls.append(_n) or _o(**kw))
    (result,) = invoke(handler_module, s3_event((key, None)))
    reads_by_processor = list(calls)

    assert reads_by_processor == [], "the role may not read outside incoming/"
    assert result["status"] == "quarantined" and result["reason_code"] == "outside_incoming"
    (report_key,) = result["outputs"]
    assert report_key == "quarantine/_unknown/dt=2025-06-30/exports--churn/null/report.json"
    assert json.loads(buckets.read(report_key))["source"]["key"] == key
    assert result["index"] is None and buckets.processed_keys() == [report_key], "no index outside incoming/"
    assert_original_kept(buckets, key, body)


def test_object_deleted_before_a_direct_invoke_is_reported_under_its_dataset(buckets, handler_module):
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    (result,) = invoke(handler_module, {"bucket": RAW_BUCKET, "key": "incoming/churn/2025/gone.csv"})
    assert result["status"] == "quarantined" and result["reason_code"] == "missing"
    assert result["outputs"] == [f"quarantine/churn/dt={today}/2025--gone/null/report.json"]
    assert buckets.processed_keys() == result["outputs"], "a report only: nothing copied, no index"
    report = json.loads(buckets.read(result["outputs"][0]))
    assert (report["dataset"], report["reason_code"], report["quarantined_copy"]) == ("churn", "missing", None)


def test_deleted_object_named_by_its_event_is_reported_under_its_dataset(buckets, handler_module):
    key = "incoming/churn/gone.csv"
    version = buckets.put_raw(key, csv_bytes(3))
    buckets.s3.delete_object(Bucket=RAW_BUCKET, Key=key)  # a delete marker is now current
    (result,) = invoke(handler_module, s3_event((key, version)))
    assert result["reason_code"] == "missing" and version in result["reason"]
    assert result["outputs"] == [f"quarantine/churn/dt=2025-06-30/gone/{version}/report.json"]


def test_missing_object_of_an_unknown_dataset_is_reported_under_unknown(buckets, handler_module):
    (result,) = invoke(handler_module, {"bucket": RAW_BUCKET, "key": "incoming/orders/gone.csv"})
    assert result["reason_code"] == "missing"
    assert result["outputs"][0].startswith("quarantine/_unknown/dt=") and "/orders--gone/null/" in result["outputs"][0]


def test_failure_midway_aborts_the_multipart_upload_already_started(buckets, schemas, small_parts, monkeypatch):
    from data_processor.events import ObjectRef
    from data_processor.service import Settings, process_object

    good = csv_bytes(3000)
    body = good + "CUST-99999999,2024-01-05,3,20.00,60.00,one-year,mailed-check,none,0,Zürich,false\n".encode("latin-1")
    key = "incoming/churn/late-error.csv"
    version = buckets.put_raw(key, body)
    started = []
    original = buckets.s3.create_multipart_upload
    monkeypatch.setattr(buckets.s3, "create_multipart_upload", lambda **kw: started.append(kw["Key"]) or original(**kw))
    result = process_object(
        buckets.s3, ObjectRef(RAW_BUCKET, key, version), Settings(PROCESSED_BUCKET, schemas, part_size=small_parts)
    )

    assert started, "the clean output had already started a multipart upload"
    assert_quarantined_whole(buckets, result.to_dict(), key, body, "not_utf8")


# --- errors that must raise ------------------------------------------------------------------------------


def test_transient_upload_error_raises_and_leaves_no_output(buckets, handler_module, monkeypatch):
    from botocore.exceptions import ClientError

    body, _ = churn_csv(20)
    key = "incoming/churn/export.csv"
    version = buckets.put_raw(key, body)

    def failing_put(**kwargs):
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "reduce your request rate"}}, "PutObject")

    monkeypatch.setattr(buckets.s3, "put_object", failing_put)
    with pytest.raises(ClientError, match="SlowDown"):
        invoke(handler_module, s3_event((key, version)))
    assert buckets.processed_keys() == []
    assert_original_kept(buckets, key, body)


def test_missing_processed_bucket_setting_names_the_variable(handler_module, monkeypatch):
    monkeypatch.delenv("PROCESSED_BUCKET")
    with pytest.raises(ConfigurationError, match="PROCESSED_BUCKET"):
        invoke(handler_module, {"bucket": RAW_BUCKET, "key": "incoming/churn/a.csv"})


def test_missing_schemas_file_says_how_to_provide_it(handler_module, monkeypatch, tmp_path):
    from data_processor.schema import SchemaError

    monkeypatch.setenv("DATASET_SCHEMAS_PATH", str(tmp_path / "absent.json"))
    with pytest.raises(SchemaError, match="DATASET_SCHEMAS_PATH"):
        invoke(handler_module, {"bucket": RAW_BUCKET, "key": "incoming/churn/a.csv"})


def test_unrecognised_event_raises(handler_module):
    from data_processor.events import InvalidEvent

    with pytest.raises(InvalidEvent, match="expected an S3 notification"):
        invoke(handler_module, {"detail-type": "Object Created"})


# --- logs -----------------------------------------------------------------------------------------------


def test_one_json_log_line_per_object_with_the_request_id(buckets, handler_module, capsys):
    body, _ = churn_csv(30, bad_rows=3)
    key = "incoming/churn/export.csv"
    version = buckets.put_raw(key, body)
    capsys.readouterr()
    invoke(handler_module, s3_event((key, version), ("incoming/nope/x.csv", None)))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert [(line["level"], line["message"]) for line in lines] == [
        ("INFO", "object processed"),
        ("WARNING", "object quarantined"),
    ]
    assert all(line["correlation_id"] == "req-0001" for line in lines)
    assert (lines[0]["source_key"], lines[0]["rows_read"], lines[0]["rows_written"], lines[0]["rows_quarantined"]) == (
        key,
        30,
        27,
        3,
    )
    assert lines[1]["reason_code"] == "missing"


def test_rejected_file_keeps_wrong_width_rows_as_they_were(buckets, handler_module):
    body = csv_bytes(2) + b"CUST-00000003,2024-01-01\n" + b"a,b,c,d,e,f,g,h,i,j,k,l,m\n"
    result = upload_and_invoke(buckets, handler_module, "incoming/churn/ragged.csv", body)
    rejected = read_gzip_csv(buckets.read(result["outputs"][1]))
    assert rejected[1:] == [
        ["3", "expected 11 fields, got 2", "CUST-00000003", "2024-01-01"],
        ["4", "expected 11 fields, got 13", *"abcdefghijklm"],
    ]
    assert_nothing_lost(buckets, result, rows_of(body))
