"""Key layout (data_processor.keys) and event parsing (data_processor.events): pure functions."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import lambda_support  # noqa: F401  - puts lambdas/ on sys.path
import pytest

from data_processor import keys
from data_processor.events import InvalidEvent, ObjectRef, parse_event


@pytest.mark.parametrize(
    ("key", "dataset", "path", "readable"),
    [
        ("incoming/churn/export.csv", "churn", "export.csv", True),
        ("incoming/churn/2025/06/export.csv.gz", "churn", "2025/06/export.csv.gz", True),
        ("incoming/export.csv", None, "export.csv", True),
        ("incoming/churn/", None, "churn/", True),
        ("incoming//x.csv", None, "/x.csv", True),
        ("exports/churn.csv", None, "exports/churn.csv", False),
        ("incomingX/churn/a.csv", None, "incomingX/churn/a.csv", False),
    ],
)
def test_source_keys_split_into_dataset_and_path(key, dataset, path, readable):
    source = keys.parse_source_key(key)
    assert (source.dataset, source.path, source.readable) == (dataset, path, readable)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("export.csv", "export"),
        ("export.csv.gz", "export"),
        ("export.gz", "export"),
        ("EXPORT.CSV.GZ", "EXPORT"),
        ("2025/06/export.csv", "2025--06--export"),
        ("export.tsv", "export.tsv"),
        ("export", "export"),
        ("a.csv.csv", "a.csv"),
        (".csv", ".csv"),
        ("June 2025/x+y.csv", "June 2025--x+y"),
    ],
)
def test_source_name_drops_the_suffix_and_flattens_folders(path, name):
    assert keys.source_name(path) == name


def test_output_keys_follow_the_documented_layout():
    out = keys.output_keys("churn", "2025-06-30", "crm--export", "v1")
    assert out == keys.OutputKeys(
        clean="processed/churn/dt=2025-06-30/crm--export/v1.csv.gz",
        rejected="quarantine/churn/dt=2025-06-30/crm--export/v1.rejected.csv.gz",
        manifest="processed/churn/dt=2025-06-30/crm--export/v1.manifest.json",
    )
    assert out.all() == (out.clean, out.rejected, out.manifest)


def test_quarantine_keys_of_known_and_unknown_datasets():
    source = keys.parse_source_key("incoming/churn/2025/export.csv.gz")
    known = keys.quarantine_keys(source, True, "2025-06-30", "v1")
    assert known == keys.QuarantineKeys(
        copy="quarantine/churn/dt=2025-06-30/2025--export/v1/export.csv.gz",
        report="quarantine/churn/dt=2025-06-30/2025--export/v1/report.json",
    )
    unknown = keys.quarantine_keys(keys.parse_source_key("incoming/orders/a.csv"), False, "2025-06-30", "null")
    assert unknown.copy == "quarantine/_unknown/dt=2025-06-30/orders--a/null/a.csv"
    outside = keys.quarantine_keys(keys.parse_source_key("tmp/a.csv"), False, "2025-06-30", "null")
    assert outside.report == "quarantine/_unknown/dt=2025-06-30/tmp--a/null/report.json"


@pytest.mark.parametrize(
    ("version_id", "token"),
    [
        (None, "null"),
        ("null", "null"),
        ("Yzm.NY9HYn7Z_tLy84cN6iCHIBC.kLHF", "Yzm.NY9HYn7Z_tLy84cN6iCHIBC.kLHF"),
        ("045eafca-931a-40ce-b6c1-00ead5c7403c", "045eafca-931a-40ce-b6c1-00ead5c7403c"),
    ],
)
def test_safe_version_ids_go_into_keys_as_they_are(version_id, token):
    assert keys.version_token(version_id) == token


@pytest.mark.parametrize("version_id", ["3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", "..", "-x", "x" * 129, "a b"])
def test_other_version_ids_are_hashed_apart_from_every_safe_id(version_id):
    token = keys.version_token(version_id)
    assert token == "_" + hashlib.sha256(version_id.encode()).hexdigest()[:32]
    assert keys.version_token(token) != token, "a hashed token is never itself a safe id (safe ids map to themselves)"


def test_index_keys_are_the_raw_path_so_two_objects_never_share_one():
    first, second = keys.parse_source_key("incoming/churn/a/b.csv"), keys.parse_source_key("incoming/churn/a--b.csv.gz")
    assert keys.source_name(first.path) == keys.source_name(second.path) == "a--b", "their output names collide"
    assert keys.index_key(first) == "index/churn/a/b.csv.json"
    assert keys.index_key(second) == "index/churn/a--b.csv.gz.json"
    assert keys.index_key(keys.parse_source_key("incoming/export.csv")) == "index/export.csv.json"
    with pytest.raises(ValueError, match="not under incoming/"):
        keys.index_key(keys.parse_source_key("exports/a.csv"))


def test_a_source_named_like_the_report_does_not_overwrite_it():
    target = keys.quarantine_keys(keys.parse_source_key("incoming/churn/report.json"), True, "2025-06-30", "v1")
    assert target.copy.endswith("/source-report.json") and target.report.endswith("/report.json")


def test_named_gzip_looks_at_the_name_only():
    assert keys.named_gzip("a.csv.GZ") and not keys.named_gzip("a.csv")


def test_partition_date_is_the_utc_day():
    late = datetime(2025, 6, 30, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert keys.partition_date(late) == "2025-07-01"
    assert keys.partition_date(datetime(2025, 6, 30, 1, 0)) == "2025-06-30"
    assert keys.partition_date(datetime(2025, 6, 30, tzinfo=UTC)) == "2025-06-30"


def test_s3_notification_records_are_decoded():
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventTime": "2025-06-30T12:00:00.000Z",
                "s3": {
                    "bucket": {"name": "raw"},
                    "object": {"key": "incoming/churn/June+2025/a%2Bb.csv", "versionId": "v1", "sequencer": "0A1B"},
                },
            },
            {"eventSource": "aws:s3", "s3": {"bucket": {"name": "raw"}, "object": {"key": "incoming/churn/b.csv"}}},
        ]
    }
    assert parse_event(event) == [
        ObjectRef("raw", "incoming/churn/June 2025/a+b.csv", "v1", datetime(2025, 6, 30, 12, tzinfo=UTC), "0A1B"),
        ObjectRef("raw", "incoming/churn/b.csv", None, None),
    ]


def test_backfill_items_take_plain_keys():
    assert parse_event({"bucket": "raw", "key": "incoming/churn/a+b c.csv", "versionId": "v9"}) == [
        ObjectRef("raw", "incoming/churn/a+b c.csv", "v9")
    ]
    assert parse_event({"bucket": "raw", "key": "k", "versionId": ""}) == [ObjectRef("raw", "k")]


def test_s3_test_event_is_a_no_op():
    assert parse_event({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "raw"}) == []


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([], "must be a JSON object"),
        ({"Records": {}}, "Records must be a list"),
        ({"Records": [{"eventSource": "aws:sqs"}]}, r"Records\[0\].eventSource must be aws:s3"),
        ({"Records": [{"eventSource": "aws:s3", "s3": {}}]}, r"Records\[0\].s3 needs bucket.name and object.key"),
        (
            {
                "Records": [
                    {
                        "eventSource": "aws:s3",
                        "eventTime": "noon",
                        "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}},
                    }
                ]
            },
            "eventTime",
        ),
        ({"bucket": "raw"}, "key must be a non-empty string"),
        ({"bucket": "", "key": "k"}, "bucket must be a non-empty string"),
        ({"bucket": "b", "key": "k", "versionId": 3}, "versionId must be a string"),
        ({"detail": {}}, "expected an S3 notification"),
    ],
)
def test_malformed_events_raise_naming_the_field(event, message):
    with pytest.raises(InvalidEvent, match=message):
        parse_event(event)
