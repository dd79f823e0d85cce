"""Read and check the churn CSVs: the processed files (plain or gzip) and the train/test splits.

Every problem is a DataError naming the file, the row (its position after the header, as the data processor
counts rows) and the column and value, so a bad input stops a script before it writes anything.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from feature_spec import FeatureSpec
from model_format import RowError, parse_number

LABEL_VALUES = {"true": 1, "false": 0}  # bool columns as datasets.toml defines them and the processor writes them
CSV_SUFFIXES = (".csv", ".csv.gz")
_GZIP_MAGIC = b"\x1f\x8b"


class DataError(ValueError):
    """The input data cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Table:
    """Rows of one or more CSV files with the same header: the fields as read, and each row's label (1 or 0)."""

    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    labels: list[int]
    label: str

    @property
    def positives(self) -> int:
        return sum(self.labels)

    def column(self, name: str) -> list[str]:
        index = self.header.index(name)
        return [row[index] for row in self.rows]

    def records(self) -> Iterator[dict[str, str]]:
        """Each row as {column: value}, the shape model_format.score takes."""
        for number, row in enumerate(self.rows, start=1):
            if len(row) != len(self.header):  # an explicit check: zip(strict=True) needs Python 3.10
                raise DataError(f"row {number}: {len(row)} fields, the header has {len(self.header)}")
            yield dict(zip(self.header, row))


def find_csv_files(root: Path) -> list[Path]:
    """Every *.csv and *.csv.gz under `root` (recursive, sorted, so the row order is stable); other files such as
    the processor's *.manifest.json are ignored. DataError when there are none."""
    if not root.is_dir():
        raise DataError(f"input directory {root} does not exist")
    files = sorted(path for path in root.rglob("*") if path.is_file() and path.name.endswith(CSV_SUFFIXES))
    if not files:
        raise DataError(f"no *.csv or *.csv.gz files under {root}")
    return files


def read_table(paths: Sequence[Path], label: str, spec: FeatureSpec | None = None) -> Table:
    """Read `paths` in order into one Table. Every file must have the first file's header, which must hold the
    label column; every row the header's field count and a label of true/false. With `spec`, the header must
    also give every column a role and hold every feature, numeric values must be numbers (empty only where
    optional) and categorical values non-empty. DataError for no paths, a file without a header, or no rows."""
    if not paths:
        raise DataError("no input files")
    header: tuple[str, ...] | None = None
    rows: list[tuple[str, ...]] = []
    labels: list[int] = []
    for path in paths:
        with _open_text(path) as text:
            reader = csv.reader(text, strict=True)
            try:
                file_header = tuple(next(reader, None) or ())
                if not file_header:
                    raise DataError(f"{path}: the file is empty (no header)")
                if header is None:
                    header = _check_header(file_header, label, spec, path)
                elif file_header != header:
                    raise DataError(f"{path}: the header differs from {paths[0]}'s ({','.join(header)})")
                checks = _row_checks(header, spec)
                label_index = header.index(label)
                for number, fields in enumerate(reader, start=1):
                    row = tuple(fields)
                    if len(row) != len(header):
                        raise DataError(f"{path} row {number}: {len(row)} fields, the header has {len(header)}")
                    value = row[label_index]
                    if value not in LABEL_VALUES:
                        raise DataError(
                            f"{path} row {number}: label column {label!r} value {value!r} is not true/false"
                        )
                    _check_values(row, checks, f"{path} row {number}")
                    rows.append(row)
                    labels.append(LABEL_VALUES[value])
            except (csv.Error, UnicodeDecodeError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
                raise DataError(f"{path}: cannot be read as CSV ({exc})") from exc
    assert header is not None  # paths is not empty
    if not rows:
        raise DataError(f"no data rows in {len(paths)} file(s): {', '.join(map(str, paths))}")
    return Table(header, rows, labels, label)


def require_both_classes(table: Table, minimum: int = 1) -> None:
    """DataError unless each label value has at least `minimum` rows (a classifier needs both classes)."""
    positives = table.positives
    negatives = len(table.rows) - positives
    if min(positives, negatives) < minimum:
        raise DataError(
            f"label {table.label!r} needs at least {minimum} row(s) of each class: "
            f"{positives} true, {negatives} false in {len(table.rows)} rows"
        )


def write_table(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Plain UTF-8 CSV with the header, "\\n" line ends (as the processor writes its rows)."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _open_text(path: Path) -> TextIO:
    """The file as text, gunzipped when it starts with the gzip magic (whatever its name says)."""
    raw = path.open("rb")
    if raw.peek(2)[:2] == _GZIP_MAGIC:
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw, mode="rb"), encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _check_header(header: tuple[str, ...], label: str, spec: FeatureSpec | None, path: Path) -> tuple[str, ...]:
    columns = ", ".join(header)
    duplicates = sorted({column for column in header if header.count(column) > 1})
    if duplicates:
        raise DataError(f"{path}: column(s) {', '.join(duplicates)} appear more than once in the header")
    if label not in header:
        raise DataError(f"{path}: no label column {label!r} (columns: {columns})")
    if spec is None:
        return header
    if label in spec.known:
        raise DataError(f"label {label!r} is a feature or excluded column in feature_spec.py, not a label")
    missing = [column for column in spec.features if column not in header]
    if missing:
        raise DataError(f"{path}: missing feature column(s) {', '.join(missing)} (columns: {columns})")
    unknown = [column for column in header if column != label and column not in spec.known]
    if unknown:
        raise DataError(f"{path}: column(s) {', '.join(unknown)} have no role in feature_spec.py (columns: {columns})")
    return header


@dataclass(frozen=True)
class _Check:
    index: int
    column: str
    numeric: bool
    optional: bool


def _row_checks(header: tuple[str, ...], spec: FeatureSpec | None) -> list[_Check]:
    if spec is None:
        return []
    return [
        _Check(header.index(column), column, column in spec.numeric, column in spec.optional_numeric)
        for column in spec.features
    ]


def _check_values(row: tuple[str, ...], checks: list[_Check], where: str) -> None:
    for check in checks:
        value = row[check.index]
        if check.numeric:
            try:
                number = parse_number(value, check.column)
            except RowError as exc:
                raise DataError(f"{where}: {exc}") from exc
            if number is None and not check.optional:
                raise DataError(f"{where}: numeric column {check.column!r} is empty")
        elif not value.strip():
            raise DataError(f"{where}: categorical column {check.column!r} is empty")
