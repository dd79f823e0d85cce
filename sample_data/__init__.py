"""Seeded, deterministic sample data for the platform: a realistic customer-churn CSV dataset.

    python -m sample_data --rows 10000 --bad-rows 40 --seed 7 --gzip --out churn.csv.gz
    python -m sample_data --size-mb 50 --bad-fraction 0.01 --out churn.csv
    python -m sample_data --bad-file not_utf8 --out bad.csv
    python -m sample_data --rows 1000 --bad-rows 10 --unlabeled --out batch.csv   (an inference batch)

The columns match the `churn` dataset of platform_config/datasets.toml.
"""

from sample_data.churn import BATCH_COLUMNS, COLUMNS, DEFECT_KINDS, LABEL, SampleRow, generate_rows, without_label
from sample_data.files import (
    BAD_FILE_KINDS,
    EXCEL_TRAILING_BLANK_LINES,
    WriteSummary,
    bad_file_bytes,
    batch_csv_bytes,
    csv_bytes,
    excel_csv_bytes,
    write_bad_file,
    write_csv,
)

__all__ = [
    "BAD_FILE_KINDS",
    "BATCH_COLUMNS",
    "COLUMNS",
    "DEFECT_KINDS",
    "EXCEL_TRAILING_BLANK_LINES",
    "LABEL",
    "SampleRow",
    "WriteSummary",
    "bad_file_bytes",
    "batch_csv_bytes",
    "csv_bytes",
    "excel_csv_bytes",
    "generate_rows",
    "without_label",
    "write_bad_file",
    "write_csv",
]
