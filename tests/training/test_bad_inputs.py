"""Each bad input stops its script with exit 1 and one message naming the bad thing, and writes nothing."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

import evaluate
import prepare
import publish
import train
from sample_data import COLUMNS
from tests.training.conftest import churn_rows, files_under, write_csv

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/training/execution/abc123"
URI = "s3://prefix-processed-data/processed/churn/"


def _prepare(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "--input-dir",
        str(tmp_path / "in"),
        "--train-dir",
        str(tmp_path / "out" / "train"),
        "--test-dir",
        str(tmp_path / "out" / "test"),
        *extra,
    ]


def _fails(code: int, capsys: pytest.CaptureFixture[str], prog: str, *fragments: str) -> None:
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.startswith(f"{prog}: error: "), err
    for fragment in fragments:
        assert fragment in err, err


def _with_value(rows: list[list[str]], row: int, column: str, value: str) -> list[list[str]]:
    rows[row - 1][COLUMNS.index(column)] = value
    return rows


@pytest.mark.parametrize(
    ("make_input", "fragments"),
    [
        (
            lambda d: write_csv(d / "a.csv", [r[:-1] for r in churn_rows(20)], COLUMNS[:-1]),
            ["a.csv: no label column 'churned'"],
        ),
        (
            lambda d: write_csv(d / "a.csv", [[*r[:-1], "false"] for r in churn_rows(20)]),
            ["label 'churned' needs at least 2 row(s) of each class: 0 true, 20 false"],
        ),
        (lambda d: write_csv(d / "dt=2025-06-30" / "a.csv.gz", []), ["no data rows in 1 file(s)", "a.csv.gz"]),
        (lambda d: (d / "a.manifest.json").write_text("{}"), ["no *.csv or *.csv.gz files under"]),
        (lambda d: (d / "a.csv").write_text(""), ["a.csv: the file is empty (no header)"]),
        (
            lambda d: write_csv(d / "b.csv.gz", _with_value(churn_rows(30), 7, "monthly_charges", "N/A")),
            ["b.csv.gz row 7: column 'monthly_charges' value 'N/A' is not a number"],
        ),
        (
            lambda d: write_csv(d / "b.csv", _with_value(churn_rows(30), 3, "support_calls", "")),
            ["b.csv row 3: numeric column 'support_calls' is empty"],
        ),
        (
            lambda d: write_csv(d / "b.csv", _with_value(churn_rows(30), 4, "churned", "yes")),
            ["b.csv row 4: label column 'churned' value 'yes' is not true/false"],
        ),
        (
            lambda d: write_csv(d / "b.csv", [[*r, "x"] for r in churn_rows(5)], [*COLUMNS, "score"]),
            ["b.csv: column(s) score have no role in feature_spec.py"],
        ),
        (
            lambda d: (write_csv(d / "a.csv", churn_rows(30)), write_csv(d / "b.csv", churn_rows(3), COLUMNS[::-1])),
            ["b.csv: the header differs from"],
        ),
    ],
    ids=[
        "missing-label",
        "single-class",
        "no-rows",
        "no-files",
        "no-header",
        "not-a-number",
        "empty-required-number",
        "bad-label",
        "unknown-column",
        "another-header",
    ],
)
def test_prepare_refuses_bad_data(tmp_path: Path, capsys: pytest.CaptureFixture[str], make_input, fragments) -> None:
    (tmp_path / "in").mkdir()
    make_input(tmp_path / "in")
    _fails(prepare.main(_prepare(tmp_path)), capsys, "prepare", *fragments)
    assert files_under(tmp_path / "out") == []


def test_a_bad_row_in_a_later_file_still_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(tmp_path / "in" / "a.csv", churn_rows(200))
    write_csv(tmp_path / "in" / "b.csv", _with_value(churn_rows(10, seed=2), 10, "tenure_months", "inf"))
    _fails(prepare.main(_prepare(tmp_path)), capsys, "prepare", "b.csv row 10", "'tenure_months' value 'inf'")
    assert files_under(tmp_path / "out") == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--model-name", "Churn"], "model name 'Churn' is invalid"),
        (["--model-version", "1.0"], "model version '1.0' is invalid"),
    ],
)
def test_prepare_refuses_a_bad_model_name_or_version(tmp_path, capsys, args, fragment) -> None:
    write_csv(tmp_path / "in" / "a.csv", churn_rows(50))
    _fails(prepare.main(_prepare(tmp_path, *args)), capsys, "prepare", fragment)
    assert files_under(tmp_path / "out") == []


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ([[*r[:-1], "true"] for r in churn_rows(20)], "label 'churned' needs at least 1 row(s) of each class: 20 true"),
        (_with_value(churn_rows(20), 5, "total_charges", "12.3.4"), "train.csv row 5: column 'total_charges'"),
        ([[*r[:4], "", *r[5:]] for r in churn_rows(20)], "numeric column 'total_charges' is empty in every row"),
    ],
    ids=["single-class", "not-a-number", "all-empty-optional"],
)
def test_train_refuses_bad_data(tmp_path, capsys, monkeypatch, rows, fragment) -> None:
    write_csv(tmp_path / "train" / "train.csv", rows)
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(tmp_path / "train"))
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "model"))
    _fails(train.main(["--training-data-uri", URI]), capsys, "train", fragment)
    assert files_under(tmp_path / "model") == []


def test_train_refuses_a_missing_train_channel(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(tmp_path / "nowhere"))
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "model"))
    _fails(train.main(["--training-data-uri", URI]), capsys, "train", "nowhere/train.csv")
    assert files_under(tmp_path / "model") == []


@pytest.fixture
def trained_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path holding model/model.tar.gz and test/test.csv from a small good run, and evaluation/metrics.json."""
    write_csv(tmp_path / "in" / "a.csv", churn_rows(400))
    assert prepare.main(_prepare(tmp_path)) == 0
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(tmp_path / "out" / "train"))
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "sm-model"))
    assert train.main(["--training-data-uri", URI]) == 0
    (tmp_path / "model").mkdir()
    with tarfile.open(tmp_path / "model" / "model.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "sm-model" / "model.json", arcname="model.json")
    args = ["--model-dir", str(tmp_path / "model"), "--test-dir", str(tmp_path / "out" / "test")]
    assert evaluate.main([*args, "--output-dir", str(tmp_path / "evaluation")]) == 0
    return tmp_path


def _evaluate(run: Path) -> int:
    return evaluate.main(
        ["--model-dir", str(run / "model"), "--test-dir", str(run / "out" / "test"), "--output-dir", str(run / "eval2")]
    )


def test_evaluate_refuses_an_archive_without_model_json(trained_run: Path, capsys) -> None:
    capsys.readouterr()
    with tarfile.open(trained_run / "model" / "model.tar.gz", "w:gz") as tar:
        tar.add(trained_run / "out" / "test" / "test.csv", arcname="test.csv")
    _fails(_evaluate(trained_run), capsys, "evaluate", "expected one regular file model.json", "test.csv")
    assert files_under(trained_run / "eval2") == []


def test_evaluate_refuses_an_invalid_model_naming_the_field(trained_run: Path, capsys) -> None:
    capsys.readouterr()
    document = json.loads((trained_run / "sm-model" / "model.json").read_text())
    document["threshold"] = 2
    (trained_run / "sm-model" / "model.json").write_text(json.dumps(document))
    with tarfile.open(trained_run / "model" / "model.tar.gz", "w:gz") as tar:
        tar.add(trained_run / "sm-model" / "model.json", arcname="./model.json")
    _fails(_evaluate(trained_run), capsys, "evaluate", "model.tar.gz: model.json: threshold 2.0 must be between")
    assert files_under(trained_run / "eval2") == []


def test_evaluate_refuses_a_test_row_it_cannot_score(trained_run: Path, capsys) -> None:
    capsys.readouterr()
    test_csv = trained_run / "out" / "test" / "test.csv"
    lines = test_csv.read_text().splitlines()  # no field of these rows holds a comma or a quote
    header = lines[0].split(",")
    fields = lines[2].split(",")
    fields[header.index("tenure_months")] = "twelve"
    lines[2] = ",".join(fields)
    test_csv.write_text("\n".join(lines) + "\n")
    _fails(_evaluate(trained_run), capsys, "evaluate", "test.csv row 2: column 'tenure_months' value 'twelve'")
    assert files_under(trained_run / "eval2") == []


def _publish(run: Path, *changes: str) -> int:
    args = {
        "--model-name": "churn",
        "--model-version": "auto",
        "--training-data-uri": URI,
        "--pipeline-execution-arn": ARN,
        "--model-dir": str(run / "model"),
        "--evaluation-dir": str(run / "evaluation"),
        "--candidate-dir": str(run / "candidate"),
    }
    args.update(dict(zip(changes[::2], changes[1::2], strict=True)))
    return publish.main([item for pair in args.items() for item in pair])


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        (("--model-name", "churn_model"), "model name 'churn_model' is invalid"),
        (("--model-version", "2"), "model version '2' is invalid"),
        (("--version-base", "1.0.0"), "version base '1.0.0' is invalid"),
        (("--pipeline-execution-arn", "execution-1"), "pipeline execution ARN 'execution-1' is not an ARN"),
        (("--training-data-uri", "s3://other/"), "--training-data-uri 's3://other/' is not the model's training data"),
    ],
)
def test_publish_refuses_bad_arguments(trained_run: Path, capsys, changes, fragment) -> None:
    capsys.readouterr()
    _fails(_publish(trained_run, *changes), capsys, "publish", fragment)
    assert files_under(trained_run / "candidate") == []


def test_publish_refuses_metrics_of_another_archive(trained_run: Path, capsys) -> None:
    capsys.readouterr()
    metrics = trained_run / "evaluation" / "metrics.json"
    report = json.loads(metrics.read_text())
    report["model"]["archive_sha256"] = "0" * 64
    metrics.write_text(json.dumps(report))
    _fails(_publish(trained_run), capsys, "publish", "evaluated the archive with sha256 0000")
    assert files_under(trained_run / "candidate") == []


def test_publish_refuses_missing_metrics(trained_run: Path, capsys) -> None:
    capsys.readouterr()
    (trained_run / "evaluation" / "metrics.json").unlink()
    _fails(_publish(trained_run), capsys, "publish", "metrics.json")
    assert files_under(trained_run / "candidate") == []


def test_publish_never_overwrites_a_version(trained_run: Path, capsys) -> None:
    assert _publish(trained_run, "--model-version", "1.2.0") == 0
    before = files_under(trained_run / "candidate")
    capsys.readouterr()
    _fails(_publish(trained_run, "--model-version", "1.2.0"), capsys, "publish", "1.2.0 already exists")
    assert (
        files_under(trained_run / "candidate")
        == before
        == ["1.2.0/manifest.json", "1.2.0/metrics.json", "1.2.0/model.tar.gz"]
    )
