"""Scoring one batch: a gzip CSV of rows in, gzip CSVs of predictions and of unscored rows out (no AWS calls).

    batch (gzip CSV, header = the served model's batch columns)
      ─▶ gunzip ─▶ UTF-8 ─▶ csv.reader ─▶ header check ─▶ blocks of at most BLOCK_ROWS records:
            fast path  (C, column-wise): the block's feature columns checked, parsed and scored at once
            exact path (Python, per row): only rows the fast check refused ─▶ model_format.score
      ─▶ predictions  <id_column>,score,label,model_version   score = repr(float), label = true | false
      ─▶ unscored     row_number,reason,<batch columns>        rows model_format.score refuses, with its reason

Every row read is scored or unscored (read == scored + unscored); row_number is the row's position in the batch
after the header.

Exactness: a score is the float model_format.score returns for the row, bit for bit. The fast path parses the
same numbers, computes the same products `coefficient * expanded value` and sums them with math.fsum as
model_format.score does; it only leaves out the products of one-hot zeros, which is exact because fsum is
correctly rounded whatever the order and count of its terms, and adding zero changes no sum (at most the sign
of a zero logit, where the sigmoid gives 0.5 either way). The sigmoid uses exp(-|logit|), which is the very
exp() of each branch of model_format.sigmoid. The fast check accepts a numeric column of a block only when the
joined values are ASCII made of `0-9 . + - e E`, every value parses with float() and the values are finite: over
those characters float() accepts exactly what model_format's _NUMBER pattern does, so the fast path never
accepts a value parse_number refuses. Anything else (an empty value of a feature whose `missing` is "error",
spaces, "nan", "1_000", non-ASCII digits) sends the rows concerned to model_format.score itself. An empty value
of a feature whose `missing` is "mean" is read as repr(mean), which parses back to the mean exactly.

Memory is bounded by one block of records (at most BLOCK_BUDGET_CHARS of field text) and the codec buffers,
whatever the batch size. Outputs are deterministic gzip (mtime 0, no file name): the same batch and model give
the same bytes. Problems with the batch as a whole raise InvalidInferenceInput, a model feature the header lacks
ModelContractError, after both outputs are cut off (the caller aborts its uploads); other exceptions (a network
error while reading) propagate unchanged.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, count, islice, repeat
from operator import add, ge, getitem, is_, mul, neg, sub, truediv
from typing import Any, BinaryIO, Protocol

import model_format
from inference_common.contract import InvalidInferenceInput, ModelContractError, ServedModel
from model_format import CategoricalFeature, LinearModel, NumericFeature

GZIP_LEVEL = 1  # scores are 17-digit floats: level 6 saves ~6% of the bytes for ~5x the CPU
BLOCK_ROWS = 512  # records scored together, at most
# A block holds at most this much field text: with a large row bound a block gets fewer records (never fewer than
# one), as in data_processor.processing.
BLOCK_BUDGET_CHARS = 64 * 1024 * 1024
MEMO_ENTRIES = 16384  # values remembered per numeric column (a few MiB at most)
TEXT_CHUNK_CHARS = 1 << 16
PREDICTION_COLUMNS = ("score", "label", "model_version")
UNSCORED_PREFIX_COLUMNS = ("row_number", "reason")
LABELS = ("false", "true")
# The characters of a plain decimal number, and the "\n" joining a column's values for one check.
_NUMBER_BYTES = b"0123456789.+-eE\n"
_CSV_SPECIALS = ('"', "\r")


@dataclass(frozen=True)
class ScoreCounts:
    """What became of the batch's rows: read == scored + unscored; positive counts the scored rows labelled true."""

    read: int
    scored: int
    unscored: int
    positive: int


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class _CuttableSink(io.RawIOBase):
    """Forwards writes to `target` until cut(); then drops them, so closing the gzip layer after a failure never
    writes a trailer into an upload that is being aborted."""

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


class _GzipText:
    """Text → UTF-8 → gzip (mtime 0, no file name) → sink. finish() writes the gzip trailer, discard() drops it."""

    def __init__(self, sink: BinaryIO, level: int) -> None:
        self._sink = _CuttableSink(sink)
        self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self._sink, compresslevel=level, mtime=0)

    def write(self, text: str) -> None:
        self._gzip.write(text.encode("utf-8"))

    def write_rows(self, rows: Any) -> None:
        """CSV rows as csv.writer quotes them (for rows whose fields may need quoting)."""
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        self.write(buffer.getvalue())

    def finish(self) -> None:
        self._gzip.close()  # the sink is not closed: it belongs to the caller

    def discard(self) -> None:
        self._sink.cut()
        self._gzip.close()


def _plain_float(value: str) -> float | None:
    """One value under the fast check's rule (module docstring): the finite float, or None."""
    if not value.isascii() or value.encode("ascii").translate(None, _NUMBER_BYTES) or "\n" in value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _parse_column(values: Sequence[str]) -> list[float] | None:
    """The floats of a whole column, checked in C, or None when any value fails the fast check."""
    joined = "\n".join(values)
    if not joined.isascii() or joined.encode("ascii").translate(None, _NUMBER_BYTES):
        return None
    try:
        numbers = list(map(float, values))
    except ValueError:
        return None
    # A value with "\n" inside could pass the character check; float() refuses it unless the "\n" is leading or
    # trailing (which it strips, as parse_number does), so it parses as parse_number would. Finite: "1e999" is inf.
    return numbers if math.isfinite(sum(numbers)) else None


class _NumericColumn:
    """One numeric feature over its batch column: `products(values)` gives `coefficient * (x - mean) / scale` per
    value as model_format.score computes it, None where the value fails the fast check.

    Values repeat (months, calls, prices), so products are remembered by value text: a block then costs one dict
    lookup per value, and the check and parse only for values not seen yet. A column with more distinct values than
    MEMO_ENTRIES (an amount) stops remembering and parses every value: memory stays bounded either way."""

    def __init__(self, feature: NumericFeature, index: int, coefficient: float) -> None:
        self.index, self.mean, self.scale, self.coefficient = index, feature.mean, feature.scale, coefficient
        # An empty value of a "mean" feature reads as the mean: repr(mean) parses back to it exactly.
        self.fill = {"": repr(feature.mean)} if feature.missing == "mean" else {}
        self.memo: dict[str, float | None] | None = {}

    def products(self, values: Sequence[str]) -> tuple[list[float | None], bool]:
        """The products of `values`, and whether any is None (refused by the fast check)."""
        if self.memo is None:
            return self._products(values)
        products = list(map(self.memo.get, values))
        if None not in products:
            return products, False
        unseen = list(set(compress(values, map(is_, products, repeat(None)))))
        if len(self.memo) + len(unseen) > MEMO_ENTRIES:
            self.memo = None
            return self._products(values)
        computed, refused = self._products(unseen)
        known = dict(zip(unseen, computed, strict=True))
        self.memo.update(known)  # a refused value is remembered as None: looked at again, refused again
        return list(map(known.get, values, products)), refused

    def _products(self, values: Sequence[str]) -> tuple[list[float | None], bool]:
        texts = list(map(self.fill.get, values, values)) if self.fill else values
        numbers: list[float | None] | None = _parse_column(texts)  # type: ignore[assignment]
        refused = numbers is None
        if numbers is None:
            numbers = list(map(_plain_float, texts))
        placeholders = [0.0 if number is None else number for number in numbers] if refused else numbers
        standardized = map(truediv, map(sub, placeholders, repeat(self.mean)), repeat(self.scale))
        products: list[float | None] = list(map(mul, repeat(self.coefficient), standardized))
        if refused:
            products = [None if number is None else product for number, product in zip(numbers, products, strict=True)]
            refused = None in products
        return products, refused


class _Scorer:
    """The model laid over the batch header: its numeric columns, and per categorical feature the column and the
    coefficient of each category."""

    def __init__(self, model: LinearModel, header: Sequence[str], id_column: str) -> None:
        position = {name: index for index, name in enumerate(header)}
        missing = [feature.name for feature in model.features if feature.name not in position]
        if missing:
            raise ModelContractError(
                f"the batch lacks the model's column(s) {', '.join(missing)}; batch header: {','.join(header)}"
            )
        self.model, self.header, self.width = model, tuple(header), len(header)
        self.id_index = position[id_column]
        self.numeric: list[_NumericColumn] = []
        self.categorical: list[tuple[int, dict[str, float]]] = []
        coefficients = iter(model.coefficients)
        for feature in model.features:
            if isinstance(feature, NumericFeature):
                self.numeric.append(_NumericColumn(feature, position[feature.name], next(coefficients)))
            else:
                assert isinstance(feature, CategoricalFeature)
                table = dict(zip(feature.categories, islice(coefficients, len(feature.categories)), strict=True))
                self.categorical.append((position[feature.name], table))

    def score_block(self, block: list[list[str]], first: int) -> tuple[Sequence[str], list[float], list[tuple]]:
        """The ids and scores of the block's scored rows, in order, and its unscored rows (row_number, reason,
        *fields); `first` is the row_number of the block's first row."""
        try:
            columns = list(zip(*block, strict=True))
        except ValueError:  # rows of different widths: the exact path names them
            columns = None
        scores = self._fast_scores(columns) if columns is not None and len(columns) == self.width else None
        if scores is not None and None not in scores and math.isfinite(sum(scores)):  # type: ignore[arg-type]
            return columns[self.id_index], scores, []  # type: ignore[index,return-value]  # the common case
        ids, kept, unscored = [], [], []
        for number, row, fast in zip(count(first), block, scores or repeat(None), strict=False):
            outcome = self.exact(row) if fast is None else fast
            if isinstance(outcome, float) and math.isnan(outcome):
                # A value overflowing the standardization of a feature whose coefficient is 0.0: no label either.
                outcome = "the model's score is not a number: a value is far outside the model's training range"
            if isinstance(outcome, str):
                unscored.append((number, outcome, *row))
            else:
                ids.append(row[self.id_index])
                kept.append(outcome)
        return ids, kept, unscored

    def _fast_scores(self, columns: list[tuple[str, ...]]) -> list[float | None] | None:
        """Scores of a block given as columns, None for a row the exact path must take; None for the whole block
        when math.fsum refuses some row's products (the exact path then says which)."""
        terms: list[list[Any]] = []
        refused: set[int] = set()
        for column in self.numeric:
            products, any_refused = column.products(columns[column.index])
            if any_refused:
                refused.update(compress(count(), map(is_, products, repeat(None))))
            terms.append(products)
        for row in refused:
            for products in terms:
                products[row] = 0.0  # a placeholder: the row's score is the exact path's
        for index, table in self.categorical:
            terms.append(list(map(table.get, columns[index], repeat(0.0))))
        try:
            logits = list(map(add, repeat(self.model.intercept), map(math.fsum, zip(*terms, strict=True))))
        except (OverflowError, ValueError):  # fsum: an intermediate overflow, or inf - inf
            return None
        exps = list(map(math.exp, map(neg, map(abs, logits))))
        numerators = map(getitem, zip(exps, repeat(1.0)), map(ge, logits, repeat(0.0)))  # logit >= 0: 1.0, else exp
        scores: list[float | None] = list(map(truediv, numerators, map(add, repeat(1.0), exps)))
        for row in refused:
            scores[row] = None
        return scores

    def exact(self, row: list[str]) -> float | str:
        """model_format.score of one row, or the reason it cannot be scored."""
        if len(row) != self.width:
            return f"the row has {len(row)} fields, the batch header has {self.width}"
        try:
            return model_format.score(self.model, dict(zip(self.header, row, strict=True)))
        except model_format.RowError as exc:
            return str(exc)
        except model_format.ModelFormatError:
            raise
        except (OverflowError, ValueError) as exc:  # math.fsum refuses the products: values far off the training range
            return f"the score cannot be computed ({exc}): a value is far outside the model's training range"


def score_batch(
    source: Readable,
    model: LinearModel,
    served: ServedModel,
    *,
    model_version: str,
    predictions_out: BinaryIO,
    unscored_out: BinaryIO,
    gzip_level: int = GZIP_LEVEL,
    block_rows: int = BLOCK_ROWS,
) -> ScoreCounts:
    """Score the gzip CSV batch in `source` (header = served.columns) with `model`; write the predictions to
    `predictions_out` and the unscored rows to `unscored_out` (gzip CSVs, module docstring), both complete (gzip
    trailer written, not closed) when this returns. model_version is written on every prediction.

    gzip_level (default GZIP_LEVEL, 1): the outputs' compression level. block_rows (default BLOCK_ROWS, 512): the
    most records scored together. csv.field_size_limit (process-wide) is the dataset's row bound during the call.
    Raises InvalidInferenceInput (not gzip, not UTF-8, not CSV, no header, a header other than served.columns) and
    ModelContractError (a model feature the header lacks); both outputs are cut off first."""
    predictions = _GzipText(predictions_out, gzip_level)
    unscored = _GzipText(unscored_out, gzip_level)
    max_field_chars = int(served.dataset["max_row_kib"]) * 1024
    previous_limit = csv.field_size_limit(max_field_chars)
    try:
        gz = gzip.GzipFile(fileobj=source, mode="rb")  # type: ignore[arg-type]
        text = io.TextIOWrapper(gz, encoding="utf-8", errors="strict", newline="")
        text._CHUNK_SIZE = TEXT_CHUNK_CHARS  # type: ignore[attr-defined]  # fewer, larger decode calls
        reader = csv.reader(text, strict=True)
        rows = max(1, min(block_rows, BLOCK_BUDGET_CHARS // max_field_chars))
        counts = _score_records(reader, model, served, model_version, predictions, unscored, rows)
    except csv.Error as exc:
        _discard(predictions, unscored)
        raise InvalidInferenceInput(f"the batch is not valid CSV at line {reader.line_num}: {exc}") from exc
    except UnicodeDecodeError as exc:
        _discard(predictions, unscored)
        raise InvalidInferenceInput(f"the batch is not UTF-8 text: {exc}") from exc
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        # Only gzip's own errors: a network OSError while reading must propagate as it is.
        _discard(predictions, unscored)
        raise InvalidInferenceInput(f"the batch is not a complete gzip stream: {exc}") from exc
    except BaseException:
        _discard(predictions, unscored)
        raise
    finally:
        csv.field_size_limit(previous_limit)
    predictions.finish()
    unscored.finish()
    return counts


def _discard(*outputs: _GzipText) -> None:
    for output in outputs:
        output.discard()


def _score_records(
    records: Any,
    model: LinearModel,
    served: ServedModel,
    model_version: str,
    predictions: _GzipText,
    unscored: _GzipText,
    block_rows: int,
) -> ScoreCounts:
    """Check the header, then score block by block; returns the counts. The hot loop."""
    header = next(records, None)
    if header is None:
        raise InvalidInferenceInput("the batch is empty: it has no header")
    if tuple(header) != served.columns:
        raise InvalidInferenceInput(
            f"the batch header {','.join(header)} is not model {served.name}'s batch columns {','.join(served.columns)}"
        )
    scorer = _Scorer(model, header, served.id_column)
    predictions.write_rows([(served.id_column, *PREDICTION_COLUMNS)])
    unscored.write_rows([(*UNSCORED_PREFIX_COLUMNS, *header)])
    threshold = model.threshold
    read = scored = unscored_rows = positive = 0
    for block in iter(lambda: list(islice(records, block_rows)), []):
        ids, scores, refused = scorer.score_block(block, read + 1)
        if refused:
            unscored.write_rows(refused)
        labels = list(map(ge, scores, repeat(threshold)))
        _write_predictions(predictions, ids, scores, labels, model_version)
        read += len(block)
        scored += len(scores)
        unscored_rows += len(refused)
        positive += labels.count(True)
    return ScoreCounts(read=read, scored=scored, unscored=unscored_rows, positive=positive)


def _write_predictions(
    out: _GzipText, ids: Sequence[str], scores: Sequence[float], labels: list[bool], version: str
) -> None:
    """One block's prediction lines. Joined with "," in C when that is the CSV csv.writer would write (no field
    holds a comma, quote or line break: each line then has exactly 3 commas and one "\n"), else by csv.writer."""
    if not scores:
        return
    rows = zip(ids, map(repr, scores), map(LABELS.__getitem__, labels), repeat(version))
    text = "\n".join(map(",".join, rows)) + "\n"
    count = len(scores)
    if text.count(",") == 3 * count and text.count("\n") == count and not any(map(text.__contains__, _CSV_SPECIALS)):
        out.write(text)
    else:
        out.write_rows(zip(ids, map(repr, scores), map(LABELS.__getitem__, labels), repeat(version)))
