"""Write churn CSV files (plain or gzip) and deliberately broken files for the processor's tests.

write_csv: rows, or about N MB of rows (counted in uncompressed CSV bytes), with bad rows injected.
write_bad_file: one file per BAD_FILE_KINDS entry, each otherwise valid so only that defect trips:
  empty             zero bytes
  not_utf8          valid header and rows, then a row with Latin-1 bytes
  wrong_header      a header with two columns swapped
  fake_gzip         a plain, valid CSV (write it under a .gz name)
  not_csv           the header, then binary data containing NUL bytes (valid UTF-8, so the NUL check trips)
  malformed_csv     the header, then a row with an unterminated quoted field
  truncated_gzip    a valid gzip CSV cut in the middle of the stream
  oversize          a valid CSV larger than limit_bytes
Every file is a pure function of its arguments (gzip mtime is 0), so the same call writes the same bytes.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sample_data.churn import BATCH_COLUMNS, COLUMNS, generate_rows, without_label

BAD_FILE_KINDS = (
    "empty",
    "not_utf8",
    "wrong_header",
    "fake_gzip",
    "not_csv",
    "malformed_csv",
    "truncated_gzip",
    "oversize",
)
MB = 1_000_000
_GZIP_LEVEL = 6


@dataclass(frozen=True)
class WriteSummary:
    """What a write produced: rows (data rows, header excluded), defects by kind, bytes on disk, sha256."""

    path: Path
    rows: int
    bytes: int
    sha256: str
    gzip: bool
    defects: dict[str, int] = field(default_factory=dict)

    @property
    def bad_rows(self) -> int:
        return sum(self.defects.values())

    def describe(self) -> str:
        kinds = ", ".join(f"{kind}={n}" for kind, n in sorted(self.defects.items())) or "none"
        return (
            f"wrote {self.path}: {self.rows} rows ({self.bad_rows} bad: {kinds}), {self.bytes} bytes"
            f"{' gzip' if self.gzip else ''}, sha256 {self.sha256}"
        )


class _CountingWriter(io.RawIOBase):
    """Counts the uncompressed bytes on their way to the file (to stop at a target size)."""

    def __init__(self, target: BinaryIO) -> None:
        self.target, self.count = target, 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.target.write(data)
        self.count += len(data)
        return len(data)


def write_csv(
    path: Path,
    *,
    seed: int = 0,
    rows: int | None = None,
    target_mb: float | None = None,
    bad_fraction: float = 0.0,
    bad_rows: int | None = None,
    gzip_output: bool = False,
    unlabeled: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> WriteSummary:
    """Write a churn CSV with a header to `path`: exactly `rows` rows, or rows until the uncompressed CSV
    reaches `target_mb` MB (10**6 bytes); exactly one of the two. Bad rows as in generate_rows
    (bad_rows needs `rows`). gzip_output (default False) gzips the file (level 6, mtime 0).
    unlabeled (default False) writes an inference batch: every column but the label (churn.without_label).
    on_progress (default None) is called as on_progress(rows, uncompressed_bytes) every 100,000 rows."""
    if (rows is None) == (target_mb is None):
        raise ValueError("give exactly one of rows and target_mb")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    target_bytes = None if target_mb is None else int(target_mb * MB)
    defects: Counter[str] = Counter()
    written = 0
    with path.open("wb") as handle:
        binary: BinaryIO = (
            gzip.GzipFile(filename="", mode="wb", fileobj=handle, compresslevel=_GZIP_LEVEL, mtime=0)
            if gzip_output
            else handle
        )  # type: ignore[assignment]
        counter = _CountingWriter(binary)
        text = io.TextIOWrapper(counter, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(BATCH_COLUMNS if unlabeled else COLUMNS)
        for sample in generate_rows(rows, seed, bad_fraction, bad_rows=bad_rows):
            if unlabeled:
                sample = without_label(sample)
            if target_bytes is not None and counter.count >= target_bytes:
                break
            writer.writerow(sample.fields)
            written += 1
            if sample.defect:
                defects[sample.defect] += 1
            if on_progress is not None and written % 100_000 == 0:
                on_progress(written, counter.count)
        text.flush()
        text.detach()
        if gzip_output:
            binary.close()
    return _summary(path, written, gzip_output, dict(defects))


def _summary(path: Path, rows: int, gzipped: bool, defects: dict[str, int]) -> WriteSummary:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return WriteSummary(
        path=path, rows=rows, bytes=path.stat().st_size, sha256=digest.hexdigest(), gzip=gzipped, defects=defects
    )


def csv_bytes(rows: int, seed: int = 0, *, header: tuple[str, ...] = COLUMNS, bad_rows: int = 0) -> bytes:
    """A small churn CSV (header + `rows` rows, `bad_rows` of them bad, as in generate_rows) as bytes,
    for building bad files, tests and the demo."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(sample.fields for sample in generate_rows(rows, seed, bad_rows=bad_rows))
    return buffer.getvalue().encode("utf-8")


def batch_csv_bytes(rows: int, seed: int = 0, *, bad_rows: int = 0) -> tuple[bytes, int]:
    """An inference batch (BATCH_COLUMNS: no label) of `rows` rows as bytes, and how many of them are bad: of the
    `bad_rows` generated, those whose only defect was in the label are valid once it is gone."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(BATCH_COLUMNS)
    samples = [without_label(sample) for sample in generate_rows(rows, seed, bad_rows=bad_rows)]
    writer.writerows(sample.fields for sample in samples)
    return buffer.getvalue().encode("utf-8"), sum(1 for sample in samples if sample.defect)


EXCEL_TRAILING_BLANK_LINES = 2


def excel_csv_bytes(rows: int, seed: int = 0) -> bytes:
    """`csv_bytes(rows, seed)` as Excel's "CSV UTF-8" save writes it: a UTF-8 byte-order mark, CRLF line
    ends and EXCEL_TRAILING_BLANK_LINES empty lines at the end. Every row is valid."""
    text = csv_bytes(rows, seed).decode("utf-8").replace("\n", "\r\n")
    return ("\ufeff" + text + "\r\n" * EXCEL_TRAILING_BLANK_LINES).encode("utf-8")


def bad_file_bytes(kind: str, *, seed: int = 0, limit_bytes: int | None = None) -> bytes:
    """The content of bad file `kind` (see BAD_FILE_KINDS); oversize needs limit_bytes."""
    if kind == "empty":
        return b""
    if kind == "not_utf8":
        latin1_row = "CUST-00000006,2024-01-05,3,20.00,60.00,one-year,mailed-check,none,0,Zürich,false\n"
        return csv_bytes(5, seed) + latin1_row.encode("latin-1")
    if kind == "wrong_header":
        swapped = (COLUMNS[1], COLUMNS[0], *COLUMNS[2:])
        return csv_bytes(5, seed, header=swapped)
    if kind == "fake_gzip":
        return csv_bytes(5, seed)
    if kind == "not_csv":
        return csv_bytes(0, seed) + bytes(range(0, 128)) * 16
    if kind == "malformed_csv":
        return csv_bytes(3, seed) + b'CUST-00000004,"2024-01-01,3,20.00\n'
    if kind == "truncated_gzip":
        whole = gzip.compress(csv_bytes(2000, seed), compresslevel=_GZIP_LEVEL, mtime=0)
        return whole[: len(whole) // 2]
    if kind == "oversize":
        if limit_bytes is None or limit_bytes < 0:
            raise ValueError("oversize needs limit_bytes (the dataset's size limit in bytes)")
        rows = limit_bytes // 100 + 1
        while len(body := csv_bytes(rows, seed)) <= limit_bytes:
            rows *= 2
        return body
    raise ValueError(f"unknown bad file kind {kind!r}; expected one of {', '.join(BAD_FILE_KINDS)}")


def write_bad_file(kind: str, path: Path, *, seed: int = 0, limit_bytes: int | None = None) -> WriteSummary:
    """Write bad file `kind` to `path` (see BAD_FILE_KINDS)."""
    path = Path(path)
    if kind == "oversize" and limit_bytes is not None and limit_bytes >= 0:
        # Streamed: a limit of a GiB must not build a GiB in memory.
        return write_csv(path, seed=seed, target_mb=(limit_bytes + 1) / MB)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bad_file_bytes(kind, seed=seed, limit_bytes=limit_bytes))
    return _summary(path, 0, kind == "truncated_gzip", {})
