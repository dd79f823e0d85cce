"""Fixtures for the Lambda tests: the packaged layout on sys.path, compiled schemas, and moto S3 buckets
encrypted with SSE-KMS like production."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lambda_support import PROCESSED_BUCKET, RAW_BUCKET, REGION, Buckets, create_kms_bucket

from platform_config.datasets import load_datasets, schemas_json
from tests.moto_support import mock_aws_without_managed_policies, moto_client


@pytest.fixture(scope="session")
def schemas_text() -> str:
    """schemas.json as the packager builds it from platform_config/datasets.toml."""
    return schemas_json(load_datasets())


@pytest.fixture(scope="session")
def schemas_path(tmp_path_factory: pytest.TempPathFactory, schemas_text: str) -> Path:
    path = tmp_path_factory.mktemp("schemas") / "schemas.json"
    path.write_text(schemas_text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def schemas(schemas_text: str) -> dict[str, Any]:
    from data_processor.schema import parse_schemas

    return parse_schemas(schemas_text)


@pytest.fixture(scope="session")
def churn(schemas: dict[str, Any]) -> Any:
    return schemas["churn"]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, and no endpoint override from the developer's shell (moto intercepts in-process)."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def buckets(aws_env: None) -> Iterator[Buckets]:
    """A raw and a processed bucket, both versioned, each with its own KMS key as default encryption."""
    with mock_aws_without_managed_policies():
        s3, kms = moto_client("s3", REGION), moto_client("kms", REGION)
        for name in (RAW_BUCKET, PROCESSED_BUCKET):  # both versioned, as deployed
            create_kms_bucket(s3, kms, name)
        yield Buckets(s3=s3)


@pytest.fixture
def handler_module(buckets: Buckets, schemas_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """data_processor.handler wired to the moto client and the test schemas."""
    from data_processor import handler

    monkeypatch.setattr(handler, "s3", buckets.s3)
    monkeypatch.setenv("PROCESSED_BUCKET", PROCESSED_BUCKET)
    monkeypatch.setenv("DATASET_SCHEMAS_PATH", str(schemas_path))
    return handler


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> int:
    """Let moto accept multipart parts far below S3's 5 MiB minimum, so tests can use tiny parts."""
    import moto.s3.models

    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 256)
    return 1024
