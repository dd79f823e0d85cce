"""S3 transfers of a local SageMaker job, through an ordinary boto3 client of the emulator.

Going through the server (not moto's backend objects) means bucket policies, KMS checks and
notifications apply as they would to SageMaker's own requests on AWS.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from emulator.child_process import DUMMY_ACCESS_KEY

DUMMY_CREDENTIALS = {"aws_access_key_id": DUMMY_ACCESS_KEY, "aws_secret_access_key": DUMMY_ACCESS_KEY}


class TransferError(Exception):
    """An S3 URI or object that a job cannot read or write; the message names it."""


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")``; raises ``TransferError`` for anything else."""
    parts = urlsplit(str(uri))
    if parts.scheme != "s3" or not parts.netloc:
        raise TransferError(f"not an S3 URI: {uri!r}")
    return parts.netloc, parts.path.lstrip("/")


def relative_key(prefix: str, key: str) -> str:
    """Where ``key`` (matched by ``prefix``) lands under the local path, as SageMaker's S3Prefix does.

    The object named by the whole prefix keeps its file name; below a prefix that ends a path
    segment the rest of the key is kept; a prefix that ends part-way through a segment
    (``data/tra`` for ``data/train/a.csv``) keeps that segment (``train/a.csv``).
    """
    if key == prefix:
        return posixpath.basename(key)
    if not prefix or prefix.endswith("/") or key[len(prefix)] == "/":
        return key[len(prefix) :].lstrip("/")
    return key[len(posixpath.dirname(prefix)) :].lstrip("/")


def client(endpoint_url: str, region: str) -> Any:
    """An S3 client of the emulator with dummy credentials (path-style, few retries)."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(retries={"max_attempts": 2}, s3={"addressing_style": "path"}),
        **DUMMY_CREDENTIALS,
    )


class S3Transfer:
    """Download prefixes into directories and upload directories under prefixes."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    def download(self, uri: str, directory: Path) -> list[Path]:
        """Every object whose key starts with the URI's key, into ``directory`` (S3DataType S3Prefix)."""
        from botocore.exceptions import ClientError

        bucket, prefix = split_uri(uri)
        written = []
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    relative = relative_key(prefix, key)
                    if not relative or key.endswith("/"):  # folder markers hold nothing
                        continue
                    target = _inside(directory, relative)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self._s3.download_file(bucket, key, str(target))
                    written.append(target)
        except ClientError as exc:
            raise TransferError(f"cannot download {uri}: {exc}") from exc
        if not written:
            raise TransferError(f"no objects under {uri}")
        return written

    def upload_tree(self, directory: Path, uri: str, kms_key_id: str | None) -> list[str]:
        """Every file under ``directory`` to ``<uri>/<relative path>`` (SSE-KMS with the key when given)."""
        bucket, prefix = split_uri(uri)
        keys = []
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            key = "/".join(part for part in (prefix.rstrip("/"), path.relative_to(directory).as_posix()) if part)
            self.upload_file(path, f"s3://{bucket}/{key}", kms_key_id)
            keys.append(key)
        return keys

    def upload_file(self, path: Path, uri: str, kms_key_id: str | None) -> None:
        """One file to ``uri``; with ``kms_key_id``, encrypted SSE-KMS under that key, as SageMaker does."""
        from botocore.exceptions import ClientError

        bucket, key = split_uri(uri)
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
        try:
            with path.open("rb") as body:
                self._s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)
        except ClientError as exc:
            raise TransferError(f"cannot upload {uri}: {exc}") from exc

    def read_json(self, uri: str) -> Any:
        """The JSON document at ``uri``."""
        from botocore.exceptions import ClientError

        bucket, key = split_uri(uri)
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise TransferError(f"cannot read {uri}: {exc}") from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise TransferError(f"{uri} is not JSON: {exc}") from exc


def _inside(directory: Path, relative: str) -> Path:
    """``directory/relative``, refusing keys that would climb out of it (``../``)."""
    parts = [part for part in PurePosixPath(relative).parts if part not in ("", ".", "/")]
    if ".." in parts:
        raise TransferError(f"refusing object key part {relative!r}: it leaves the job's directory")
    return directory.joinpath(*parts)


__all__ = ["S3Transfer", "TransferError", "client", "relative_key", "split_uri"]
