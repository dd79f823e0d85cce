"""The pure streaming core (data_processor.processing.process_csv) on in-memory bytes: routing, counts,
fingerprint, determinism, whole-object rejections, error propagation and flat memory."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import tracemalloc

import lambda_support  # noqa: F401  - puts lambdas/ on sys.path
import pytest
from lambda_support import read_gzip_csv

from data_processor.processing import BATCH_ROWS, WholeObjectRejected, process_csv
from data_processor.schema import parse_schemas
from sample_data import BAD_FILE_KINDS, COLUMNS, bad_file_bytes, csv_bytes


def rows_only(n: int, seed: int = 0) -> bytes:
    """n churn data rows without the header."""
    return csv_bytes(n, seed)[len(csv_bytes(0)) :]


def run(churn, data: bytes, *, named_gzip: bool = False):
    clean, rejected = io.BytesIO(), io.BytesIO()
    result = process_csv(io.BytesIO(data), churn, clean_out=clean, rejected_out=rejected, named_gzip=named_gzip)
    assert result.rows_read == result.rows_written + result.rows_quarantined + result.rows_blank
    return result, clean.getvalue(), rejected.getvalue()


def churn_with_row_limit(schemas_text: str, kib: int):
    """The churn schema with max_row_kib = kib."""
    document = json.loads(schemas_text)
    document["datasets"]["churn"]["max_row_kib"] = kib
    return parse_schemas(json.dumps(document))["churn"]


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


def test_blank_records_are_skipped_and_counted_not_rejected(churn):
    bad = b"CUST-00000009,2024-01-01,-3,1,1,one-year,credit-card,dsl,0,europe,true\n"
    data = csv_bytes(2) + b"\n" + b"   \n" + b",,,,,,,,,,\n" + bad + rows_only(1, 1) + b"\n\n\n"
    result, clean, rejected = run(churn, data)

    assert (result.rows_read, result.rows_written, result.rows_quarantined, result.rows_blank) == (10, 3, 1, 6)
    assert len(read_gzip_csv(clean)) == 1 + 3
    # row_number counts blank records too: the bad row is the 6th record after the header (line 7).
    assert [row[:2] for row in read_gzip_csv(rejected)[1:]] == [["6", "tenure_months: '-3' is below the minimum 0"]]


def test_trailing_empty_lines_alone_are_blank_records(churn):
    result, clean, rejected = run(churn, csv_bytes(5) + b"\n\n")
    assert (result.rows_read, result.rows_written, result.rows_quarantined, result.rows_blank) == (7, 5, 0, 2)
    assert read_gzip_csv(rejected) == [["row_number", "reason", *COLUMNS]]
    assert gzip.decompress(clean) == csv_bytes(5)


def test_double_cr_line_endings_give_no_rejected_rows(churn):
    data = csv_bytes(300).replace(b"\n", b"\r\r\n")
    assert list(csv.reader(io.StringIO("a,b\r\r\nc,d\r\r\n", newline=""))) == [["a", "b"], [], ["c", "d"], []]
    result, clean, rejected = run(churn, data)
    # the header line ends with \r\r\n too: 301 blank records, one after every line
    assert (result.rows_read, result.rows_written, result.rows_quarantined, result.rows_blank) == (601, 300, 0, 301)
    assert gzip.decompress(clean) == csv_bytes(300)
    assert len(read_gzip_csv(rejected)) == 1


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_utf8_byte_order_mark_is_stripped(churn, gzipped):
    """Excel's "CSV UTF-8" export: a BOM, CRLF endings and a trailing empty line."""
    excel = b"\xef\xbb\xbf" + csv_bytes(20, bad_rows=2).replace(b"\n", b"\r\n") + b"\r\n"
    data = gzip.compress(excel) if gzipped else excel
    result, clean, _ = run(churn, data, named_gzip=gzipped)
    assert (result.rows_read, result.rows_written, result.rows_quarantined, result.rows_blank) == (21, 18, 2, 1)
    assert read_gzip_csv(clean)[0] == list(COLUMNS), "the header has no BOM left"
    assert result.source_sha256 == hashlib.sha256(data).hexdigest(), "the fingerprint is of the stored bytes"


def test_a_field_over_the_csv_default_limit_rejects_only_its_row(churn):
    """csv's own default limit is 131072 characters; the default row bound (256 KiB) reads past it."""
    assert csv.field_size_limit() == 131072
    huge = b"CUST-" + b"7" * 140_000 + b",2024-01-01,3,20.00,60.00,one-year,mailed-check,none,0,europe,false\n"
    result, _, rejected = run(churn, csv_bytes(2) + huge + rows_only(2, 1))
    assert (result.rows_read, result.rows_written, result.rows_quarantined) == (5, 4, 1)
    (row,) = read_gzip_csv(rejected)[1:]
    assert row[0] == "3" and row[1].startswith("customer_id: 'CUST-777") and "does not match the pattern" in row[1]
    assert len(row[2]) == 140_005, "the field is kept as read"
    assert csv.field_size_limit() == 131072, "the process-wide limit is restored"


def test_a_field_over_the_row_bound_rejects_only_that_record(schemas_text):
    schema = churn_with_row_limit(schemas_text, 1)
    before, after = csv_bytes(300), rows_only(300, 1)
    oversize = b"CUST-00000001,2024-01-01," + b"9" * 2000 + b",20.00,60.00,one-year,mailed-check,none,0,europe,false\n"
    result, clean, rejected = run(schema, before + oversize + after)

    assert (result.rows_read, result.rows_written, result.rows_quarantined, result.rows_blank) == (601, 600, 1, 0)
    assert gzip.decompress(clean) == before + after, "every other row is written, in order, across batches"
    ((number, reason),) = read_gzip_csv(rejected)[1:]
    assert number == "301"
    assert reason == (
        "a field is over the row limit of 1024 characters (max_row_kib 1); the record cannot be read, "
        "so its fields are not kept (csv gave up on line 302 of the file)"
    )
    assert csv.field_size_limit() == 131072


def test_a_quoted_multiline_field_over_the_bound_leaves_its_other_lines_as_rejected_records(schemas_text):
    schema = churn_with_row_limit(schemas_text, 1)
    multiline = b'CUST-00000001,"' + b"x" * 1500 + b'\nsecond line\n\nlast line",3\n'
    result, clean, rejected = run(schema, csv_bytes(2) + multiline + rows_only(1, 1))

    # records: 2 rows, the over-limit record, "second line", a blank line, 'last line",3', 1 row
    assert (result.rows_read, result.rows_written, result.rows_quarantined, result.rows_blank) == (7, 3, 3, 1)
    rows = read_gzip_csv(rejected)[1:]
    assert [row[0] for row in rows] == ["3", "4", "6"]
    assert rows[0][1].startswith("a field is over the row limit") and len(rows[0]) == 2
    assert rows[1] == ["4", "expected 11 fields, got 1", "second line"]
    assert rows[2] == ["6", "expected 11 fields, got 2", 'last line"', "3"]
    assert len(read_gzip_csv(clean)) == 1 + 3


def test_a_row_over_the_bound_is_rejected_with_its_fields(schemas_text):
    schema = churn_with_row_limit(schemas_text, 1)
    # Every field is under 1024 characters; together they are over.
    wide = ("CUST-00000001," + ",".join(["y" * 600] * 10) + "\n").encode()
    result, _, rejected = run(schema, csv_bytes(3) + wide)
    assert (result.rows_read, result.rows_written, result.rows_quarantined) == (4, 3, 1)
    ((number, reason, *fields),) = read_gzip_csv(rejected)[1:]
    assert number == "4"
    assert reason == "the row has 6013 characters of field text, over the row limit of 1024 (max_row_kib 1)"
    assert fields == ["CUST-00000001", *["y" * 600] * 10]


def test_a_large_row_bound_shrinks_batches_but_not_the_results(schemas_text):
    schema = churn_with_row_limit(schemas_text, 16 * 1024)
    data = csv_bytes(2 * BATCH_ROWS + 7, bad_rows=9)
    result, clean, rejected = run(schema, data)
    reference, clean_ref, rejected_ref = run(parse_schemas(schemas_text)["churn"], data)
    assert (result.rows_read, result.rows_quarantined) == (reference.rows_read, reference.rows_quarantined)
    assert (clean, rejected) == (clean_ref, rejected_ref)


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
        (b"\xef\xbb\xbf\xef\xbb\xbf" + csv_bytes(1), "bad_header", "header column 1 is '\\ufeffcustomer_id'"),
        (b"customer_id,signup_date\n", "bad_header", "the header has 2 columns, dataset churn has 11"),
        (b"\n" + csv_bytes(1), "bad_header", "the header has 0 columns"),
        (gzip.compress(b""), "empty", "no header"),
        (csv_bytes(1) + b"\xff\xfe\n", "not_utf8", "byte 0xff"),
        (csv_bytes(1).replace(b"CUST-", b"CU\x00ST-"), "not_csv", "NUL"),
        (b"x" * 300_000 + b"\n" + rows_only(1), "bad_header", "a header field is over the row limit of 262144"),
        (csv_bytes(1) + b'CUST-00000002,"unterminated\n', "not_csv", "unexpected end of data"),
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
