"""Outputs follow the current version of each raw object (data_processor.service and .index) against moto S3:
in-order and out-of-order deliveries, a quarantined newer version, a re-upload on a later day, races on the
index, interrupted runs, and S3 answering 403 for a missing key."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_support import PROCESSED_BUCKET, RAW_BUCKET, Buckets, invoke, s3_event

from sample_data import bad_file_bytes, csv_bytes

KEY = "incoming/churn/export.csv"
INDEX = "index/churn/export.csv.json"


def data_keys(buckets: Buckets) -> list[str]:
    """The current output keys of the processed bucket, index documents aside."""
    return [key for key in buckets.processed_keys() if not key.startswith("index/")]


def index_of(buckets: Buckets, key: str = INDEX) -> dict[str, Any]:
    return json.loads(buckets.read(key))


def deliver(handler_module: Any, version: str | None, key: str = KEY) -> dict[str, Any]:
    """The handler's result for an S3 notification of `version` of `key`."""
    (result,) = invoke(handler_module, s3_event((key, version)))
    return result


def clean_rows_under(buckets: Buckets, prefix: str = "processed/churn/") -> int:
    """Clean rows a consumer reading every .csv.gz under `prefix` would count."""
    files = [key for key in buckets.processed_keys(prefix) if key.endswith(".csv.gz")]
    return sum(len(buckets.read_csv(key)) - 1 for key in files)


def client_error(code: str, status: int, operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


def spy(client: Any, monkeypatch: pytest.MonkeyPatch, *names: str) -> list[tuple[str, dict[str, Any]]]:
    """Record these client calls (name, kwargs), still making them."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for name in names:
        original = getattr(client, name)
        monkeypatch.setattr(
            client, name, lambda _o=original, _n=name, **kwargs: calls.append((_n, kwargs)) or _o(**kwargs)
        )
    return calls


@pytest.fixture
def upload_times(buckets: Buckets, monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    """LastModified per raw version id, as the processor's HeadObject sees it (moto stamps the real time, and
    the processor reads the dt= day from HeadObject only)."""
    times: dict[str, datetime] = {}
    original = buckets.s3.head_object

    def head_object(**kwargs: Any) -> dict[str, Any]:
        response = original(**kwargs)
        if kwargs["Bucket"] == RAW_BUCKET and response.get("VersionId") in times:
            response["LastModified"] = times[response["VersionId"]]
        return response

    monkeypatch.setattr(buckets.s3, "head_object", head_object)
    return times


# --- the order of events ---------------------------------------------------------------------------------


def test_a_newer_version_replaces_the_older_versions_outputs(buckets, handler_module):
    v1 = buckets.put_raw(KEY, csv_bytes(30, seed=1))
    first = deliver(handler_module, v1)
    v2 = buckets.put_raw(KEY, csv_bytes(20, seed=2, bad_rows=2))
    second = deliver(handler_module, v2)

    assert (first["status"], second["status"]) == ("processed", "processed")
    assert second["removed"] == first["outputs"]
    assert data_keys(buckets) == sorted(second["outputs"])
    assert clean_rows_under(buckets) == 18, "processed/ holds the current version's rows only"
    index = index_of(buckets)
    assert (index["source"]["version_id"], index["version"], index["outputs"]) == (v2, v2, second["outputs"])
    # Deleted with a delete marker, never destroyed: recoverable until the noncurrent-version lifecycle rule.
    history = buckets.s3.list_object_versions(Bucket=PROCESSED_BUCKET, Prefix="processed/churn/")
    hidden = {marker["Key"] for marker in history.get("DeleteMarkers", [])}
    kept = {version["Key"] for version in history["Versions"] if not version["IsLatest"]}
    assert hidden == kept == {key for key in first["outputs"] if key.startswith("processed/")}


def test_an_older_versions_late_event_writes_nothing_and_leaves_the_newer_outputs(buckets, handler_module, monkeypatch):
    v1 = buckets.put_raw(KEY, csv_bytes(30, seed=1))
    v2 = buckets.put_raw(KEY, csv_bytes(20, seed=2))
    newer = deliver(handler_module, v2)
    snapshot = {key: buckets.read(key) for key in buckets.processed_keys()}
    writes = spy(buckets.s3, monkeypatch, "put_object", "copy_object", "create_multipart_upload")
    late = deliver(handler_module, v1)

    assert (late["status"], late["version_id"], late["outputs"]) == ("superseded", v1, [])
    assert f"version {v1} is not the current version ({v2})" in late["reason"]
    assert writes == [], "nothing written"
    assert {key: buckets.read(key) for key in buckets.processed_keys()} == snapshot
    assert not set(late["removed"]) & set(newer["outputs"])
    assert index_of(buckets)["source"]["version_id"] == v2


def test_a_newer_version_quarantined_whole_takes_the_older_rows_out_of_processed(buckets, handler_module):
    v1 = buckets.put_raw(KEY, csv_bytes(30, seed=1))
    first = deliver(handler_module, v1)
    v2 = buckets.put_raw(KEY, bad_file_bytes("not_utf8"))
    second = deliver(handler_module, v2)

    assert (second["status"], second["reason_code"]) == ("quarantined", "not_utf8")
    assert second["removed"] == first["outputs"]
    assert buckets.processed_keys("processed/") == [], "no clean rows of an older version stay current"
    assert data_keys(buckets) == sorted(second["outputs"]), "only the newer version's copy and report"
    index = index_of(buckets)
    assert (index["status"], index["reason_code"], index["source"]["version_id"]) == ("quarantined", "not_utf8", v2)
    assert (index["rows_read"], index["manifest"]) == (0, None)

    v3 = buckets.put_raw(KEY, csv_bytes(5, seed=3))
    third = deliver(handler_module, v3)
    assert third["removed"] == second["outputs"] and data_keys(buckets) == sorted(third["outputs"])


def test_a_reupload_on_a_later_day_leaves_only_the_new_days_outputs(buckets, handler_module, upload_times):
    body = csv_bytes(30, seed=1)
    v1 = buckets.put_raw(KEY, body)
    upload_times[v1] = datetime(2025, 6, 29, 23, 50, tzinfo=UTC)
    first = deliver(handler_module, v1)
    v2 = buckets.put_raw(KEY, body)  # the same export uploaded again after midnight
    upload_times[v2] = datetime(2025, 6, 30, 0, 10, tzinfo=UTC)
    second = deliver(handler_module, v2)

    assert all("/dt=2025-06-29/export/" in key for key in first["outputs"])
    assert all("/dt=2025-06-30/export/" in key for key in second["outputs"])
    assert data_keys(buckets) == sorted(second["outputs"])
    assert clean_rows_under(buckets) == 30, "each row counted once"
    assert index_of(buckets)["source"]["last_modified"] == "2025-06-30T00:10:00Z"


def test_an_unversioned_object_reuploaded_on_a_later_day_moves_its_outputs(buckets, schemas, monkeypatch):
    from data_processor.events import ObjectRef
    from data_processor.service import Settings, process_object

    bucket = "ml-raw-unversioned"
    buckets.s3.create_bucket(Bucket=bucket)
    days = {}
    original = buckets.s3.head_object

    def head_object(**kwargs: Any) -> dict[str, Any]:
        response = original(**kwargs)
        response["LastModified"] = days.get(response["ETag"], response["LastModified"])
        return response

    monkeypatch.setattr(buckets.s3, "head_object", head_object)
    settings = Settings(PROCESSED_BUCKET, schemas)
    results = []
    for day, rows in ((29, 30), (30, 12)):
        etag = buckets.s3.put_object(Bucket=bucket, Key=KEY, Body=csv_bytes(rows, seed=day))["ETag"]
        days[etag] = datetime(2025, 6, day, 12, tzinfo=UTC)
        results.append(process_object(buckets.s3, ObjectRef(bucket, KEY), settings))

    assert [result.version_id for result in results] == [None, None]
    assert all(
        key.endswith(("/null.csv.gz", "/null.rejected.csv.gz", "/null.manifest.json")) for key in results[1].outputs
    )
    assert results[1].removed == results[0].outputs
    assert data_keys(buckets) == sorted(results[1].outputs) and clean_rows_under(buckets) == 12
    assert index_of(buckets)["version"] == "null"


# --- races and interruptions -----------------------------------------------------------------------------


def test_a_lost_race_on_the_index_is_read_again_and_retried(buckets, handler_module, monkeypatch):
    v1 = buckets.put_raw(KEY, csv_bytes(10))
    conditions = []
    original = buckets.s3.put_object

    def put_object(**kwargs: Any) -> dict[str, Any]:
        if kwargs["Key"] == INDEX:
            conditions.append(kwargs.get("IfNoneMatch") or kwargs.get("IfMatch"))
            if len(conditions) == 1:
                raise client_error("PreconditionFailed", 412, "PutObject")
        return original(**kwargs)

    monkeypatch.setattr(buckets.s3, "put_object", put_object)
    result = deliver(handler_module, v1)

    assert result["status"] == "processed"
    assert conditions == ["*", "*"], "created only if absent, then read again and retried"
    assert index_of(buckets)["source"]["version_id"] == v1


def test_the_index_is_replaced_only_if_unchanged_since_it_was_read(buckets, handler_module, monkeypatch):
    deliver(handler_module, buckets.put_raw(KEY, csv_bytes(10, seed=1)))
    etag = buckets.s3.head_object(Bucket=PROCESSED_BUCKET, Key=INDEX)["ETag"]
    calls = spy(buckets.s3, monkeypatch, "put_object")
    deliver(handler_module, buckets.put_raw(KEY, csv_bytes(10, seed=2)))
    (index_put,) = [kwargs for name, kwargs in calls if kwargs["Key"] == INDEX]
    assert index_put["IfMatch"] == etag and "IfNoneMatch" not in index_put


def test_a_newer_version_committed_during_a_commit_wins_and_the_older_outputs_go(buckets, schemas, monkeypatch):
    from data_processor import keys
    from data_processor.events import ObjectRef
    from data_processor.service import Settings, process_object

    settings = Settings(PROCESSED_BUCKET, schemas)
    v1 = buckets.put_raw(KEY, csv_bytes(30, seed=1))
    original = buckets.s3.put_object
    race: dict[str, Any] = {}

    def put_object(**kwargs: Any) -> dict[str, Any]:
        if kwargs["Key"] == INDEX and not race:
            # Between v1's read of the index and its conditional put, v2 arrives and is committed whole.
            race["v2"] = buckets.put_raw(KEY, csv_bytes(10, seed=2))
            race["newer"] = process_object(buckets.s3, ObjectRef(RAW_BUCKET, KEY, race["v2"]), settings)
        return original(**kwargs)

    monkeypatch.setattr(buckets.s3, "put_object", put_object)
    older = process_object(buckets.s3, ObjectRef(RAW_BUCKET, KEY, v1), settings)

    newer = race["newer"]
    assert (older.status, newer.status) == ("superseded", "processed")
    day = keys.partition_date(buckets.s3.head_object(Bucket=RAW_BUCKET, Key=KEY, VersionId=v1)["LastModified"])
    assert older.removed == keys.output_keys("churn", day, "export", v1).all()
    assert data_keys(buckets) == sorted(newer.outputs)
    assert index_of(buckets)["source"]["version_id"] == race["v2"]


def test_a_version_that_stops_being_current_before_its_commit_removes_its_own_outputs(
    buckets, handler_module, monkeypatch
):
    v1 = buckets.put_raw(KEY, csv_bytes(30, seed=1))
    original = buckets.s3.put_object
    newer: list[str] = []

    def put_object(**kwargs: Any) -> dict[str, Any]:
        response = original(**kwargs)
        if kwargs["Key"].endswith(".manifest.json") and not newer:
            newer.append(buckets.put_raw(KEY, csv_bytes(10, seed=2)))  # uploaded, its event not yet delivered
        return response

    monkeypatch.setattr(buckets.s3, "put_object", put_object)
    older = deliver(handler_module, v1)

    assert (older["status"], older["outputs"]) == ("superseded", [])
    assert len(older["removed"]) == 3 and buckets.processed_keys() == [], "no outputs, no index"
    current = deliver(handler_module, newer[0])
    assert current["status"] == "processed" and data_keys(buckets) == sorted(current["outputs"])


def test_the_late_retry_of_an_interrupted_run_removes_what_that_run_left(buckets, handler_module, monkeypatch):
    v1 = buckets.put_raw(KEY, csv_bytes(30, seed=1))
    original = buckets.s3.get_object
    failures: list[str] = []

    def get_object(**kwargs: Any) -> dict[str, Any]:
        if kwargs["Key"] == INDEX and not failures:
            failures.append(kwargs["Key"])
            raise client_error("SlowDown", 503, "GetObject")
        return original(**kwargs)

    monkeypatch.setattr(buckets.s3, "get_object", get_object)
    with pytest.raises(ClientError, match="SlowDown"):
        deliver(handler_module, v1)  # outputs written, then the commit failed: the Lambda will retry
    left = data_keys(buckets)
    assert len(left) == 3 and INDEX not in buckets.processed_keys()
    v2 = buckets.put_raw(KEY, csv_bytes(10, seed=2))
    newer = deliver(handler_module, v2)
    assert set(left) < set(data_keys(buckets)), "v2's commit cannot know about outputs no index named"

    retry = deliver(handler_module, v1)  # the retry of the first event, now about a version that is not current

    assert retry["status"] == "superseded" and set(left) <= set(retry["removed"])
    assert data_keys(buckets) == sorted(newer["outputs"])


def test_a_stale_event_leaves_outputs_the_index_still_names(buckets, handler_module, monkeypatch):
    v1 = buckets.put_raw(KEY, csv_bytes(30, seed=1))
    first = deliver(handler_module, v1)
    buckets.put_raw(KEY, csv_bytes(10, seed=2))  # v2 uploaded; its own run has not committed yet

    late = deliver(handler_module, v1)

    assert late["status"] == "superseded" and not set(late["removed"]) & set(first["outputs"])
    assert data_keys(buckets) == sorted(first["outputs"]), "the index still names them: v2's commit removes them"


# --- what S3 answers -------------------------------------------------------------------------------------


def test_a_403_for_a_missing_index_is_settled_by_listing_it(buckets, handler_module, monkeypatch):
    """On AWS the role may list only index/ (a condition on s3:prefix, which a GET does not carry), so S3
    answers a GET of a missing index with 403, not 404."""
    original = buckets.s3.get_object

    def get_object(**kwargs: Any) -> dict[str, Any]:
        try:
            return original(**kwargs)
        except ClientError as exc:
            if kwargs["Key"].startswith("index/") and exc.response["Error"]["Code"] == "NoSuchKey":
                raise client_error("AccessDenied", 403, "GetObject") from exc
            raise

    monkeypatch.setattr(buckets.s3, "get_object", get_object)
    first = deliver(handler_module, buckets.put_raw(KEY, csv_bytes(10, seed=1)))
    second = deliver(handler_module, buckets.put_raw(KEY, csv_bytes(10, seed=2)))
    assert (first["status"], second["status"], second["removed"]) == ("processed", "processed", first["outputs"])


def test_a_403_for_an_index_that_exists_is_a_real_denial(buckets, handler_module, monkeypatch):
    deliver(handler_module, buckets.put_raw(KEY, csv_bytes(10, seed=1)))
    original = buckets.s3.get_object

    def get_object(**kwargs: Any) -> dict[str, Any]:
        if kwargs["Key"] == INDEX:
            raise client_error("AccessDenied", 403, "GetObject")
        return original(**kwargs)

    monkeypatch.setattr(buckets.s3, "get_object", get_object)
    with pytest.raises(ClientError, match="AccessDenied"):
        deliver(handler_module, buckets.put_raw(KEY, csv_bytes(10, seed=2)))


def test_a_403_for_a_missing_raw_object_is_reported_missing(buckets, handler_module, monkeypatch):
    original = buckets.s3.head_object

    def head_object(**kwargs: Any) -> dict[str, Any]:
        try:
            return original(**kwargs)
        except ClientError as exc:
            raise client_error("403", 403, "HeadObject") from exc

    monkeypatch.setattr(buckets.s3, "head_object", head_object)
    (result,) = invoke(handler_module, {"bucket": RAW_BUCKET, "key": "incoming/churn/gone.csv"})
    assert result["reason_code"] == "missing" and result["outputs"][0].startswith("quarantine/churn/")


def test_an_index_this_processor_did_not_write_stops_the_run(buckets, handler_module):
    from data_processor.index import IndexUnreadable

    buckets.s3.put_object(Bucket=PROCESSED_BUCKET, Key=INDEX, Body=b"not json")
    with pytest.raises(IndexUnreadable, match="is not JSON"):
        deliver(handler_module, buckets.put_raw(KEY, csv_bytes(3)))


def test_two_raw_objects_with_the_same_name_keep_their_own_outputs(buckets, handler_module):
    nested, flat = "incoming/churn/a/b.csv", "incoming/churn/a--b.csv"  # both named a--b in the outputs
    results = [
        deliver(handler_module, buckets.put_raw(key, csv_bytes(5, seed=i)), key) for i, key in enumerate((nested, flat))
    ]

    assert [result["index"] for result in results] == ["index/churn/a/b.csv.json", "index/churn/a--b.csv.json"]
    assert [result["removed"] for result in results] == [[], []]
    assert data_keys(buckets) == sorted(results[0]["outputs"] + results[1]["outputs"])
