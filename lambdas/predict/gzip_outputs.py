"""The scorer's outputs: text in, deterministic gzip out to the caller's sinks, compressed on a background thread.

Text is gathered per output until HANDOFF_BYTES, then one thread compresses it (zlib releases the GIL, and a big
piece needs the GIL back rarely) and writes it to the sink (an upload part goes out meanwhile), in the order
written, at most MAX_PENDING pieces queued, so memory stays bounded while scoring goes on. The gzip stream is
zlib's own (mtime 0, no file name): the same text and level give the same bytes.

The first error the thread meets (a failed upload) is raised in the scoring thread by the next hand-off or by
finish(). discard() drops what is queued, waits for the write in progress and cuts the sinks off: nothing reaches
an upload that is being aborted afterwards.
"""

from __future__ import annotations

import csv
import io
import queue
import threading
import zlib
from typing import Any, BinaryIO

HANDOFF_BYTES = 1 << 20  # text gathered per output before the thread compresses it
MAX_PENDING = 4  # pieces queued for the thread, at most
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_FINISH = None  # queued last for an output: its gzip trailer


class GzipOutputs:
    """The outputs of one scoring run: write(i, text) and write_rows(i, rows) append to sinks[i]; finish() writes
    every gzip trailer (sinks stay open: they belong to the caller); discard() cuts the sinks off instead. One of
    the two must be called. level: the compression level; handoff_bytes (default None: HANDOFF_BYTES, read at
    each run): text gathered before a hand-off."""

    def __init__(self, sinks: list[BinaryIO], level: int, *, handoff_bytes: int | None = None) -> None:
        self._sinks: list[BinaryIO | None] = list(sinks)
        self._compressors = [zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS) for _ in sinks]
        self._texts: list[list[bytes]] = [[] for _ in sinks]
        self._sizes = [0] * len(sinks)
        self._handoff_bytes = handoff_bytes or HANDOFF_BYTES
        self._queue: queue.Queue[tuple[int, bytes | None] | None] = queue.Queue(maxsize=MAX_PENDING)
        self._error: BaseException | None = None
        self._discarding = self._closed = False
        self._thread = threading.Thread(target=self._run, name="predict-gzip", daemon=True)
        self._thread.start()

    def write(self, index: int, text: str) -> None:
        if self._closed:
            raise ValueError("write after finish() or discard()")
        data = text.encode("utf-8")
        self._texts[index].append(data)
        self._sizes[index] += len(data)
        if self._sizes[index] >= self._handoff_bytes:
            self._hand_over(index)

    def write_rows(self, index: int, rows: Any) -> None:
        """CSV rows, quoted as csv.writer quotes them; a row with a carriage return in a field is quoted whole,
        because csv.writer with a "\n" line end leaves such a field bare before Python 3.13, and a reader would
        then end the record there."""
        rows = list(rows)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        text = buffer.getvalue()
        if "\r" in text:
            buffer = io.StringIO()
            minimal = csv.writer(buffer, lineterminator="\n")
            quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
            for row in rows:
                (quoted if any("\r" in str(field) for field in row) else minimal).writerow(row)
            text = buffer.getvalue()
        self.write(index, text)

    def finish(self) -> None:
        self._closed = True
        for index in range(len(self._sinks)):
            self._hand_over(index)
            self._put((index, _FINISH))
        self._queue.put(None)
        self._thread.join()
        self._raise_failure()

    def discard(self) -> None:
        """Stop: what is queued is dropped, the write in progress ends, the sinks get nothing more. Safe to call
        after a failed finish()."""
        self._discarding = self._closed = True  # the thread skips what is queued
        self._queue.put(None)
        self._thread.join()
        self._sinks = [None] * len(self._sinks)

    def _hand_over(self, index: int) -> None:
        if self._sizes[index]:
            self._put((index, b"".join(self._texts[index])))
            self._texts[index].clear()
            self._sizes[index] = 0

    def _put(self, item: tuple[int, bytes | None]) -> None:
        self._raise_failure()
        self._queue.put(item)  # waits while MAX_PENDING pieces are queued

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._discarding or self._error is not None:
                continue  # drained, never written
            index, data = item
            compressor = self._compressors[index]
            try:
                sink = self._sinks[index]
                assert sink is not None
                sink.write(compressor.flush() if data is _FINISH else compressor.compress(data))
            except BaseException as exc:  # noqa: BLE001 - not swallowed: raised again in the scoring thread
                self._error = exc
