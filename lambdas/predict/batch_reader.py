"""Reading a batch: gzip CSV bytes in, the header and then blocks of records out (no AWS calls).

The records are exactly those csv.reader returns (excel dialect, strict), read one of two ways:
  split  the fast path: a chunk of whole lines without a double quote or a carriage return, each line holding
         the header's count of fields. For such a line csv's rules give `line.split(",")`, so the chunk is split
         whole, in C, into one flat list and sliced into columns: no list per record.
  csv    from the first chunk that is not so (a quoted field, a carriage return, a line of another width or over
         the row bound) to the end of the batch: csv.reader over the remaining bytes, in blocks of rows.
Preprocess writes plain batches, so a batch is normally split whole; an odd one is still read exactly.

Memory is bounded by one chunk (CHUNK_BYTES plus the line it ends inside) or one block of BLOCK_ROWS records,
whatever the batch size.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from data_processor.processing import Readable
from predict.background_gunzip import BackgroundGunzip

CHUNK_BYTES = 128 * 1024  # of decompressed text split at once: about 1,400 churn records
BLOCK_ROWS = 512  # records per block once csv reads them
# A csv block holds at most this much field text: with a large row bound it gets fewer records (never fewer than
# one), as in data_processor.processing.
BLOCK_BUDGET_CHARS = 64 * 1024 * 1024


@dataclass(frozen=True)
class Block:
    """Consecutive records: `columns` when split (each `size` long), else `rows` as csv returned them."""

    size: int
    columns: Sequence[Sequence[str]] | None = None
    rows: list[list[str]] | None = None

    def row(self, index: int) -> list[str]:
        """The fields of the block's record `index` (0-based)."""
        if self.rows is not None:
            return self.rows[index]
        assert self.columns is not None
        return [column[index] for column in self.columns]


class _Prepended(io.RawIOBase):
    """`head`, then the rest of `tail`: the bytes csv reads once the split path stops."""

    def __init__(self, head: bytes, tail: Readable) -> None:
        self._head, self._tail = head, tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._head[: len(buffer)] if self._head else self._tail.read(len(buffer))
        self._head = self._head[len(data) :] if self._head else b""
        buffer[: len(data)] = data
        return len(data)


class BatchReader:
    """The records of a gzip CSV `source`: header() first, then blocks(width). max_field_chars is the longest
    field csv may read (the caller sets csv.field_size_limit to it); chunk_bytes (default CHUNK_BYTES) and
    block_rows (default BLOCK_ROWS) size the blocks. The stream is decompressed on a background thread
    (background_gunzip): close() must follow. Raises what reading raises: gzip.BadGzipFile, EOFError or zlib.error
    for a broken stream, UnicodeDecodeError, csv.Error (line_number says where)."""

    def __init__(
        self,
        source: Readable,
        *,
        max_field_chars: int,
        chunk_bytes: int = CHUNK_BYTES,
        block_rows: int = BLOCK_ROWS,
    ) -> None:
        self._gzip = BackgroundGunzip(source)
        self._limit, self._chunk_bytes = max_field_chars, chunk_bytes
        self._block_rows = max(1, min(block_rows, BLOCK_BUDGET_CHARS // max_field_chars))
        self._pending = b""  # read, not yet returned: the start of a line
        self._split_lines = 0
        self._csv: Any = None

    def close(self) -> None:
        """Stop decompressing (the background thread); call it even after an error."""
        self._gzip.close()

    @property
    def line_number(self) -> int:
        """Lines of the batch read so far (the header's is 1)."""
        return self._split_lines + (self._csv.line_num if self._csv is not None else 0)

    def header(self) -> list[str] | None:
        """The first record, None for an empty batch."""
        data = self._gzip.read(self._chunk_bytes)
        while b"\n" not in data and len(data) <= self._limit:
            more = self._gzip.read(self._chunk_bytes)
            if not more:
                break
            data += more
        end = data.find(b"\n")
        line = data[:end]
        if end <= 0 or b'"' in line or b"\r" in line or len(line) > self._limit:
            self._start_csv(data)
            return next(self._csv, None)
        self._pending, self._split_lines = data[end + 1 :], 1
        return line.decode("utf-8").split(",")

    def blocks(self, width: int) -> Iterator[Block]:
        """The records after the header, in order, for a header of `width` fields."""
        while self._csv is None:
            raw = self._gzip.read(self._chunk_bytes)
            data = self._pending + raw
            if not raw:
                if not data:
                    return
                if not data.endswith(b"\n") and b"\r" not in data:
                    data += b"\n"  # csv ends the last record at the end of the stream as at a line break
            cut = data.rfind(b"\n") + 1
            chunk, self._pending = data[:cut], data[cut:]
            if len(self._pending) > self._limit or (not raw and self._pending):
                self._start_csv(data)
                break
            if not chunk:
                continue
            block = self._split(chunk, width)
            if block is None:
                self._start_csv(data)
                break
            self._split_lines += block.size
            yield block
        for rows in iter(lambda: list(islice(self._csv, self._block_rows)), []):
            yield Block(size=len(rows), rows=rows)

    def _split(self, chunk: bytes, width: int) -> Block | None:
        """The chunk's records as columns, or None when csv must read it (module docstring)."""
        if b'"' in chunk or b"\r" in chunk or b"\x00" in chunk or width < 2:
            return None  # (csv reads an empty line as a record of no field; with width 2 or more it is caught below)
        text = chunk.decode("utf-8")  # whole lines: a cut at "\n" never splits a UTF-8 sequence
        size = text.count("\n")
        # Each line break becomes a field of its own, "\x00" (absent from the text), so the fields line up in
        # records of width + 1 with a marker last, exactly when every line holds `width` fields.
        fields = text.replace("\n", ",\x00,").split(",")
        stride = width + 1
        if len(fields) != stride * size + 1 or fields[width::stride].count("\x00") != size:
            return None
        if len(text) > self._limit and max(map(len, text.split("\n"))) > self._limit:
            return None  # csv refuses a field over its limit; let it say so
        end = stride * size
        return Block(size=size, columns=[fields[index:end:stride] for index in range(width)])

    def _start_csv(self, unread: bytes) -> None:
        stream = io.BufferedReader(_Prepended(unread, self._gzip), buffer_size=self._chunk_bytes)
        self._csv = csv.reader(io.TextIOWrapper(stream, encoding="utf-8", newline=""), strict=True)
        self._pending = b""
