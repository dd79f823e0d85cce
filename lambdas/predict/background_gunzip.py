"""Reading a gzip stream on a background thread, so decompressing (and the network reads under it) overlaps with
scoring: the thread reads the source in READ_BYTES pieces and decompresses them with zlib (which releases the
GIL), at most DEPTH pieces of at most PIECE_BYTES ahead of the reader, so memory stays bounded whatever the ratio.

The stream is read as gzip.GzipFile reads it: members one after another, zero padding after a member skipped, an
empty source an empty stream. Errors reach the reader, in order, from read(): gzip.BadGzipFile for bytes that are
not gzip, EOFError for a stream cut short, zlib.error for corrupt data or a trailer that does not match (zlib checks
each member's CRC-32 and size), or whatever reading the source raised.
"""

from __future__ import annotations

import gzip
import queue
import threading
import zlib
from collections.abc import Iterator

from data_processor.processing import Readable

READ_BYTES = 256 * 1024  # compressed bytes per read of the source
PIECE_BYTES = 1 << 20  # decompressed bytes per piece handed over, at most
DEPTH = 2  # pieces decompressed ahead of the reader, at most
_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip wrapper, header and trailer checked by zlib


def gunzip_pieces(source: Readable) -> Iterator[bytes]:
    """The decompressed bytes of the gzip stream in `source`, in pieces of at most PIECE_BYTES (module docstring)."""
    data = source.read(READ_BYTES)
    while True:
        while len(data) < len(_MAGIC):
            more = source.read(READ_BYTES)
            if not more:
                break
            data += more
        if not data:
            return
        if data[: len(_MAGIC)] != _MAGIC:
            raise gzip.BadGzipFile(f"Not a gzipped file ({data[: len(_MAGIC)]!r})")
        member = zlib.decompressobj(_GZIP_WBITS)
        while not member.eof:
            if not data:
                data = source.read(READ_BYTES)
                if not data:
                    raise EOFError("Compressed file ended before the end-of-stream marker was reached")
            piece = member.decompress(data, PIECE_BYTES)
            data = member.unconsumed_tail
            if piece:
                yield piece
        data = member.unused_data
        while not data.lstrip(b"\x00"):  # zero padding after a member, as GzipFile skips it
            more = source.read(READ_BYTES)
            if not more:
                return
            data = more
        data = data.lstrip(b"\x00")


class BackgroundGunzip:
    """A readable stream of the decompressed bytes of `source`, decompressed on a background thread (module
    docstring). close() stops the thread (after the source read in progress, if any) and must be called, even
    after an error; the stream is a context manager that does."""

    def __init__(self, source: Readable, *, depth: int = DEPTH) -> None:
        self._source = source
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._piece = b""
        self._offset = 0
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="predict-gunzip", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for piece in gunzip_pieces(self._source):
                if not self._hand_over(piece):
                    return
            self._hand_over(b"")
        except BaseException as exc:  # noqa: BLE001 - not swallowed: read() raises it in the reading thread
            self._hand_over(exc)

    def _hand_over(self, item: bytes | BaseException) -> bool:
        """Queue `item` for the reader; False once close() asked the thread to stop."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (-1: all that is left), fewer at a piece's end; b"" at the end of the stream."""
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(PIECE_BYTES), b""))
        if self._offset >= len(self._piece):
            if self._ended:
                return b""
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._ended = True
                raise item
            self._piece, self._offset = item, 0
            if not item:
                self._ended = True
                return b""
        end = min(len(self._piece), self._offset + size)
        data = self._piece[self._offset : end]
        self._offset = end
        return data

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> BackgroundGunzip:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
