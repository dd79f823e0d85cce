"""Publish: put the evaluated model in the candidate folder as <version>/model.tar.gz (the training job's archive,
byte for byte), metrics.json (evaluate.py's, byte for byte) and manifest.json, all three or nothing.

Refuses (exit 1, nothing written) a bad model name or version, an archive without a valid model.json, a
metrics.json that evaluated another archive, a --training-data-uri other than the one the model was trained on, or
(with --published-models-uri) a version already published there.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import model_format
from atomic_output import staged_directory
from classification_metrics import METRIC_NAMES, METRICS_FILE
from model_archive import ARCHIVE_FILE, read_model, sha256_file
from model_naming import (
    DEFAULT_VERSION_BASE,
    check_model_name,
    check_model_version,
    check_version_base,
    resolve_version,
)
from published_models import check_version_unpublished
from script_cli import run

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1
_ARN = re.compile(r"arn:\S+")


def read_metrics(path: Path) -> dict[str, Any]:
    """evaluate.py's report, checked: every metric a number, and the evaluated archive's sha256."""
    try:
        report = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    metrics = report.get("metrics") if isinstance(report, dict) else None
    if not isinstance(metrics, dict):
        raise ValueError(f"{path} has no metrics object")
    for name in METRIC_NAMES:
        value = metrics.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{path}: metrics.{name} must be a number, not {value!r}")
    if not isinstance(report.get("model"), dict) or not isinstance(report["model"].get("archive_sha256"), str):
        raise ValueError(f"{path} has no model.archive_sha256 (not written by evaluate.py?)")
    return report


def build_manifest(
    *,
    name: str,
    version: str,
    model: model_format.LinearModel,
    archive: Path,
    metrics_path: Path,
    metrics: dict[str, float],
    pipeline_execution_arn: str,
    created_at: datetime,
) -> dict[str, Any]:
    """manifest.json: what the candidate is, which files make it (with sha256), where it came from."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "model": {"name": name, "version": version},
        "format": model_format.FORMAT,
        "format_version": model_format.FORMAT_VERSION,
        "artifact": {"file": ARCHIVE_FILE, "sha256": sha256_file(archive), "bytes": archive.stat().st_size},
        "metrics": {"file": METRICS_FILE, "sha256": sha256_file(metrics_path), "values": metrics},
        "training_data": {
            "uri": model.training_data.uri,
            "rows": model.training_data.rows,
            "positives": model.training_data.positives,
        },
        "pipeline_execution_arn": pipeline_execution_arn,
        "created_at": created_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def publish(
    model_dir: Path,
    evaluation_dir: Path,
    candidate_dir: Path,
    *,
    name: str,
    version: str,
    version_base: str,
    training_data_uri: str,
    pipeline_execution_arn: str,
    now: datetime,
    published_models_uri: str | None = None,
) -> Path:
    """Check everything, then write candidate_dir/<version>/ whole; returns that folder. With
    `published_models_uri`, the resolved version must not exist there yet (checked right before writing)."""
    check_model_name(name)
    check_model_version(version)
    check_version_base(version_base)
    if not _ARN.fullmatch(pipeline_execution_arn):
        raise ValueError(f"pipeline execution ARN {pipeline_execution_arn!r} is not an ARN (arn:...)")
    archive, metrics_path = model_dir / ARCHIVE_FILE, evaluation_dir / METRICS_FILE
    model = read_model(archive)
    report = read_metrics(metrics_path)
    archive_sha256 = sha256_file(archive)
    if report["model"]["archive_sha256"] != archive_sha256:
        raise ValueError(
            f"{metrics_path} evaluated the archive with sha256 {report['model']['archive_sha256']}, "
            f"not {archive} ({archive_sha256})"
        )
    if model.training_data.uri != training_data_uri:
        raise ValueError(
            f"--training-data-uri {training_data_uri!r} is not the model's training data ({model.training_data.uri!r})"
        )
    resolved = resolve_version(version, version_base, now)
    manifest = build_manifest(
        name=name,
        version=resolved,
        model=model,
        archive=archive,
        metrics_path=metrics_path,
        metrics=report["metrics"],
        pipeline_execution_arn=pipeline_execution_arn,
        created_at=now,
    )
    target = candidate_dir / resolved
    if published_models_uri is not None:
        check_version_unpublished(published_models_uri, name, resolved)
    with staged_directory(target) as staging:
        shutil.copyfile(archive, staging / ARCHIVE_FILE)
        shutil.copyfile(metrics_path, staging / METRICS_FILE)
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        # The copies are what the manifest describes (a file changed under us would be caught here).
        if sha256_file(staging / ARCHIVE_FILE) != manifest["artifact"]["sha256"]:
            raise OSError(f"{archive} changed while it was being published")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Publish the evaluated model to the candidate folder.")
    parser.add_argument("--model-name", required=True, help="^[a-z][a-z0-9-]{1,62}$")
    parser.add_argument("--model-version", default="auto", help="semver, or auto: <version-base>.<UTC clock>")
    parser.add_argument("--version-base", default=DEFAULT_VERSION_BASE, help="MAJOR.MINOR for auto (default 1.0)")
    parser.add_argument("--training-data-uri", required=True, help="must be the model's training data URI")
    parser.add_argument("--pipeline-execution-arn", required=True)
    parser.add_argument("--model-dir", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument("--evaluation-dir", type=Path, default=Path("/opt/ml/processing/evaluation"))
    parser.add_argument("--candidate-dir", type=Path, default=Path("/opt/ml/processing/candidate"))
    parser.add_argument(
        "--published-models-uri", help="s3://<bucket>/models: fail if <name>/<version>/ exists (default: no check)"
    )
    args = parser.parse_args(argv)

    def body() -> None:
        target = publish(
            args.model_dir,
            args.evaluation_dir,
            args.candidate_dir,
            name=args.model_name,
            version=args.model_version,
            version_base=args.version_base,
            training_data_uri=args.training_data_uri,
            pipeline_execution_arn=args.pipeline_execution_arn,
            now=datetime.now(timezone.utc),
            published_models_uri=args.published_models_uri,
        )
        print(json.dumps({"publish": {"version": target.name, "path": str(target)}}))

    return run("publish", body)


if __name__ == "__main__":
    raise SystemExit(main())
