"""CopyObject with x-amz-copy-source-if-match copies only the source it names, as on AWS (412 otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def test_copy_if_match_copies_the_named_bytes_and_refuses_changed_ones(
    aws: Callable[[str], Any], name: Callable[[str], str]
) -> None:
    s3 = aws("s3")
    source, target = name("copy-src"), name("copy-dst")
    for bucket in (source, target):
        s3.create_bucket(Bucket=bucket)
    checked = s3.put_object(Bucket=source, Key="model.tar.gz", Body=b"the bytes that were checked")["ETag"]
    for etag in (checked, checked.strip('"')):  # S3 takes it quoted or not
        s3.copy_object(Bucket=target, Key="model.tar.gz", CopySource=f"{source}/model.tar.gz", CopySourceIfMatch=etag)
    assert s3.get_object(Bucket=target, Key="model.tar.gz")["Body"].read() == b"the bytes that were checked"

    s3.put_object(Bucket=source, Key="model.tar.gz", Body=b"bytes swapped in after the check")
    with pytest.raises(ClientError) as refused:
        s3.copy_object(
            Bucket=target, Key="model.tar.gz", CopySource=f"{source}/model.tar.gz", CopySourceIfMatch=checked
        )
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket=target, Key="model.tar.gz")["Body"].read() == b"the bytes that were checked"
