"""The S3 adapters against moto: the streaming multipart writer (small parts), copies, JSON puts."""

from __future__ import annotations

import json
import os

import lambda_support  # noqa: F401  - puts lambdas/ on sys.path
import pytest
from lambda_support import PROCESSED_BUCKET, RAW_BUCKET

from data_processor.s3_io import MultipartUploadWriter, copy_object, put_json


def spy(client, monkeypatch, *names, arguments=None):
    """Record the names of these client calls (and their kwargs into `arguments`), still making them."""
    calls = []
    for name in names:
        original = getattr(client, name)

        def call(_o=original, _n=name, **kwargs):
            calls.append(_n)
            if arguments is not None:
                arguments.append((_n, kwargs))
            return _o(**kwargs)

        monkeypatch.setattr(client, name, call)
    return calls


def test_output_above_one_part_is_a_multipart_upload_with_the_right_bytes(buckets, small_parts, monkeypatch):
    arguments = []
    calls = spy(
        buckets.s3,
        monkeypatch,
        "create_multipart_upload",
        "upload_part",
        "complete_multipart_upload",
        "put_object",
        arguments=arguments,
    )
    data = os.urandom(small_parts * 5 + 123)
    writer = MultipartUploadWriter(buckets.s3, PROCESSED_BUCKET, "processed/big.bin", part_size=small_parts)
    for start in range(0, len(data), 700):  # writes that do not line up with parts
        writer.write(data[start : start + 700])
    assert writer.upload_id is not None
    writer.complete()

    assert buckets.read("processed/big.bin") == data
    part_sizes = [len(kwargs["Body"]) for name, kwargs in arguments if name == "upload_part"]
    assert len(part_sizes) >= 3 and sum(part_sizes) == len(data)
    assert all(size >= small_parts for size in part_sizes[:-1]), "only the last part may be small"
    assert max(part_sizes) < small_parts + 700, "at most one part is held in memory"
    assert calls.count("complete_multipart_upload") == 1 and "put_object" not in calls
    assert writer.bytes_written == len(data) and buckets.open_uploads() == []


def test_small_output_is_one_put_object(buckets, small_parts, monkeypatch):
    calls = spy(buckets.s3, monkeypatch, "create_multipart_upload", "put_object")
    with MultipartUploadWriter(
        buckets.s3, PROCESSED_BUCKET, "processed/small.bin", part_size=small_parts, content_type="application/gzip"
    ) as writer:
        writer.write(b"x" * (small_parts - 1))
    assert calls == ["put_object"]
    head = buckets.s3.head_object(Bucket=PROCESSED_BUCKET, Key="processed/small.bin")
    assert head["ContentLength"] == small_parts - 1 and head["ContentType"] == "application/gzip"
    assert head["ServerSideEncryption"] == "aws:kms", "the bucket default encryption applies"


def test_empty_output_is_an_empty_object(buckets):
    writer = MultipartUploadWriter(buckets.s3, PROCESSED_BUCKET, "processed/empty.bin")
    writer.complete()
    assert buckets.read("processed/empty.bin") == b""


def test_abort_removes_the_started_upload_and_publishes_nothing(buckets, small_parts):
    with (
        pytest.raises(RuntimeError, match="boom"),
        MultipartUploadWriter(buckets.s3, PROCESSED_BUCKET, "processed/x.bin", part_size=small_parts) as writer,
    ):
        writer.write(b"y" * (small_parts * 3))
        assert buckets.open_uploads(), "an upload was started"
        raise RuntimeError("boom")
    assert buckets.open_uploads() == [] and buckets.processed_keys() == []
    with pytest.raises(ValueError, match="after complete"):
        writer.write(b"z")


def test_closing_without_complete_aborts(buckets, small_parts):
    writer = MultipartUploadWriter(buckets.s3, PROCESSED_BUCKET, "processed/x.bin", part_size=small_parts)
    writer.write(b"y" * (small_parts * 2))
    writer.close()
    assert buckets.open_uploads() == [] and buckets.processed_keys() == []


def test_part_size_must_be_positive(buckets):
    with pytest.raises(ValueError, match="part_size"):
        MultipartUploadWriter(buckets.s3, PROCESSED_BUCKET, "k", part_size=0)


def test_copy_pins_the_version(buckets):
    old = buckets.put_raw("incoming/churn/a.csv", b"old")
    buckets.put_raw("incoming/churn/a.csv", b"new")
    copy_object(
        buckets.s3,
        source_bucket=RAW_BUCKET,
        source_key="incoming/churn/a.csv",
        source_version=old,
        source_etag=None,
        size=3,
        dest_bucket=PROCESSED_BUCKET,
        dest_key="quarantine/a.csv",
    )
    assert buckets.read("quarantine/a.csv") == b"old"


def test_copy_without_version_is_pinned_to_the_etag(buckets, monkeypatch):
    # The request carries the pin; S3 (and the emulator, patches/s3_copy_source_if_match.py, tested in
    # tests/emulator/) answers 412 to an object that changed since its ETag was read.
    arguments = []
    spy(buckets.s3, monkeypatch, "copy_object", arguments=arguments)
    buckets.put_raw("incoming/churn/a.csv", b"new")
    etag = buckets.s3.head_object(Bucket=RAW_BUCKET, Key="incoming/churn/a.csv")["ETag"].strip('"')
    copy_object(
        buckets.s3,
        source_bucket=RAW_BUCKET,
        source_key="incoming/churn/a.csv",
        source_version=None,
        source_etag=etag,
        size=3,
        dest_bucket=PROCESSED_BUCKET,
        dest_key="quarantine/a.csv",
    )
    ((_, kwargs),) = arguments
    assert kwargs["CopySourceIfMatch"] == f'"{etag}"' and "VersionId" not in kwargs["CopySource"]
    assert kwargs["TaggingDirective"] == "REPLACE"


def test_objects_over_the_single_copy_limit_are_copied_in_parts(buckets, small_parts, monkeypatch):
    calls = spy(buckets.s3, monkeypatch, "copy_object", "upload_part_copy")
    data = os.urandom(small_parts * 3 + 5)
    version = buckets.put_raw("incoming/churn/big.csv", data)
    copy_object(
        buckets.s3,
        source_bucket=RAW_BUCKET,
        source_key="incoming/churn/big.csv",
        source_version=version,
        source_etag=None,
        size=len(data),
        dest_bucket=PROCESSED_BUCKET,
        dest_key="quarantine/big.csv",
        part_bytes=small_parts,
        max_single_copy=small_parts,
    )
    assert calls == ["upload_part_copy"] * 4
    assert buckets.read("quarantine/big.csv") == data


def test_put_json_is_stable(buckets):
    put_json(buckets.s3, PROCESSED_BUCKET, "r.json", {"b": 1, "a": [1, 2]})
    body = buckets.read("r.json")
    assert json.loads(body) == {"a": [1, 2], "b": 1} and body.index(b'"a"') < body.index(b'"b"')


def test_put_json_writes_only_under_its_condition(buckets):
    from botocore.exceptions import ClientError

    etag = put_json(buckets.s3, PROCESSED_BUCKET, "index/a.json", {"n": 1}, create_only=True)
    with pytest.raises(ClientError, match="PreconditionFailed"):
        put_json(buckets.s3, PROCESSED_BUCKET, "index/a.json", {"n": 2}, create_only=True)
    with pytest.raises(ClientError, match="PreconditionFailed"):
        put_json(buckets.s3, PROCESSED_BUCKET, "index/a.json", {"n": 2}, if_match='"0123"')
    put_json(buckets.s3, PROCESSED_BUCKET, "index/a.json", {"n": 3}, if_match=etag)
    assert json.loads(buckets.read("index/a.json")) == {"n": 3}
    with pytest.raises(ValueError, match="exclude each other"):
        put_json(buckets.s3, PROCESSED_BUCKET, "index/a.json", {}, if_match=etag, create_only=True)


def test_delete_keys_leaves_delete_markers_and_reports_keys_it_could_not_delete(buckets, monkeypatch):
    from data_processor.s3_io import DeleteFailed, delete_keys

    for key in ("processed/a", "processed/b"):
        buckets.s3.put_object(Bucket=PROCESSED_BUCKET, Key=key, Body=b"x")
    delete_keys(buckets.s3, PROCESSED_BUCKET, ["processed/a"])
    delete_keys(buckets.s3, PROCESSED_BUCKET, [])  # nothing to do: no request
    assert buckets.processed_keys() == ["processed/b"]
    history = buckets.s3.list_object_versions(Bucket=PROCESSED_BUCKET, Prefix="processed/a")
    assert len(history["DeleteMarkers"]) == 1 and len(history["Versions"]) == 1, "recoverable"

    monkeypatch.setattr(
        buckets.s3,
        "delete_objects",
        lambda **kw: {"Errors": [{"Key": "processed/b", "Code": "AccessDenied", "Message": "Access Denied"}]},
    )
    with pytest.raises(DeleteFailed, match="processed/b: AccessDenied"):
        delete_keys(buckets.s3, PROCESSED_BUCKET, ["processed/b"])


def test_key_exists_matches_the_whole_key_not_a_longer_one(buckets):
    from data_processor.s3_io import key_exists

    buckets.s3.put_object(Bucket=PROCESSED_BUCKET, Key="index/a.csv.json--b.json", Body=b"{}")
    assert not key_exists(buckets.s3, PROCESSED_BUCKET, "index/a.csv.json")
    buckets.s3.put_object(Bucket=PROCESSED_BUCKET, Key="index/a.csv.json", Body=b"{}")
    assert key_exists(buckets.s3, PROCESSED_BUCKET, "index/a.csv.json")
