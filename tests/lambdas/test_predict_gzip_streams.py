"""predict's background codecs: the gunzip thread reads what gzip reads and hands every error to the reader; the
gzip thread writes what was written, in order, raises a sink's failure in the writer and writes nothing once
discarded."""

from __future__ import annotations

import gzip
import io
import random
import threading
import zlib

import pytest

from predict import background_gunzip
from predict.background_gunzip import BackgroundGunzip
from predict.gzip_outputs import GzipOutputs


def read_all(data: bytes, size: int = 1000) -> bytes:
    with BackgroundGunzip(io.BytesIO(data)) as stream:
        return b"".join(iter(lambda: stream.read(size), b""))


def noise(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize(
    "data",
    [
        gzip.compress(b"hello, world\n", mtime=0),
        gzip.compress(b"first member\n", mtime=0) + gzip.compress(b"second member\n", mtime=0),
        gzip.compress(b"padded\n", mtime=0) + b"\x00" * 600_000,  # zero padding after the last member
        gzip.compress(b"a\n", mtime=0) + b"\x00" * 10 + gzip.compress(b"b\n", mtime=0),
        gzip.compress(b"", mtime=0),
        b"",  # an empty object is an empty stream, as gzip.GzipFile reads it
        gzip.compress(noise(3_000_000), mtime=0),  # several reads of the source and pieces
        gzip.compress(b"\x00" * 5_000_000, mtime=0),  # a high ratio: pieces stay bounded
    ],
)
def test_the_stream_is_what_gzip_reads(data: bytes) -> None:
    expected = gzip.GzipFile(fileobj=io.BytesIO(data)).read()
    assert read_all(data) == expected
    assert read_all(data, size=7) == expected


def test_pieces_are_bounded_whatever_the_compression_ratio() -> None:
    pieces = list(background_gunzip.gunzip_pieces(io.BytesIO(gzip.compress(b"\x00" * 5_000_000))))
    assert max(map(len, pieces)) <= background_gunzip.PIECE_BYTES and sum(map(len, pieces)) == 5_000_000


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"PK\x03\x04 a zip", gzip.BadGzipFile, r"Not a gzipped file \(b'PK'\)"),
        (gzip.compress(noise(100_000))[:-20_000], EOFError, "Compressed file ended before the end-of-stream marker"),
        (gzip.compress(b"member\n", mtime=0) + b"trailing garbage", gzip.BadGzipFile, "Not a gzipped file"),
        (gzip.compress(b"abc" * 1000, mtime=0)[:-8] + b"\x00" * 8, zlib.error, "incorrect data check"),
    ],
)
def test_a_broken_stream_raises_in_the_reader(data: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        read_all(data)


def test_an_error_of_the_source_reaches_the_reader_after_the_data_before_it() -> None:
    payload = gzip.compress(noise(2_000_000), mtime=0)

    class Failing(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            if self.tell() >= len(payload) // 2:
                raise OSError("connection reset")
            return super().read(size)

    received = bytearray()
    with BackgroundGunzip(Failing(payload)) as stream, pytest.raises(OSError, match="connection reset"):
        for piece in iter(lambda: stream.read(65536), b""):
            received += piece
    assert 0 < len(received) < 2_000_000


def test_close_stops_the_thread_midway() -> None:
    stream = BackgroundGunzip(io.BytesIO(gzip.compress(noise(20_000_000))))
    assert stream.read(10)  # the thread is now waiting to hand over more
    stream.close()
    assert not any(thread.name == "predict-gunzip" for thread in threading.enumerate())


class Sink(io.BytesIO):
    """A sink that fails on the write number `fail_at` (1-based), and counts writes."""

    def __init__(self, fail_at: int = 0) -> None:
        super().__init__()
        self.fail_at, self.writes = fail_at, 0

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes += 1
        if self.writes == self.fail_at:
            raise OSError("upload failed")
        return super().write(data)


def test_outputs_are_the_text_written_in_order_as_deterministic_gzip() -> None:
    texts = [[f"{output}:{n}\n" for n in range(20_000)] for output in range(2)]
    results = []
    for _ in range(2):
        sinks = [Sink(), Sink()]
        outputs = GzipOutputs(list(sinks), 1, handoff_bytes=5000)
        for first, second in zip(*texts, strict=True):
            outputs.write(0, first)
            outputs.write(1, second)
        outputs.write_rows(1, [("a,b", 'c"d', "e")])
        outputs.finish()
        results.append([sink.getvalue() for sink in sinks])
        assert all(sink.writes > 10 for sink in sinks), "written in many hand-offs"
    assert results[0] == results[1]
    first, second = results[0]
    assert gzip.decompress(first).decode() == "".join(texts[0])
    assert gzip.decompress(second).decode() == "".join(texts[1]) + '"a,b","c""d",e\n'
    assert first[:4] == b"\x1f\x8b\x08\x00" and first[4:8] == b"\x00\x00\x00\x00"  # no name, mtime 0


def test_a_sink_failure_is_raised_to_the_writer_and_nothing_follows() -> None:
    sink = Sink(fail_at=2)
    outputs = GzipOutputs([sink, Sink()], 1, handoff_bytes=100)
    with pytest.raises(OSError, match="upload failed"):
        for n in range(100_000):
            outputs.write(0, f"line {n}\n")
        outputs.finish()
    outputs.discard()
    assert sink.writes == 2  # the failed write was the last one


def test_discard_writes_nothing_more_and_no_trailer() -> None:
    sink = Sink()
    outputs = GzipOutputs([sink], 1, handoff_bytes=100)
    for n in range(10_000):
        outputs.write(0, f"line {n}\n")
    outputs.discard()
    written = sink.getvalue()
    with pytest.raises(ValueError, match="write after finish"):
        outputs.write(0, "after\n")
    assert sink.getvalue() == written
    assert not any(thread.name == "predict-gzip" for thread in threading.enumerate())
    if written:
        with pytest.raises(EOFError):
            gzip.decompress(written)
