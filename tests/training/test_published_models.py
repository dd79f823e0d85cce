"""Versions are never overwritten: with --published-models-uri, prepare (explicit versions, before training) and
publish (the resolved version, right before writing) refuse a version that exists in S3 (moto); an S3 error is one
line too. Also prepare's --code-snapshot-dir: the code folder copied whole, or nothing at all."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

import prepare
import publish
from published_models import check_version_unpublished, split_s3_uri
from tests.moto_support import mock_aws_without_managed_policies
from tests.training.conftest import churn_rows, files_under, write_csv
from tests.training.test_bad_inputs import ARN, URI, _fails, _prepare, trained_run  # noqa: F401 (fixture)

BUCKET = "acme-dev-model-candidates"
MODELS = f"s3://{BUCKET}/models"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A moto S3 with the candidate bucket holding churn 1.2.3 (as publish's output lands there)."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws_without_managed_policies():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        client.put_object(Bucket=BUCKET, Key="models/churn/1.2.3/manifest.json", Body=b"{}")
        yield client


def test_an_existing_version_is_refused_naming_it(s3) -> None:
    with pytest.raises(ValueError) as refused:
        check_version_unpublished(MODELS, "churn", "1.2.3")
    assert str(refused.value) == (
        f"model churn version 1.2.3 already exists at {MODELS}/churn/1.2.3/; "
        "versions are never overwritten: pass a new ModelVersion"
    )


@pytest.mark.parametrize(("name", "version"), [("churn", "1.2.4"), ("churn", "1.2.30"), ("churn-v2", "1.2.3")])
def test_a_new_version_passes_even_beside_a_similar_key(s3, name: str, version: str) -> None:
    check_version_unpublished(MODELS + "/", name, version)  # 1.2.30 is not under 1.2.3/: the prefix ends in /


def test_an_s3_error_is_one_clear_oserror(s3) -> None:
    with pytest.raises(OSError, match=r"cannot check whether model churn version 1.2.3 exists at s3://no-such-bucket/"):
        check_version_unpublished("s3://no-such-bucket/models", "churn", "1.2.3")


def test_access_denied_is_one_line_naming_the_location(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path) -> None:
    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
    write_csv(tmp_path / "in" / "a.csv", churn_rows(50))
    with stubber:
        code = prepare.main(_prepare(tmp_path, "--model-version", "2.0.0", "--published-models-uri", MODELS))
    _fails(code, capsys, "prepare", f"exists at {MODELS}/churn/2.0.0/", "(AccessDenied)", "Access Denied")
    assert capsys.readouterr().err == ""  # _fails read the one line; nothing else was printed
    assert files_under(tmp_path / "out") == []


@pytest.mark.parametrize("uri", ["models", "s3://bucket", "s3:///models", "https://bucket/models"])
def test_a_uri_that_is_not_an_s3_prefix_is_refused(uri: str) -> None:
    with pytest.raises(ValueError, match="is not an S3 prefix: s3://<bucket>/<prefix>"):
        split_s3_uri(uri)


def test_prepare_refuses_an_explicit_published_version_before_splitting(s3, tmp_path: Path, capsys) -> None:
    write_csv(tmp_path / "in" / "a.csv", churn_rows(50))
    code = prepare.main(_prepare(tmp_path, "--model-version", "1.2.3", "--published-models-uri", MODELS))
    _fails(code, capsys, "prepare", "model churn version 1.2.3 already exists", "pass a new ModelVersion")
    assert files_under(tmp_path / "out") == []
    assert prepare.main(_prepare(tmp_path, "--model-version", "auto", "--published-models-uri", MODELS)) == 0
    assert files_under(tmp_path / "out") == ["test/test.csv", "train/train.csv"]


def test_publish_refuses_a_published_version_explicit_or_auto(s3, trained_run: Path, capsys) -> None:  # noqa: F811
    capsys.readouterr()
    args = [
        *("--model-name", "churn", "--model-version", "1.2.3", "--training-data-uri", URI),
        *("--pipeline-execution-arn", ARN, "--model-dir", str(trained_run / "model")),
        *("--evaluation-dir", str(trained_run / "evaluation"), "--candidate-dir", str(trained_run / "candidate")),
        *("--published-models-uri", MODELS),
    ]
    _fails(publish.main(args), capsys, "publish", "model churn version 1.2.3 already exists")
    assert files_under(trained_run / "candidate") == []

    now = datetime(2025, 6, 30, 14, 25, 1, tzinfo=UTC)
    s3.put_object(Bucket=BUCKET, Key="models/churn/1.0.20250630142501/model.tar.gz", Body=b"x")
    kwargs = {
        "name": "churn",
        "version": "auto",
        "version_base": "1.0",
        "training_data_uri": URI,
        "pipeline_execution_arn": ARN,
        "now": now,
        "published_models_uri": MODELS,
    }
    with pytest.raises(ValueError, match=r"model churn version 1\.0\.20250630142501 already exists"):
        publish.publish(trained_run / "model", trained_run / "evaluation", trained_run / "candidate", **kwargs)
    assert files_under(trained_run / "candidate") == []
    target = publish.publish(
        trained_run / "model", trained_run / "evaluation", trained_run / "candidate", **{**kwargs, "version": "1.2.4"}
    )
    assert target.name == "1.2.4"


def test_the_code_snapshot_copies_every_code_file_but_pycache(tmp_path: Path) -> None:
    code = tmp_path / "code"
    for name in ("prepare.py", "sourcedir.tar.gz", "sub/extra.txt", "__pycache__/prepare.cpython-39.pyc"):
        (code / name).parent.mkdir(parents=True, exist_ok=True)
        (code / name).write_bytes(name.encode())
    write_csv(tmp_path / "in" / "a.csv", churn_rows(50))
    out = tmp_path / "out"
    counts = prepare.prepare(
        tmp_path / "in",
        out / "train",
        out / "test",
        label="churned",
        test_fraction=0.2,
        seed=1,
        code_snapshot_dir=out / "code",
        code_dir=code,
    )
    assert counts["code_files"] == 3
    assert files_under(out / "code") == ["prepare.py", "sourcedir.tar.gz", "sub/extra.txt"]
    assert (out / "code" / "sourcedir.tar.gz").read_bytes() == b"sourcedir.tar.gz"


def test_a_failed_prepare_leaves_no_code_snapshot(tmp_path: Path, capsys) -> None:
    write_csv(tmp_path / "in" / "a.csv", [[*r[:-1], "false"] for r in churn_rows(20)])  # one class only
    code = prepare.main(_prepare(tmp_path, "--code-snapshot-dir", str(tmp_path / "out" / "code")))
    _fails(code, capsys, "prepare", "needs at least 2 row(s) of each class")
    assert files_under(tmp_path / "out") == []
