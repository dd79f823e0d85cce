"""Evaluate: score test.csv with the model in model.tar.gz through model_format (standard library), the very code
inference runs, and write metrics.json for the pipeline's quality gate (metrics.auc) and for publish.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import model_format
from atomic_output import staged_files
from classification_metrics import METRICS_FILE, classification_metrics
from csv_data import DataError, read_table, require_both_classes
from model_archive import ARCHIVE_FILE, read_model, sha256_file
from script_cli import run

TEST_FILE = "test.csv"


def evaluation_report(archive: Path, test_csv: Path) -> dict[str, Any]:
    """The metrics.json document: metrics of the model in `archive` on `test_csv`, the row counts, the threshold
    and which model was evaluated (format, label, the archive's sha256 that publish.py checks)."""
    model = read_model(archive)
    table = read_table([test_csv], model.label)
    require_both_classes(table)  # AUC needs both classes
    scores = []
    for number, record in enumerate(table.records(), start=1):
        try:
            scores.append(model_format.score(model, record))
        except model_format.RowError as exc:
            raise DataError(f"{test_csv} row {number}: {exc}") from exc
    return {
        "metrics": classification_metrics(table.labels, scores, model.threshold),
        "rows": {"test": len(table.rows), "positives": table.positives},
        "threshold": model.threshold,
        "model": {
            "format": model_format.FORMAT,
            "format_version": model_format.FORMAT_VERSION,
            "label": model.label,
            "archive_sha256": sha256_file(archive),
            "training_data_uri": model.training_data.uri,
        },
    }


def evaluate(model_dir: Path, test_dir: Path, output_dir: Path) -> dict[str, Any]:
    """Write output_dir/metrics.json (whole or not at all) and return it."""
    report = evaluation_report(model_dir / ARCHIVE_FILE, test_dir / TEST_FILE)
    with staged_files() as stage:
        stage(output_dir / METRICS_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score test.csv with model.tar.gz and write metrics.json.")
    parser.add_argument("--model-dir", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument("--test-dir", type=Path, default=Path("/opt/ml/processing/test"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/evaluation"))
    args = parser.parse_args(argv)

    def body() -> None:
        report = evaluate(args.model_dir, args.test_dir, args.output_dir)
        print(json.dumps({"evaluate": {**report["metrics"], **report["rows"]}}))

    return run("evaluate", body)


if __name__ == "__main__":
    raise SystemExit(main())
