"""The streaming core: raw CSV bytes in, gzip CSV of clean rows and of rejected rows out (no AWS calls).

    source (binary, read(n)) ─▶ sha256 + byte count ─▶ gzip? (by magic bytes) ─▶ NUL guard
        ─▶ UTF-8 (strict) ─▶ csv.reader ─▶ header check ─▶ per row: schema.is_valid
              ├─ valid   ─▶ csv.writer ─▶ gzip ─▶ clean_out
              └─ invalid ─▶ [row_number, reason, *fields] ─▶ csv.writer ─▶ gzip ─▶ rejected_out

Memory is bounded by the buffers (about 1 MiB each), whatever the input size. Problems with the object
as a whole raise WholeObjectRejected(code, reason) after the outputs are cut off (nothing more is written
to clean_out/rejected_out); the caller aborts its uploads. Every other exception (a network error while
reading, say) propagates unchanged.

The gzip outputs are deterministic (mtime 0, no file name), so processing the same bytes twice gives
the same output bytes.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from dataclasses import dataclass
from itertools import compress, islice
from operator import not_
from typing import Any, BinaryIO, Protocol

from data_processor.schema import CompiledSchema

GZIP_MAGIC = b"\x1f\x8b"
GZIP_LEVEL = 6  # zlib's and gzip(1)'s default: a fair CPU/size trade for Lambda
READ_BUFFER_BYTES = 1 << 20
TEXT_CHUNK_CHARS = 1 << 16
OUTPUT_LINE_TERMINATOR = "\n"
BATCH_ROWS = 256  # rows validated together; bounds memory (a few hundred KB) whatever the input size
REJECTED_PREFIX_COLUMNS = ("row_number", "reason")


class WholeObjectRejected(Exception):
    """The object as a whole is unusable; `code` is stable (for alerts and tests), `reason` is for people."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class StreamResult:
    """Counts and fingerprint of one processed stream. rows_read == rows_written + rows_quarantined."""

    rows_read: int
    rows_written: int
    rows_quarantined: int
    source_sha256: str
    source_bytes: int
    gzip_input: bool


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
    """Layer hashing, gzip detection (by magic bytes), the NUL guard and strict UTF-8 over `source`.

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
    text = io.TextIOWrapper(guarded, encoding="utf-8", errors="strict", newline="")
    text._CHUNK_SIZE = TEXT_CHUNK_CHARS  # type: ignore[attr-defined]  # fewer, larger decode calls
    return OpenedSource(hasher=hasher, raw=raw, text=text, is_gzip=is_gzip)


def check_header(header: list[str] | None, schema: CompiledSchema) -> None:
    """Raise WholeObjectRejected unless the header is exactly the schema's column names, in order."""
    if header is None:
        raise WholeObjectRejected("empty", "the object has no header and no rows")
    expected = list(schema.columns)
    if header == expected:
        return
    if header and header[0].startswith("\ufeff"):
        raise WholeObjectRejected("bad_header", "the header starts with a UTF-8 byte-order mark; export without BOM")
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
    of rejected rows to `rejected_out` (columns row_number, reason, then the original fields as read).

    named_gzip (default False): the object's name ends in .gz, so plain content is rejected (not_gzip).
    gzip_level (default 6): the output compression level.
    Both outputs are complete (gzip trailer written) when this returns; they are not closed."""
    clean = _CsvGzipWriter(clean_out, gzip_level)
    rejected = _CsvGzipWriter(rejected_out, gzip_level)
    try:
        opened = open_text(source, named_gzip=named_gzip)
        rows_read, rows_quarantined = _validate_rows(opened.text, schema, clean.writer, rejected.writer)
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
    clean.close()
    rejected.close()
    rows_written = rows_read - rows_quarantined
    assert rows_read == rows_written + rows_quarantined
    return StreamResult(
        rows_read=rows_read,
        rows_written=rows_written,
        rows_quarantined=rows_quarantined,
        source_sha256=opened.hasher.sha256.hexdigest(),
        source_bytes=opened.hasher.bytes_read,
        gzip_input=opened.is_gzip,
    )


def _discard(*writers: _CsvGzipWriter) -> None:
    for writer in writers:
        writer.discard()


def _validate_rows(text: io.TextIOWrapper, schema: CompiledSchema, clean: Any, rejected: Any) -> tuple[int, int]:
    """Check the header, then route every row; returns (rows_read, rows_quarantined). The hot loop.

    Rows go in batches: schema.fast_flags checks a whole batch in C, the clean rows are written with one
    writerows(compress(...)) call, and Python runs per row only for the rare rows a fast check refused."""
    reader = csv.reader(text, strict=True)
    check_header(next(reader, None), schema)
    clean.writerow(schema.columns)
    rejected.writerow((*REJECTED_PREFIX_COLUMNS, *schema.columns))
    fast_flags, is_valid, explain = schema.fast_flags, schema.is_valid, schema.explain
    write_clean_rows, write_rejected = clean.writerows, rejected.writerow
    rows_read = rows_quarantined = 0
    for batch in iter(lambda: list(islice(reader, BATCH_ROWS)), []):
        flags = fast_flags(batch)
        if not all(flags):
            for index in compress(range(len(batch)), map(not_, flags)):
                row = batch[index]
                if is_valid(row):
                    flags[index] = True
                else:
                    rows_quarantined += 1
                    write_rejected((rows_read + index + 1, explain(row), *row))
        write_clean_rows(compress(batch, flags))
        rows_read += len(batch)
    return rows_read, rows_quarantined
