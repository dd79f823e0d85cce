"""The exact core of scoring: one block of records, given as columns, scored in C (no AWS calls, no I/O).

Exactness: a score is the float model_format.score returns for the row, bit for bit. The fast path parses the
same numbers, computes the same products `coefficient * expanded value` and sums them with math.fsum as
model_format.score does; it only leaves out the products of one-hot zeros, which is exact because fsum is
correctly rounded whatever the order and count of its terms, and adding zero changes no sum (at most the sign
of a zero logit, where the sigmoid gives 0.5 either way). The sigmoid uses exp(-|logit|), which is the very
exp() of each branch of model_format.sigmoid (-|logit| as copysign(logit, -1.0): exact, and exp(0.0) == exp(-0.0)).

The fast check accepts a value only when it is ASCII made of `0-9 . + - e E`, parses with float() and is finite:
over those characters float() accepts exactly what model_format's _NUMBER pattern does, so the fast path never
accepts a value parse_number refuses. Anything else (an empty value of a feature whose `missing` is "error",
spaces, "nan", "1_000", non-ASCII digits) sends the rows concerned to model_format.score itself (the exact path),
whose RowError becomes the row's reason. An empty value of a feature whose `missing` is "mean" is read as
repr(mean), which parses back to the mean exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import compress, count, islice, repeat
from operator import add, ge, is_, mul, sub, truediv
from typing import Any

import model_format
from inference_common.contract import ModelContractError
from model_format import CategoricalFeature, LinearModel, NumericFeature
from predict.batch_reader import Block

MEMO_ENTRIES = 4096  # values remembered per numeric column: months, calls; beyond it (prices) parsing is as cheap
# The characters of a plain decimal number, and the "\n" joining a column's values for one check.
_NUMBER_BYTES = b"0123456789.+-eE\n"


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


class _Coefficients(dict[str, float]):
    """A categorical feature's coefficient by category; a category the model does not know (or an empty value)
    expands to all zeros, so it adds nothing: 0.0. (A __getitem__ lookup: cheaper in C than get with a default.)"""

    def __missing__(self, category: str) -> float:
        return 0.0


class _NumericColumn:
    """One numeric feature over its batch column: `products(values)` gives `coefficient * (x - mean) / scale` per
    value as model_format.score computes it, None where the value fails the fast check.

    Values repeat (months, calls, prices), so products are remembered by value text: a block then costs one dict
    lookup per value, and the check and parse only for values not seen yet. A column with more distinct values than
    MEMO_ENTRIES (an amount) stops remembering and parses every value: memory stays bounded either way."""

    def __init__(self, feature: NumericFeature, index: int, coefficient: float) -> None:
        self.index, self.mean, self.scale, self.coefficient = index, feature.mean, feature.scale, coefficient
        # An empty value of a "mean" feature reads as the mean: repr(mean) parses back to it exactly.
        self.fill = repr(feature.mean) if feature.missing == "mean" else None
        self.memo: dict[str, float] | None = {}

    def products(self, values: Sequence[str]) -> tuple[list[float | None], bool]:
        """The products of `values`, and whether any is None (refused by the fast check)."""
        memo = self.memo
        if memo is None:
            return self._products(values)
        try:
            return list(map(memo.__getitem__, values)), False  # the common case: every value seen before
        except KeyError:
            pass
        unseen = list(set(values).difference(memo))
        if len(memo) + len(unseen) > MEMO_ENTRIES:
            self.memo = None
            return self._products(values)
        computed, refused = self._products(unseen)
        if not refused:
            memo.update(zip(unseen, computed, strict=True))
            return list(map(memo.__getitem__, values)), False
        # A refused value is not remembered: each block holding it takes this way, and the exact path, again.
        known = dict(zip(unseen, computed, strict=True))
        memo.update((value, product) for value, product in known.items() if product is not None)
        return list(map(known.get, values, map(memo.get, values))), True

    def _products(self, values: Sequence[str]) -> tuple[list[float | None], bool]:
        texts = values
        empty = values.count("") if self.fill is not None else 0
        if empty:  # a few per block: found by C scans, not a lookup per value
            texts, at = list(values), -1
            for _ in range(empty):
                at = texts.index("", at + 1)
                texts[at] = self.fill  # type: ignore[call-overload]
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


class BlockScorer:
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
        self.categorical: list[tuple[int, _Coefficients]] = []
        coefficients = iter(model.coefficients)
        for feature in model.features:
            if isinstance(feature, NumericFeature):
                self.numeric.append(_NumericColumn(feature, position[feature.name], next(coefficients)))
            else:
                assert isinstance(feature, CategoricalFeature)
                table = _Coefficients(
                    zip(feature.categories, islice(coefficients, len(feature.categories)), strict=True)
                )
                self.categorical.append((position[feature.name], table))

    def score_block(self, block: Block, first: int) -> tuple[Sequence[str], list[float], list[tuple[Any, ...]]]:
        """The ids and scores of the block's scored records, in order, and its unscored ones (row_number, reason,
        *fields); `first` is the row_number of the block's first record."""
        columns = block.columns
        if columns is None:
            try:
                columns = list(zip(*block.rows or (), strict=True))
            except ValueError:  # records of different widths: the exact path names them
                columns = None
        fast = self._fast_scores(columns) if columns is not None and len(columns) == self.width else None
        if fast is not None and not fast[1] and math.isfinite(sum(fast[0])):  # type: ignore[arg-type]
            return columns[self.id_index], fast[0], []  # type: ignore[index,return-value]  # the common case
        ids, kept, unscored = [], [], []
        scores = fast[0] if fast is not None else repeat(None)
        for index, score in zip(range(block.size), scores, strict=False):
            row = block.row(index)
            outcome = self.exact(row) if score is None else score
            if isinstance(outcome, float) and math.isnan(outcome):
                # A value overflowing the standardization of a feature whose coefficient is 0.0: no label either.
                outcome = "the model's score is not a number: a value is far outside the model's training range"
            if isinstance(outcome, str):
                unscored.append((first + index, outcome, *row))
            else:
                ids.append(row[self.id_index])
                kept.append(outcome)
        return ids, kept, unscored

    def _fast_scores(self, columns: Sequence[Sequence[str]]) -> tuple[list[float | None], set[int]] | None:
        """Scores of a block given as columns, with the rows the exact path must take (their score is None); None
        for the whole block when math.fsum refuses some row's products (the exact path then says which)."""
        terms: list[Any] = []
        refused: set[int] = set()
        for column in self.numeric:
            products, any_refused = column.products(columns[column.index])
            if any_refused:
                refused.update(compress(count(), map(is_, products, repeat(None))))
            terms.append(products)
        for row in refused:
            for products in terms:
                products[row] = 0.0  # a placeholder: the row's score is the exact path's
        # Lazy lookups: zip pulls them as fsum needs them, no list per categorical column.
        terms.extend(map(table.__getitem__, columns[index]) for index, table in self.categorical)
        try:
            logits = list(map(add, repeat(self.model.intercept), map(math.fsum, zip(*terms, strict=True))))
        except (OverflowError, ValueError):  # fsum: an intermediate overflow, or inf - inf
            return None
        exps = list(map(math.exp, map(math.copysign, logits, repeat(-1.0))))  # exp(-|logit|)
        # The numerator is 1.0 for a logit >= 0, else exp: max(exp, True) is True (1 / x == 1.0 / x) since exp <= 1
        # there, or exp itself when both are 1; max(exp, False) is exp.
        numerators = map(max, exps, map(ge, logits, repeat(0.0)))
        scores: list[float | None] = list(map(truediv, numerators, map(add, repeat(1.0), exps)))
        for row in refused:
            scores[row] = None
        return scores, refused

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
