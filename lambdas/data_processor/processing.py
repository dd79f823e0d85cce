"""The streaming core: raw CSV bytes in, gzip CSV of clean rows and of rejected rows out (no AWS calls).

    source (binary, read(n)) ─▶ sha256 + byte count ─▶ gzip? (by magic bytes) ─▶ NUL guard
        ─▶ UTF-8 (strict; a leading byte-order mark is dropped) ─▶ csv.reader ─▶ header check ─▶ per record:
              ├─ blank   (no fields, or only empty/whitespace ones) ─▶ skipped, counted in rows_blank
              ├─ valid   ─▶ csv.writer ─▶ gzip ─▶ clean_out
              └─ invalid ─▶ [row_number, reason, *fields] ─▶ csv.writer ─▶ gzip ─▶ rejected_out

Records are what csv.reader returns after the header; rows_read counts them all, so
rows_read == rows_written + rows_quarantined + rows_blank, and a rejected record's row_number is its position
among them (blank records included: row_number n is the n-th record after the header, the file's line n + 1
when no quoted field spans lines).

Row bound: a record holding more than schema.max_row_chars characters of field text is rejected on its own
(reason given, fields kept). csv.field_size_limit is set to the same bound for the run, so a single field over
it cannot be read at all: that record is rejected with its row_number and reason only (csv never returns its
fields), and reading goes on with the next line. A quoted field spanning lines that is over the bound leaves
its remaining lines to be read as records of their own (rejected, or blank); the counts still add up.

Memory is bounded by the buffers (about 1 MiB each) and one batch of records (at most BATCH_BUDGET_CHARS of
field text, whatever the row bound), whatever the input size. Problems with the object as a whole raise
WholeObjectRejected(code, reason) after the outputs are cut off (nothing more is written to
clean_out/rejected_out); the caller aborts its uploads. Every other exception (a network error while reading,
say) propagates unchanged.

The gzip outputs are deterministic (mtime 0, no file name), so processing the same bytes twice gives
the same output bytes.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import compress, islice
from operator import not_
from typing import Any, BinaryIO, Protocol

from data_processor.reasons import check_code
from data_processor.schema import CompiledSchema

GZIP_MAGIC = b"\x1f\x8b"
GZIP_LEVEL = 6  # zlib's and gzip(1)'s default: a fair CPU/size trade for Lambda
READ_BUFFER_BYTES = 1 << 20
TEXT_CHUNK_CHARS = 1 << 16
OUTPUT_LINE_TERMINATOR = "\n"
BATCH_ROWS = 256  # records validated together, at most; bounds memory whatever the input size
# A batch holds at most this much field text: with a large row bound, batches get fewer records (never fewer
# than one), so the worst case (every record at the bound) stays near 64 Mi characters, twice with the joined copy.
BATCH_BUDGET_CHARS = 64 * 1024 * 1024
REJECTED_PREFIX_COLUMNS = ("row_number", "reason")
# csv.Error has no subclasses; this message (CPython Modules/_csv.c) is the only one about a single record, after
# which the reader can go on. Every other csv.Error is about the file (e.g. an unterminated quote at the end).
_FIELD_LIMIT_ERROR = "field larger than field limit"


class WholeObjectRejected(Exception):
    """The object as a whole is unusable; `code` is stable (for alerts and tests; one of
    reasons.REASON_CODES, else ValueError), `reason` is for people."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = check_code(code)
        self.reason = reason


@dataclass(frozen=True)
class StreamResult:
    """Counts and fingerprint of one processed stream.
    rows_read == rows_written + rows_quarantined + rows_blank (the caller checks it before publishing)."""

    rows_read: int
    rows_written: int
    rows_quarantined: int
    rows_blank: int
    source_sha256: str
    source_bytes: int
    gzip_input: bool


class _OverLimit(tuple):
    """Stands in for a record csv.reader refused because a field is over csv.field_size_limit(): no fields
    (so the batch checks treat it like any record without the right field count) and the source line where
    csv gave up (`line`)."""

    line: int


def _over_limit(line: int) -> _OverLimit:
    record = _OverLimit()
    record.line = line
    return record


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class _HashingReader(io.RawIOBase):
    """Reads the source, hashing and counting the bytes exactly as stored."""

    def __init__(self, source: Readable) -> None:
        self._source = source
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.sha256.update(data)
        self.bytes_read += size
        return size


class _NulGuard(io.RawIOBase):
    """Passes decoded-to-be bytes through, refusing NUL bytes: csv accepts them since Python 3.11,
    but a CSV export never contains one, a binary file nearly always does."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        if b"\x00" in data:
            raise WholeObjectRejected("not_csv", "contains NUL bytes: binary data, not CSV text")
        size = len(data)
        buffer[:size] = data
        return size


class _CuttableSink(io.RawIOBase):
    """Forwards writes to `target` until cut(); then discards them, so closing the gzip layers after a
    failure never writes a trailer into an upload that is being aborted."""

    def __init__(self, target: BinaryIO) -> None:
        self._target: BinaryIO | None = target

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self._target is not None:
            self._target.write(data)
        return len(data)

    def cut(self) -> None:
        self._target = None


class _CsvGzipWriter:
    """csv.writer → UTF-8 → gzip (level GZIP_LEVEL, mtime 0) → sink."""

    def __init__(self, sink: BinaryIO, level: int) -> None:
        self.sink = _CuttableSink(sink)
        self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self.sink, compresslevel=level, mtime=0)
        self._text = io.TextIOWrapper(self._gzip, encoding="utf-8", newline="")
        self.writer = csv.writer(self._text, lineterminator=OUTPUT_LINE_TERMINATOR)

    def close(self) -> None:
        """Flush the text and gzip layers (writes the gzip trailer) without closing the sink."""
        self._text.close()

    def discard(self) -> None:
        self.sink.cut()
        self._text.close()


@dataclass(frozen=True)
class OpenedSource:
    """The reading layers over one source: `text` to parse, `raw` to drain, `hasher` for the fingerprint."""

    hasher: _HashingReader
    raw: io.BufferedReader
    text: io.TextIOWrapper
    is_gzip: bool


def open_text(source: Readable, *, named_gzip: bool) -> OpenedSource:
    """Layer hashing, gzip detection (by magic bytes), the NUL guard and strict UTF-8 over `source`. A UTF-8
    byte-order mark at the start of the text (Excel's "CSV UTF-8" writes one) is dropped by the decoder.

    Raises WholeObjectRejected for an empty object, or a name ending .gz over bytes that are not gzip."""
    hasher = _HashingReader(source)
    raw = io.BufferedReader(hasher, buffer_size=READ_BUFFER_BYTES)
    head = raw.peek(len(GZIP_MAGIC))[: len(GZIP_MAGIC)]
    if not head:
        raise WholeObjectRejected("empty", "the object is empty")
    is_gzip = head == GZIP_MAGIC
    if named_gzip and not is_gzip:
        raise WholeObjectRejected("not_gzip", "the name ends in .gz but the content is not gzip")
    decoded: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if is_gzip else raw  # type: ignore[assignment]
    guarded = io.BufferedReader(_NulGuard(decoded), buffer_size=READ_BUFFER_BYTES)
    text = io.TextIOWrapper(guarded, encoding="utf-8-sig", errors="strict", newline="")
    text._CHUNK_SIZE = TEXT_CHUNK_CHARS  # type: ignore[attr-defined]  # fewer, larger decode calls
    return OpenedSource(hasher=hasher, raw=raw, text=text, is_gzip=is_gzip)


def check_header(header: list[str] | None, schema: CompiledSchema) -> None:
    """Raise WholeObjectRejected unless the header is exactly the schema's column names, in order."""
    if header is None:
        raise WholeObjectRejected("empty", "the object has no header and no rows")
    if isinstance(header, _OverLimit):
        raise WholeObjectRejected(
            "bad_header", f"a header field is over the row limit of {schema.max_row_chars} characters"
        )
    expected = list(schema.columns)
    if header == expected:
        return
    if len(header) != len(expected):
        reason = f"the header has {len(header)} columns, dataset {schema.name} has {len(expected)}"
    else:
        index = next(i for i, (got, want) in enumerate(zip(header, expected, strict=True)) if got != want)
        reason = f"header column {index + 1} is {header[index]!r}, dataset {schema.name} expects {expected[index]!r}"
    raise WholeObjectRejected("bad_header", f"{reason} (expected: {','.join(expected)})")


def process_csv(
    source: Readable,
    schema: CompiledSchema,
    *,
    clean_out: BinaryIO,
    rejected_out: BinaryIO,
    named_gzip: bool = False,
    gzip_level: int = GZIP_LEVEL,
) -> StreamResult:
    """Validate the CSV in `source` against `schema`; gzip CSV of clean rows to `clean_out` (with the header),
    of rejected rows to `rejected_out` (columns row_number, reason, then the original fields as read; none for
    a record with a field over the row bound, which csv cannot return). Blank records go to neither.

    named_gzip (default False): the object's name ends in .gz, so plain content is rejected (not_gzip).
    gzip_level (default 6): the output compression level.
    Both outputs are complete (gzip trailer written) when this returns; they are not closed.
    csv.field_size_limit (process-wide) is schema.max_row_chars during the call and restored after."""
    clean = _CsvGzipWriter(clean_out, gzip_level)
    rejected = _CsvGzipWriter(rejected_out, gzip_level)
    previous_limit = csv.field_size_limit(schema.max_row_chars)
    try:
        opened = open_text(source, named_gzip=named_gzip)
        counts = _validate_rows(opened.text, schema, clean.writer, rejected.writer)
        # Hash every stored byte, even ones a reader might leave (gzip padding after the last member).
        while opened.raw.read(READ_BUFFER_BYTES):
            pass
    except UnicodeDecodeError as exc:
        _discard(clean, rejected)
        bad = exc.object[exc.start : exc.start + 1].hex()
        raise WholeObjectRejected("not_utf8", f"not valid UTF-8 text (byte 0x{bad} cannot be decoded)") from exc
    except csv.Error as exc:
        _discard(clean, rejected)
        raise WholeObjectRejected("not_csv", f"not parseable as CSV: {exc}") from exc
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        # Only gzip's own errors: a network OSError while reading must propagate, not quarantine the object.
        _discard(clean, rejected)
        raise WholeObjectRejected("corrupt_gzip", f"the gzip stream is corrupt or truncated: {exc}") from exc
    except BaseException:
        _discard(clean, rejected)
        raise
    finally:
        csv.field_size_limit(previous_limit)
    clean.close()
    rejected.close()
    return StreamResult(
        rows_read=counts.read,
        rows_written=counts.written,
        rows_quarantined=counts.quarantined,
        rows_blank=counts.blank,
        source_sha256=opened.hasher.sha256.hexdigest(),
        source_bytes=opened.hasher.bytes_read,
        gzip_input=opened.is_gzip,
    )


def _discard(*writers: _CsvGzipWriter) -> None:
    for writer in writers:
        writer.discard()


@dataclass
class _Counts:
    """Records read after the header, and where each went; each outcome is counted where it happens."""

    read: int = 0
    written: int = 0
    quarantined: int = 0
    blank: int = 0


def _records(reader: Any) -> Iterator[list[str]]:
    """The reader's records, with an _OverLimit in place of each one csv refused for a field over the limit.

    After that error csv drops the rest of the line and reads on from the next one, so one bad record never
    costs the rest of the file. (A generator, not list.extend(islice(...)) catching the error: what a failed
    extend keeps is not documented. Delegating with `yield from` costs nothing measurable.)"""
    while True:
        try:
            yield from reader
            return
        except csv.Error as exc:
            if not str(exc).startswith(_FIELD_LIMIT_ERROR):
                raise
            yield _over_limit(reader.line_num)


def _validate_rows(text: io.TextIOWrapper, schema: CompiledSchema, clean: Any, rejected: Any) -> _Counts:
    """Check the header, then route every record; returns the counts. The hot loop.

    Records go in batches: schema.fast_flags checks a whole batch in C, the clean rows are written with one
    writerows(compress(...)) call, and Python runs per record only for the rare records a fast check refused.
    Each batch's field text is measured in C too (map over the joined records): a batch with a blank record or
    one over the row bound (rare) takes _route_each, one record at a time."""
    records = _records(csv.reader(text, strict=True))
    check_header(next(records, None), schema)
    clean.writerow(schema.columns)
    rejected.writerow((*REJECTED_PREFIX_COLUMNS, *schema.columns))
    fast_flags, is_valid, explain = schema.fast_flags, schema.is_valid, schema.explain
    write_clean_rows, write_rejected = clean.writerows, rejected.writerow
    limit = schema.max_row_chars
    batch_rows = max(1, min(BATCH_ROWS, BATCH_BUDGET_CHARS // limit))
    counts = _Counts()
    for batch in iter(lambda: list(islice(records, batch_rows)), []):
        flags = fast_flags(batch)
        joined = list(map("".join, batch))
        sizes = list(map(len, joined))
        if max(sizes) > limit or 0 in sizes or any(map(str.isspace, joined)):
            _route_each(batch, flags, joined, sizes, schema, counts, write_clean_rows, write_rejected)
            continue
        if not all(flags):
            for index in compress(range(len(batch)), map(not_, flags)):
                row = batch[index]
                if is_valid(row):
                    flags[index] = True
                else:
                    counts.quarantined += 1
                    write_rejected((counts.read + index + 1, explain(row), *row))
        written = flags.count(True)
        write_clean_rows(compress(batch, flags) if written < len(batch) else batch)
        counts.written += written
        counts.read += len(batch)
    return counts


def _route_each(
    batch: list[list[str]],
    flags: list[bool],
    joined: list[str],
    sizes: list[int],
    schema: CompiledSchema,
    counts: _Counts,
    write_clean_rows: Any,
    write_rejected: Any,
) -> None:
    """Route one batch record by record: a field over the limit, blank, over the row bound, then the schema."""
    limit, kib = schema.max_row_chars, schema.max_row_chars // 1024
    clean_rows = []
    for index, row in enumerate(batch):
        number = counts.read + index + 1
        if isinstance(row, _OverLimit):
            counts.quarantined += 1
            write_rejected(
                (
                    number,
                    f"a field is over the row limit of {limit} characters (max_row_kib {kib}); the record cannot be "
                    f"read, so its fields are not kept (csv gave up on line {row.line} of the file)",
                )
            )
        elif sizes[index] == 0 or joined[index].isspace():
            counts.blank += 1
        elif sizes[index] > limit:
            counts.quarantined += 1
            write_rejected(
                (
                    number,
                    f"the row has {sizes[index]} characters of field text, over the row limit of {limit} "
                    f"(max_row_kib {kib})",
                    *row,
                )
            )
        elif flags[index] or schema.is_valid(row):
            clean_rows.append(row)
        else:
            counts.quarantined += 1
            write_rejected((number, schema.explain(row), *row))
    write_clean_rows(clean_rows)
    counts.written += len(clean_rows)
    counts.read += len(batch)
