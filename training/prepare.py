"""Prepare: read every processed churn CSV under --input-dir, check it, and split it into train.csv and test.csv
(stratified by the label, seeded). Also checks --model-name and --model-version, so a bad name fails the pipeline
before anything is trained, and with --published-models-uri that an explicit version is not published yet. With
--code-snapshot-dir it also copies the code it runs from (this script's folder) there, for the later steps.

    python3 prepare.py --label churned --test-fraction 0.2 --seed 42 --model-name churn --model-version auto
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from collections.abc import Sequence
from pathlib import Path

from atomic_output import staged_files
from csv_data import DataError, find_csv_files, read_table, require_both_classes, write_table
from feature_spec import CHURN, FeatureSpec
from model_naming import AUTO, check_model_name, check_model_version
from published_models import check_version_unpublished
from script_cli import run

TRAIN_FILE = "train.csv"
TEST_FILE = "test.csv"
CODE_DIR = Path(__file__).resolve().parent  # where the pipeline downloaded the code (scripts, sourcedir.tar.gz)


def stratified_split(labels: Sequence[int], test_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Row indices (train, test), each in input order. Each class gives round(n * test_fraction) of its n rows
    to test, at least one and at most n - 1, so both splits hold both classes (each class needs 2 rows)."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test fraction {test_fraction} must be between 0 and 1 (exclusive)")
    rng = random.Random(seed)
    test: list[int] = []
    for value in (0, 1):
        members = [index for index, label in enumerate(labels) if label == value]
        if len(members) < 2:
            raise DataError(f"class {value} has {len(members)} row(s); each class needs at least 2 to split")
        rng.shuffle(members)
        test.extend(members[: min(len(members) - 1, max(1, round(len(members) * test_fraction)))])
    chosen = set(test)
    return [index for index in range(len(labels)) if index not in chosen], sorted(test)


def prepare(
    input_dir: Path,
    train_dir: Path,
    test_dir: Path,
    *,
    label: str,
    test_fraction: float,
    seed: int,
    spec: FeatureSpec = CHURN,
    code_snapshot_dir: Path | None = None,
    code_dir: Path = CODE_DIR,
) -> dict[str, int]:
    """Read, check and split; writes train_dir/train.csv and test_dir/test.csv, and with `code_snapshot_dir` a
    copy of every file under `code_dir` (__pycache__ aside), together or not at all. Returns the counts it logs:
    files, rows, train, test, positives (and code_files with a snapshot)."""
    files = find_csv_files(input_dir)
    table = read_table(files, label, spec)
    require_both_classes(table, minimum=2)
    train, test = stratified_split(table.labels, test_fraction, seed)
    code_files = code_snapshot(code_dir) if code_snapshot_dir is not None else []
    with staged_files() as stage:
        write_table(stage(train_dir / TRAIN_FILE), table.header, [table.rows[i] for i in train])
        write_table(stage(test_dir / TEST_FILE), table.header, [table.rows[i] for i in test])
        for relative in code_files:
            assert code_snapshot_dir is not None  # code_files is empty without it
            shutil.copyfile(code_dir / relative, stage(code_snapshot_dir / relative))
    counts = {
        "files": len(files),
        "rows": len(table.rows),
        "train": len(train),
        "test": len(test),
        "positives": table.positives,
    }
    return {**counts, "code_files": len(code_files)} if code_snapshot_dir is not None else counts


def code_snapshot(code_dir: Path) -> list[Path]:
    """Every file under `code_dir` (relative, sorted), none under __pycache__: what --code-snapshot-dir copies, so
    the later steps run this execution's code even if a deploy replaces the code prefix meanwhile."""
    files = sorted(
        path.relative_to(code_dir)
        for path in code_dir.rglob("*")
        if path.is_file() and "__pycache__" not in path.relative_to(code_dir).parts
    )
    if not files:
        raise ValueError(f"no code files under {code_dir} to snapshot")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Split the processed churn CSVs into train.csv and test.csv.")
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--train-dir", type=Path, default=Path("/opt/ml/processing/train"))
    parser.add_argument("--test-dir", type=Path, default=Path("/opt/ml/processing/test"))
    parser.add_argument("--label", default="churned", help="the label column, true/false (default churned)")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of each class in test (default 0.2)")
    parser.add_argument("--seed", type=int, default=42, help="split seed (default 42)")
    parser.add_argument("--model-name", default="churn", help="checked only: ^[a-z][a-z0-9-]{1,62}$ (default churn)")
    parser.add_argument("--model-version", default="auto", help="checked only: auto or semver (default auto)")
    parser.add_argument(
        "--published-models-uri",
        help="s3://<bucket>/models: fail if <name>/<version>/ exists there (explicit versions; default: no check)",
    )
    parser.add_argument(
        "--code-snapshot-dir", type=Path, help="copy this script's folder (the pipeline's code) here (default: no)"
    )
    args = parser.parse_args(argv)

    def body() -> None:
        check_model_name(args.model_name)
        check_model_version(args.model_version)
        if args.published_models_uri is not None and args.model_version != AUTO:
            check_version_unpublished(args.published_models_uri, args.model_name, args.model_version)
        counts = prepare(
            args.input_dir,
            args.train_dir,
            args.test_dir,
            label=args.label,
            test_fraction=args.test_fraction,
            seed=args.seed,
            code_snapshot_dir=args.code_snapshot_dir,
        )
        print(json.dumps({"prepare": counts}))

    return run("prepare", body)


if __name__ == "__main__":
    raise SystemExit(main())
