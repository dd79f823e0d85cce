"""predict.scoring without AWS: every score is model_format.score's, bit for bit, whatever the values look like;
every row is scored or unscored with model_format's reason; block size and the value memo change nothing."""

from __future__ import annotations

import copy
import csv
import gzip
import io
import itertools
import json
import random
from dataclasses import dataclass
from typing import Any

import pytest
from lambda_support import read_gzip_csv
from predict_support import batch_bytes, churn_served

import model_format
from inference_common.contract import InvalidInferenceInput
from predict import batch_reader, block_scoring, scoring
from sample_data import BATCH_COLUMNS
from tests.training.fitted_model import trained

COLUMN = {name: index for index, name in enumerate(BATCH_COLUMNS)}


@dataclass
class Scored:
    counts: scoring.ScoreCounts
    predictions: list[list[str]]
    unscored: list[list[str]]
    raw: tuple[bytes, bytes]


def score(data: bytes, model: Any = None, **options: Any) -> Scored:
    predictions, unscored = io.BytesIO(), io.BytesIO()
    counts = scoring.score_batch(
        io.BytesIO(data),
        model or trained().model,
        churn_served(),
        model_version="1.2.3",
        predictions_out=predictions,
        unscored_out=unscored,
        **options,
    )
    raw = predictions.getvalue(), unscored.getvalue()
    rows = [read_gzip_csv(part) for part in raw]
    return Scored(counts, rows[0][1:], rows[1][1:], raw)


def with_value(column: str, values: list[str]) -> list[list[str]]:
    """One batch row per value, the rest of the row taken in turn from the test rows."""
    base = itertools.cycle(trained().batch_rows)
    rows = []
    for value in values:
        row = list(next(base))
        row[COLUMN[column]] = value
        rows.append(row)
    return rows


def assert_same_as_model_format(rows: list[list[str]], scored: Scored, model: Any = None) -> None:
    """Each row: model_format.score's score and label in the predictions, or its RowError reason in unscored, in
    order; nothing else, nothing lost."""
    model = model or trained().model
    predictions, unscored = iter(scored.predictions), iter(scored.unscored)
    for number, row in enumerate(rows, start=1):
        try:
            expected = model_format.score(model, dict(zip(BATCH_COLUMNS, row, strict=True)))
        except model_format.RowError as exc:
            assert next(unscored) == [str(number), str(exc), *row], row
            continue
        customer, text, label, version = next(predictions)
        assert (customer, version) == (row[0], "1.2.3")
        assert text == repr(expected) and float(text) == expected, row
        assert label == ("true" if expected >= model.threshold else "false")
    assert next(predictions, None) is None and next(unscored, None) is None
    assert scored.counts.read == len(rows) == scored.counts.scored + scored.counts.unscored


def odd_numbers() -> list[str]:
    """Every string of up to 3 characters over digits, sign, point, exponent, space, '_' and letters of nan/inf,
    plus longer look-alikes: what float() accepts and parse_number does not, and the other way round."""
    alphabet = "09.+-eE _nif"
    short = ["".join(chars) for size in range(1, 4) for chars in itertools.product(alphabet, repeat=size)]
    longer = [
        "12.5",
        "+12.5",
        "-0.0",
        "1e2",
        "1E+02",
        ".5",
        "5.",
        "1.e5",
        " 45.5 ",
        "45.5\n",
        "\n45.5",
        "4\n5",
        "1_000",
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "1e999",
        "-1e999",
        "0x10",
        "12,50",
        "$45.00",
        "\u0663",  # ARABIC-INDIC DIGIT THREE: \d and float() both take it
        "\uff11\uff12",  # fullwidth 12
        "\u00a012",  # no-break space: str.strip() and float() both drop it
        "1e308",
        "",
    ]
    return short + longer


@pytest.mark.parametrize("column", ["monthly_charges", "total_charges", "tenure_months"])
def test_every_value_scores_exactly_as_model_format_or_is_unscored_with_its_reason(column: str) -> None:
    rows = with_value(column, odd_numbers())
    scored = score(batch_bytes(rows))
    assert_same_as_model_format(rows, scored)
    assert scored.counts.unscored > 0 and scored.counts.scored > 0


def test_empty_values_are_the_mean_only_where_the_model_imputes() -> None:
    rows = with_value("total_charges", ["", " ", ""]) + with_value("tenure_months", ["", "3"])
    scored = score(batch_bytes(rows))
    assert_same_as_model_format(rows, scored)
    assert scored.counts.unscored == 1
    assert scored.unscored[0][:2] == ["4", "column 'tenure_months' is empty (the model has no value to impute for it)"]


def test_unknown_and_empty_categories_score_as_all_zeros() -> None:
    rows = with_value("region", ["antarctica", "", "europe", "Europe"]) + with_value("contract", ["weekly"])
    assert_same_as_model_format(rows, score(batch_bytes(rows)))


@pytest.mark.parametrize(("chunk_bytes", "block_rows"), [(64, 1), (1000, 7), (1 << 20, 512)])
def test_chunk_and_block_sizes_and_a_small_value_memo_change_no_byte(
    chunk_bytes: int, block_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = trained().batch_rows + with_value("support_calls", ["x", "", " 2"])
    data = batch_bytes(rows)
    reference = score(data)
    assert_same_as_model_format(rows, reference)
    monkeypatch.setattr(block_scoring, "MEMO_ENTRIES", 3)  # every column stops remembering values at once
    assert score(data, chunk_bytes=chunk_bytes, block_rows=block_rows).raw == reference.raw


@pytest.mark.parametrize("chunk_bytes", [64, 1000, 1 << 20])
def test_a_batch_csv_must_read_scores_the_same_as_one_split_in_c(chunk_bytes: int) -> None:
    rows = trained().batch_rows
    plain = score(batch_bytes(rows))
    # Every field quoted: the same records, which only csv.reader can read.
    assert score(batch_bytes(rows, quoting=csv.QUOTE_ALL), chunk_bytes=chunk_bytes).raw == plain.raw
    # Quoted from the middle on: split up to there, csv after.
    half = (
        gzip.decompress(batch_bytes(rows[:250]))
        + gzip.decompress(batch_bytes(rows[250:], quoting=csv.QUOTE_ALL)).split(b"\n", 1)[1]
    )
    assert score(gzip.compress(half, mtime=0), chunk_bytes=chunk_bytes).raw == plain.raw


@pytest.mark.parametrize(
    ("text", "records"),
    [
        ("a,b\r\nc,d\r\n", [["a", "b"], ["c", "d"]]),
        ("a,b\nc,d", [["a", "b"], ["c", "d"]]),  # no line break at the end
        ("a,b\n\nc,d\n", [["a", "b"], [], ["c", "d"]]),  # csv reads an empty line as a record of no field
        ("a,b\nc\nd,e,f\n", [["a", "b"], ["c"], ["d", "e", "f"]]),
        ('a,b\n"c\nC",d\n', [["a", "b"], ["c\nC", "d"]]),
        ("a,b\nc,d\re,f\n", [["a", "b"], ["c", "d"], ["e", "f"]]),
    ],
)
def test_the_reader_returns_what_csv_reader_returns(text: str, records: list[list[str]]) -> None:
    assert list(csv.reader(io.StringIO(text, newline=""))) == records
    for chunk_bytes in (1, 3, 1 << 16):
        reader = batch_reader.BatchReader(
            io.BytesIO(gzip.compress(text.encode())), max_field_chars=1000, chunk_bytes=chunk_bytes
        )
        try:
            header = reader.header()
            read = [block.row(index) for block in reader.blocks(len(header)) for index in range(block.size)]
        finally:
            reader.close()
        assert [header, *read] == records, chunk_bytes


def test_a_row_of_another_width_is_unscored_naming_it() -> None:
    rows = [list(row) for row in trained().batch_rows[:5]]
    rows[1] = rows[1][:-1]
    rows[3] = [*rows[3], "extra"]
    scored = score(batch_bytes(rows))
    assert [row[:2] for row in scored.unscored] == [
        ["2", "the row has 9 fields, the batch header has 10"],
        ["4", "the row has 11 fields, the batch header has 10"],
    ]
    assert [row[0] for row in scored.predictions] == [rows[0][0], rows[2][0], rows[4][0]]


def test_fields_with_a_carriage_return_are_quoted_in_both_outputs() -> None:
    rows = [list(row) for row in trained().batch_rows[:3]]
    rows[0][0] = "CUST\r1"
    rows[1][COLUMN["tenure_months"]] = "\r"  # unscored, its fields kept
    scored = score(batch_bytes(rows, quoting=csv.QUOTE_ALL))
    assert [row[0] for row in scored.predictions] == ["CUST\r1", rows[2][0]]
    assert scored.unscored == [
        ["2", "column 'tenure_months' is empty (the model has no value to impute for it)", *rows[1]]
    ]


def test_ids_that_need_quoting_are_written_as_csv() -> None:
    rows = [list(row) for row in trained().batch_rows[:4]]
    ids = ["CUST,1", 'CUST"2', "CUST\n3", "CUST-4"]
    for row, customer in zip(rows, ids, strict=True):
        row[0] = customer
    scored = score(batch_bytes(rows))
    assert [row[0] for row in scored.predictions] == ids
    assert_same_as_model_format(rows, scored)


def extreme_model(coefficients: dict[int, float]) -> Any:
    """The trained model with monthly_charges and total_charges scaled so that 1e300 overflows to infinity once
    standardized, and the given coefficients (by position)."""
    document = copy.deepcopy(model_format.to_dict(trained().model))
    for position in (1, 2):
        document["features"][position]["scale"] = 1e-300
    for position, value in coefficients.items():
        document["coefficients"][position] = value
    return model_format.loads(json.dumps(document))


def test_values_overflowing_the_model_are_scored_as_model_format_does_or_unscored_with_why() -> None:
    model = extreme_model({1: 1.0, 2: -1.0})
    rows = with_value("monthly_charges", ["1e300", "1e300", "20"])
    rows[1][COLUMN["total_charges"]] = "1e300"  # +inf and -inf products: math.fsum refuses them
    scored = score(batch_bytes(rows), model)
    assert scored.predictions[0][1:3] == ["1.0", "true"]  # an infinite logit is a certain prediction
    assert scored.unscored[0][:2] == [
        "2",
        "the score cannot be computed (-inf + inf in fsum): a value is far outside the model's training range",
    ]
    assert float(scored.predictions[1][1]) == model_format.score(model, dict(zip(BATCH_COLUMNS, rows[2], strict=True)))


def test_a_score_that_is_not_a_number_is_unscored() -> None:
    model = extreme_model({1: 0.0})  # 0 * inf
    rows = with_value("monthly_charges", ["1e300", "20"])
    scored = score(batch_bytes(rows), model)
    assert scored.unscored[0][:2] == [
        "1",
        "the model's score is not a number: a value is far outside the model's training range",
    ]
    assert scored.counts == scoring.ScoreCounts(read=2, scored=1, unscored=1, positive=scored.counts.positive)


def test_outputs_are_deterministic_gzip() -> None:
    data = batch_bytes(trained().batch_rows)
    first, second = score(data), score(data)
    assert first.raw == second.raw
    for part in first.raw:
        assert part[:4] == b"\x1f\x8b\x08\x00" and part[4:8] == b"\x00\x00\x00\x00"  # no name, mtime 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (gzip.compress(b"", mtime=0), "the batch is empty: it has no header"),
        (b"customer_id,signup_date\n", "the batch is not a complete gzip stream: Not a gzipped file"),
        (gzip.compress(b"a,b\n", mtime=0), "the batch header a,b is not model churn's batch columns customer_id,"),
        (gzip.compress(b"\xff", mtime=0), "the batch is not UTF-8 text"),
        (
            gzip.compress(f'{",".join(BATCH_COLUMNS)}\n"a"b,c\n'.encode(), mtime=0),
            "the batch is not valid CSV at line 2: ',' expected after '\"'",
        ),
    ],
)
def test_an_unusable_batch_is_invalid_input_and_writes_nothing(data: bytes, message: str) -> None:
    predictions, unscored = io.BytesIO(), io.BytesIO()
    with pytest.raises(InvalidInferenceInput) as caught:
        scoring.score_batch(
            io.BytesIO(data),
            trained().model,
            churn_served(),
            model_version="1.2.3",
            predictions_out=predictions,
            unscored_out=unscored,
        )
    assert str(caught.value).startswith(message)
    for part in (predictions.getvalue(), unscored.getvalue()):
        if part:  # cut off: never a complete gzip stream
            with pytest.raises(EOFError):
                gzip.decompress(part)


@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL])  # split in C, or read by csv
def test_a_field_up_to_the_datasets_row_bound_is_read_and_the_csv_limit_restored(quoting: int) -> None:
    previous = csv.field_size_limit()
    long_id = "C" * (200 * 1024)  # over csv's default 128 KiB, within the dataset's 256 KiB row bound
    rows = [[long_id, *trained().batch_rows[0][1:]], trained().batch_rows[1]]
    scored = score(batch_bytes(rows, quoting=quoting))
    assert [row[0] for row in scored.predictions] == [long_id, rows[1][0]]
    assert csv.field_size_limit() == previous


def test_a_field_over_the_datasets_row_bound_is_invalid_input_naming_the_line() -> None:
    rows = [trained().batch_rows[0], ["C" * (300 * 1024), *trained().batch_rows[1][1:]]]
    with pytest.raises(InvalidInferenceInput, match="the batch is not valid CSV at line 3: field larger than field"):
        score(batch_bytes(rows))


def test_random_batches_score_exactly() -> None:
    rng = random.Random(7)
    values = odd_numbers()
    rows = [list(row) for row in trained().batch_rows]
    for row in rows:
        for column in ("tenure_months", "monthly_charges", "total_charges", "support_calls"):
            if rng.random() < 0.05:
                row[COLUMN[column]] = rng.choice(values)
    assert_same_as_model_format(rows, score(batch_bytes(rows), block_rows=64))
