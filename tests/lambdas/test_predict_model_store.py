"""predict.model_store's edges a moto bucket does not reach: a denied read settled by listing, size bounds checked
before anything large is read, the bounded cache; and model_archive reading bytes as it reads a path."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from predict_support import archive_bytes, model_archive

import model_archive as archive_module
from inference_common.contract import ModelChecksumMismatch, ModelContractError, ModelNotPromoted
from predict import model_store
from promotion.pointer import parse_pointer, pointer_document
from tests.training.fitted_model import trained


def pointer_for(data: bytes, version: str = "1.0.0") -> Any:
    document = pointer_document(
        model="churn",
        version=version,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        sequence=1,
        promotion={"action": "promote"},
        quality={},
        training_data_uri="s3://bucket/processed/churn/",
    )
    return parse_pointer(json.dumps(document), "churn")


class DeniedClient:
    """Answers GetObject with 403 AccessDenied (ListBucket limited to a prefix) and lists `present` keys."""

    def __init__(self, present: tuple[str, ...] = ()) -> None:
        self.present = present
        self.gets: list[str] = []

    def get_object(self, Bucket: str, Key: str) -> Any:
        self.gets.append(Key)
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")

    def list_objects_v2(self, Bucket: str, Prefix: str, MaxKeys: int) -> dict[str, Any]:
        return {"Contents": [{"Key": key} for key in self.present if key.startswith(Prefix)][:MaxKeys]}


def test_a_denied_pointer_read_of_a_key_that_does_not_exist_is_model_not_promoted() -> None:
    with pytest.raises(ModelNotPromoted, match="model 'churn' has no production pointer s3://prod/models/churn/"):
        model_store.read_pointer(DeniedClient(), "prod", "churn")


def test_a_denied_pointer_read_of_a_key_that_exists_is_a_real_denial() -> None:
    with pytest.raises(ClientError, match="AccessDenied"):
        model_store.read_pointer(DeniedClient(present=("models/churn/production.json",)), "prod", "churn")


def test_an_archive_over_the_size_bound_is_refused_before_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    data = model_archive(trained().model_json)
    monkeypatch.setattr(model_store, "MAX_ARCHIVE_BYTES", len(data) - 1)
    client = DeniedClient()
    with pytest.raises(ModelContractError, match=f"the pointer says {len(data)} bytes, over the {len(data) - 1} bytes"):
        model_store.download_archive(client, "prod", pointer_for(data))
    assert client.gets == []


def test_a_model_json_over_its_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = model_archive(trained().model_json)
    monkeypatch.setattr(model_store, "MAX_MODEL_JSON_BYTES", 100)
    with pytest.raises(ModelContractError, match=r"model.json is [0-9]+ bytes, over the 100 byte limit"):
        model_store.model_from_archive(data, pointer_for(data))


def test_an_archive_with_two_model_json_files_is_refused() -> None:
    text = trained().model_json.encode()
    data = archive_bytes({"model.json": text, "./model.json": text})
    with pytest.raises(
        ModelContractError, match=r"expected one regular file model.json, the archive holds \./model.json, model.json"
    ):
        model_store.model_from_archive(data, pointer_for(data))


def test_the_cache_keeps_the_most_recently_used_models() -> None:
    cache = model_store.ModelCache(max_entries=2)
    model = trained().model
    cache.put(("churn", "1.0.0", "a"), model)
    cache.put(("churn", "1.1.0", "b"), model)
    assert cache.get(("churn", "1.0.0", "a")) is model  # now the most recent
    cache.put(("churn", "1.2.0", "c"), model)
    assert len(cache) == 2
    assert cache.get(("churn", "1.1.0", "b")) is None
    assert cache.get(("churn", "1.0.0", "a")) is model
    assert cache.get(("churn", "1.0.0", "other sha256")) is None


def test_a_cache_of_no_entries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_entries must be at least 1, got 0"):
        model_store.ModelCache(max_entries=0)


def test_model_archive_reads_bytes_as_it_reads_a_path(tmp_path: Path) -> None:
    data = model_archive(trained().model_json)
    path = tmp_path / "model.tar.gz"
    path.write_bytes(data)
    assert archive_module.read_model(data) == archive_module.read_model(path) == trained().model
    assert archive_module.read_model_json(data) == trained().model_json.encode()
    with pytest.raises(ValueError, match=r"model.tar.gz \(9 bytes\): not a readable tar.gz archive"):
        archive_module.read_model_json(b"not a tar")
    path.write_bytes(b"not a tar")
    with pytest.raises(ValueError, match=f"{path}: not a readable tar.gz archive"):
        archive_module.read_model(path)


class TrickleBody(io.BytesIO):
    """A network stream that returns at most 100 bytes per read, and records what was asked."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []
        self.given = 0

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(-1 if size is None else size)
        chunk = super().read(100 if size is None or size < 0 else min(size, 100))
        self.given += len(chunk)
        return chunk


class ServingClient:
    def __init__(self, body: TrickleBody) -> None:
        self.body = body

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": self.body}


def test_an_archive_arriving_in_short_reads_is_read_whole_and_checked() -> None:
    data = model_archive(trained().model_json)
    body = TrickleBody(data)
    assert model_store.download_archive(ServingClient(body), "prod", pointer_for(data)) == data
    assert body.closed and all(0 < size <= len(data) + 1 for size in body.asked)


def test_an_archive_longer_than_promoted_is_read_one_byte_past_the_promoted_size_only() -> None:
    data = model_archive(trained().model_json)
    body = TrickleBody(data + b"\x00" * 10_000)
    with pytest.raises(ModelChecksumMismatch, match=f"holds more than {len(data)} bytes"):
        model_store.download_archive(ServingClient(body), "prod", pointer_for(data))
    assert body.given == len(data) + 1 and body.closed
