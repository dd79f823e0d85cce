"""Seeded, deterministic sample data for the platform: a realistic customer-churn CSV dataset.

    python -m sample_data --rows 10000 --bad-rows 40 --seed 7 --gzip --out churn.csv.gz
    python -m sample_data --size-mb 50 --bad-fraction 0.01 --out churn.csv
    python -m sample_data --bad-file not_utf8 --out bad.csv

The columns match the `churn` dataset of platform_config/datasets.toml.
"""

from sample_data.churn import COLUMNS, DEFECT_KINDS, SampleRow, generate_rows
from sample_data.files import (
    BAD_FILE_KINDS,
    EXCEL_TRAILING_BLANK_LINES,
    WriteSummary,
    bad_file_bytes,
    csv_bytes,
    excel_csv_bytes,
    write_bad_file,
    write_csv,
)

__all__ = [
    "BAD_FILE_KINDS",
    "COLUMNS",
    "DEFECT_KINDS",
    "EXCEL_TRAILING_BLANK_LINES",
    "SampleRow",
    "WriteSummary",
    "bad_file_bytes",
    "csv_bytes",
    "excel_csv_bytes",
    "generate_rows",
    "write_bad_file",
    "write_csv",
]
