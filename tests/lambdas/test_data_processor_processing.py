"""The pure streaming core (data_processor.processing.process_csv) on in-memory bytes: routing, counts,
fingerprint, determinism, whole-object rejections, error propagation and flat memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import tracemalloc

import lambda_support  # noqa: F401  - puts lambdas/ on sys.path
import pytest
from lambda_support import read_gzip_csv

from data_processor.processing import WholeObjectRejected, process_csv
from sample_data import BAD_FILE_KINDS, COLUMNS, bad_file_bytes, csv_bytes


def rows_only(n: int, seed: int = 0) -> bytes:
    """n churn data rows without the header."""
    return csv_bytes(n, seed)[len(csv_bytes(0)) :]


def run(churn, data: bytes, *, named_gzip: bool = False):
    clean, rejected = io.BytesIO(), io.BytesIO()
    result = process_csv(io.BytesIO(data), churn, clean_out=clean, rejected_out=rejected, named_gzip=named_gzip)
    return result, clean.getvalue(), rejected.getvalue()


def test_rows_are_routed_and_counted(churn):
    data = csv_bytes(3) + b"CUST-00000004,2024-01-01,-3,1,1,one-year,credit-card,dsl,0,europe,true\n" + rows_only(2, 1)
    result, clean, rejected = run(churn, data)

    assert (result.rows_read, result.rows_written, result.rows_quarantined) == (6, 5, 1)
    assert read_gzip_csv(clean)[0] == list(COLUMNS) and len(read_gzip_csv(clean)) == 6
    assert read_gzip_csv(rejected) == [
        ["row_number", "reason", *COLUMNS],
        [
            "4",
            "tenure_months: '-3' is below the minimum 0",
            "CUST-00000004",
            "2024-01-01",
            "-3",
            "1",
            "1",
            "one-year",
            "credit-card",
            "dsl",
            "0",
            "europe",
            "true",
        ],
    ]
    assert result.source_sha256 == hashlib.sha256(data).hexdigest() and result.source_bytes == len(data)
    assert result.gzip_input is False


def test_row_numbers_count_data_rows_across_batches(churn):
    body = csv_bytes(1000)
    lines = body.split(b"\n")
    lines[700] = lines[700].replace(b"CUST-", b"C-")  # data row 700 (line 0 is the header)
    result, _, rejected = run(churn, b"\n".join(lines))
    assert [row[0] for row in read_gzip_csv(rejected)[1:]] == ["700"]
    assert result.rows_read == 1000


def test_clean_rows_are_written_exactly_as_read(churn):
    data = csv_bytes(50)
    _, clean, _ = run(churn, data)
    assert gzip.decompress(clean) == data


def test_crlf_and_quoted_fields_are_parsed_as_csv(churn):
    data = csv_bytes(2).replace(b"\n", b"\r\n").replace(b"CUST-00000002", b'"CUST-00000002"')
    assert b'\r\n"CUST-00000002"' in data
    result, clean, _ = run(churn, data)
    assert result.rows_written == 2
    assert gzip.decompress(clean) == csv_bytes(2).replace(b"\r\n", b"\n")


def test_blank_line_is_a_rejected_row_not_a_lost_one(churn):
    body = csv_bytes(2)
    result, _, rejected = run(churn, body + b"\n" + rows_only(1, 1))
    assert (result.rows_read, result.rows_quarantined) == (4, 1)
    assert read_gzip_csv(rejected)[1] == ["3", "expected 11 fields, got 0"]


def test_outputs_are_deterministic_gzip_without_timestamp(churn):
    data = csv_bytes(200)
    _, first, _ = run(churn, data)
    _, second, _ = run(churn, data)
    assert first == second
    assert first[4:8] == b"\x00\x00\x00\x00", "gzip mtime is 0"
    assert first[3] & 0x08 == 0, "no file name in the gzip header"


def test_gzip_input_is_decompressed_and_hashed_as_stored(churn):
    plain = csv_bytes(40)
    stored = gzip.compress(plain[:1000]) + gzip.compress(plain[1000:])  # two members, as `cat a.gz b.gz` makes
    result, clean, _ = run(churn, stored, named_gzip=True)
    assert result.gzip_input is True and result.rows_written == 40
    assert result.source_sha256 == hashlib.sha256(stored).hexdigest() and result.source_bytes == len(stored)
    assert gzip.decompress(clean) == plain


EXPECTED_CODES = {
    "empty": "empty",
    "not_utf8": "not_utf8",
    "wrong_header": "bad_header",
    "fake_gzip": "not_gzip",
    "not_csv": "not_csv",
    "malformed_csv": "not_csv",
    "truncated_gzip": "corrupt_gzip",
}


@pytest.mark.parametrize("kind", [k for k in BAD_FILE_KINDS if k != "oversize"])
def test_every_bad_file_kind_is_rejected_whole_with_its_code(churn, kind):
    with pytest.raises(WholeObjectRejected) as caught:
        run(churn, bad_file_bytes(kind), named_gzip=kind in ("fake_gzip", "truncated_gzip"))
    assert caught.value.code == EXPECTED_CODES[kind]
    assert caught.value.reason


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"\xef\xbb\xbf" + csv_bytes(1), "bad_header", "byte-order mark"),
        (b"customer_id,signup_date\n", "bad_header", "the header has 2 columns, dataset churn has 11"),
        (b"\n" + csv_bytes(1), "bad_header", "the header has 0 columns"),
        (gzip.compress(b""), "empty", "no header"),
        (csv_bytes(1) + b"\xff\xfe\n", "not_utf8", "byte 0xff"),
        (csv_bytes(1).replace(b"CUST-", b"CU\x00ST-"), "not_csv", "NUL"),
        (csv_bytes(0) + b"x" * 140_000 + b"\n", "not_csv", "field larger than field limit"),
    ],
)
def test_whole_object_reasons_are_specific(churn, data, code, words):
    with pytest.raises(WholeObjectRejected) as caught:
        run(churn, data)
    assert caught.value.code == code and words in caught.value.reason


def test_no_gzip_trailer_reaches_the_outputs_after_a_rejection(churn):
    """The outputs are cut when the object is rejected: what was streamed stays an unfinished gzip stream."""
    clean = io.BytesIO()
    with pytest.raises(WholeObjectRejected):
        process_csv(io.BytesIO(csv_bytes(20000) + b"\xff\n"), churn, clean_out=clean, rejected_out=io.BytesIO())
    assert len(clean.getvalue()) > 0, "the clean output had started streaming"
    with pytest.raises(EOFError):
        gzip.decompress(clean.getvalue())


def test_read_errors_are_not_mistaken_for_bad_data(churn):
    class FlakyBody:
        def __init__(self):
            self.inner = io.BytesIO(csv_bytes(5000))
            self.reads = 0

        def read(self, size=-1):
            self.reads += 1
            if self.reads == 3:
                raise ConnectionResetError("connection reset by peer")
            return self.inner.read(min(size, 4096))

    with pytest.raises(ConnectionResetError):
        process_csv(FlakyBody(), churn, clean_out=io.BytesIO(), rejected_out=io.BytesIO())


def test_memory_does_not_grow_with_input_size(churn):
    """Peak traced memory for 4x the input stays within a margin of the small run (streams, never loads)."""

    class Repeat:
        """A source of `total` bytes: the header once, then rows repeated, produced lazily."""

        def __init__(self, total: int):
            self.header, body = csv_bytes(0), csv_bytes(2000)
            self.chunk = body[len(self.header) :]
            self.left, self.sent_header = total, False

        def read(self, size=-1):
            if not self.sent_header:
                self.sent_header = True
                return self.header
            if self.left <= 0:
                return b""
            self.left -= len(self.chunk)
            return self.chunk

    class Sink(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            return len(b)

    peaks = []
    for total in (1_000_000, 4_000_000):
        tracemalloc.start()
        process_csv(Repeat(total), churn, clean_out=Sink(), rejected_out=Sink())
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] * 1.2 + 256 * 1024, peaks
