"""The four scripts as the pipeline runs them: subprocesses with the contract's CLI, in a folder laid out like
/opt/ml, the model archive made as SageMaker makes it; the published candidate is checked."""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path

import pytest

from sample_data import write_csv as write_sample_csv
from tests.training.conftest import RUNTIMES, churn_rows, files_under, write_csv

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/ml-training/execution/x1y2z3"
URI = "s3://acme-local-processed-data/processed/churn/"


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _sagemaker_model_archive(model_dir: Path, archive: Path) -> None:
    """What SageMaker uploads as <job>/output/model.tar.gz: a gzip tar of SM_MODEL_DIR's contents."""
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)


@pytest.mark.parametrize("script_python", RUNTIMES, indirect=True)
def test_prepare_train_evaluate_publish_as_the_pipeline_runs_them(tmp_path: Path, run_script) -> None:
    ml = tmp_path / "opt" / "ml"
    processing = ml / "processing"
    data = processing / "input" / "data"
    snapshot = processing / "code-snapshot"
    # The processed bucket's layout: gzip CSVs per day with manifests beside them (ignored by prepare).
    write_sample_csv(data / "dt=2025-06-29" / "export--a" / "null.csv.gz", seed=1, rows=700, gzip_output=True)
    (data / "dt=2025-06-29" / "export--a" / "null.manifest.json").write_text('{"rows_written": 700}')
    write_csv(data / "dt=2025-06-30" / "export--b" / "null.csv.gz", churn_rows(500, seed=2))

    prepared = _ok(
        run_script(
            "prepare",
            "--input-dir",
            str(data),
            "--train-dir",
            str(processing / "train"),
            "--test-dir",
            str(processing / "test"),
            "--label",
            "churned",
            "--test-fraction",
            "0.2",
            "--seed",
            "42",
            "--model-name",
            "churn",
            "--model-version",
            "auto",
            "--code-snapshot-dir",
            str(snapshot),
            cwd=tmp_path,
        )
    )
    counts = json.loads(prepared)["prepare"]
    assert counts["files"] == 2 and counts["rows"] == 1200 and counts["train"] + counts["test"] == 1200
    # The later steps run this execution's code from prepare's snapshot, as the pipeline does.
    assert {f"{name}.py" for name in ("train", "evaluate", "publish")} <= set(files_under(snapshot))
    assert not [name for name in files_under(snapshot) if "__pycache__" in name]

    # SageMaker's training job sees the Prepare "train" output as the train channel.
    channel = ml / "input" / "data" / "train"
    channel.mkdir(parents=True)
    (channel / "train.csv").write_bytes((processing / "train" / "train.csv").read_bytes())
    env = {"SM_CHANNEL_TRAIN": str(channel), "SM_MODEL_DIR": str(ml / "model")}
    hyperparameters = ["--label", "churned", "--regularization", "1.0", "--max-iter", "1000"]
    _ok(run_script("train", *hyperparameters, "--training-data-uri", URI, env=env, cwd=tmp_path, code=snapshot))
    assert files_under(ml / "model") == ["model.json"]

    archive = processing / "model" / "model.tar.gz"
    _sagemaker_model_archive(ml / "model", archive)
    _ok(
        run_script(
            "evaluate",
            "--model-dir",
            str(processing / "model"),
            "--test-dir",
            str(processing / "test"),
            "--output-dir",
            str(processing / "evaluation"),
            cwd=tmp_path,
            code=snapshot,
        )
    )
    metrics = json.loads((processing / "evaluation" / "metrics.json").read_text())
    assert metrics["rows"]["test"] == counts["test"]
    assert metrics["metrics"]["auc"] > 0.7  # the pipeline's quality gate
    assert set(metrics["metrics"]) == {"auc", "accuracy", "precision", "recall", "f1", "log_loss"}

    candidate = processing / "candidate"
    _ok(
        run_script(
            "publish",
            "--model-name",
            "churn",
            "--model-version",
            "auto",
            "--training-data-uri",
            URI,
            "--pipeline-execution-arn",
            ARN,
            "--model-dir",
            str(processing / "model"),
            "--evaluation-dir",
            str(processing / "evaluation"),
            "--candidate-dir",
            str(candidate),
            cwd=tmp_path,
            code=snapshot,
        )
    )
    published = files_under(candidate)
    version = published[0].split("/")[0]
    assert re.fullmatch(r"1\.0\.20\d{12}", version), version
    assert published == [f"{version}/manifest.json", f"{version}/metrics.json", f"{version}/model.tar.gz"]
    folder = candidate / version
    assert (folder / "model.tar.gz").read_bytes() == archive.read_bytes()
    assert (folder / "metrics.json").read_bytes() == (processing / "evaluation" / "metrics.json").read_bytes()

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["artifact"]["sha256"] == hashlib.sha256((folder / "model.tar.gz").read_bytes()).hexdigest()
    assert manifest["metrics"]["sha256"] == hashlib.sha256((folder / "metrics.json").read_bytes()).hexdigest()
    assert manifest["metrics"]["values"] == metrics["metrics"]
    assert manifest["model"] == {"name": "churn", "version": version}
    assert manifest["pipeline_execution_arn"] == ARN
    train_labels = [line.rsplit(",", 1)[1] for line in (channel / "train.csv").read_text().splitlines()[1:]]
    assert manifest["training_data"] == {"uri": URI, "rows": counts["train"], "positives": train_labels.count("true")}
    assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["created_at"])
    assert version.endswith(re.sub(r"\D", "", manifest["created_at"]))
