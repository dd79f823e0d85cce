"""Build row validators from schemas.json (written by platform_config.datasets.schemas_json).

Each column compiles into three checks:
  fast(value) -> truthy           the hot path: always a C-level bound method (frozenset.__contains__,
                                  Pattern.fullmatch, bool), so validating a row runs no Python frame per
                                  cell. It may refuse a valid value (e.g. '007', February 29th, a charge
                                  of 10000.0 when the max is 10000) but never accepts an invalid one;
  accepts(value) -> bool          exact; run only for the rare rows some fast check refused;
  explain(value) -> str | None    the reason; run only for rows that are invalid.
A row is valid when it has exactly one field per column and every column accepts its value
(`CompiledSchema.is_valid`). `CompiledSchema.fast_flags(rows)` checks a batch of rows column by column
with the fast checks only, so the per-cell work stays in C (map over a column); rows it flags False
must be re-checked with is_valid. Otherwise `CompiledSchema.explain` lists every problem, e.g.
  "tenure_months: '-3' is below the minimum 0; contract: 'weekly' is not one of month-to-month, one-year, two-year"
  "expected 11 fields, got 9"
Values are never converted: clean rows are written out exactly as they were read.
"""

from __future__ import annotations

import json
import operator
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import zip_longest
from pathlib import Path
from typing import Any

SCHEMAS_FORMAT_VERSION = 1
COLUMN_TYPES = ("string", "int", "float", "bool", "date", "enum")
BOOL_VALUES = ("true", "false")
MAX_INT_DIGITS = 18  # keeps int() cheap and far from CPython's 4300-digit conversion limit
_MAX_INT_SET = 10_000  # int ranges up to this wide get a set of their values as the fast check
_LARGEST_FLOAT = sys.float_info.max

_INT = re.compile(rf"-?[0-9]{{1,{MAX_INT_DIGITS}}}")
_ANY_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Every day that exists in every year; only February 29th takes the exact (leap-year) path.
_FAST_DATE = (
    r"[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)


class SchemaError(ValueError):
    """schemas.json is missing or malformed: a packaging bug, raised at the first invocation."""


def _show(value: str) -> str:
    """The value as quoted in a reason, cut to keep quarantine files readable."""
    return repr(value if len(value) <= 40 else value[:37] + "...")


@dataclass(frozen=True)
class ColumnRule:
    """The compiled checks of one column; fast and accepts are None when every value is fine."""

    name: str
    fast: Callable[[str], Any] | None
    accepts: Callable[[str], Any] | None
    explain: Callable[[str], str | None]


@dataclass(frozen=True)
class _Checks:
    """What a type builder returns, for non-empty values only (compile_column handles empty ones).

    accepts: exact check (None: any non-empty value); explain: the reason for a value accepts refuses;
    fast_set: a set of accepted strings, or fast_regex: a regex (fullmatch) accepting a subset of the
    valid values (both None: the fast path is accepts itself)."""

    accepts: Callable[[str], Any] | None
    explain: Callable[[str], str | None]
    fast_set: frozenset[str] | None = None
    fast_regex: str | None = None


def compile_column(spec: dict[str, Any]) -> ColumnRule:
    """The ColumnRule of one column of schemas.json (keys: name, type, required, min, max, allowed, pattern)."""
    name, type_, required = spec["name"], spec["type"], spec.get("required", True)
    if type_ not in COLUMN_TYPES:
        raise SchemaError(f"column {name}: unknown type {type_!r}")
    builder = {
        "string": _string_rule,
        "int": _number_rule,
        "float": _number_rule,
        "bool": _bool_rule,
        "date": _date_rule,
        "enum": _enum_rule,
    }[type_]
    checks = builder(spec)

    def explain(value: str) -> str | None:
        if value == "":
            return None if not required else f"{name}: required value is missing"
        reason = checks.explain(value)
        return None if reason is None else f"{name}: {reason}"

    inner = checks.accepts
    if inner is None:
        accepts = None if not required else bool
    elif required:
        accepts = inner
    else:

        def accepts(value: str) -> Any:
            return value == "" or inner(value)

    return ColumnRule(name=name, fast=_fast(checks, required, accepts), accepts=accepts, explain=explain)


def _fast(checks: _Checks, required: bool, accepts: Callable[[str], Any] | None) -> Callable[[str], Any] | None:
    """The C-level fast check: a set's __contains__ or a compiled regex's fullmatch, empty value folded in."""
    if checks.fast_set is not None:
        return (checks.fast_set if required else checks.fast_set | {""}).__contains__
    if checks.fast_regex is not None:
        body = checks.fast_regex if required else f"(?:{checks.fast_regex})?"
        try:
            return re.compile(body).fullmatch
        except re.error:  # e.g. a pattern with inline global flags cannot be wrapped; use the exact check
            return accepts
    return accepts


# Each builder returns _Checks for non-empty values; accepts must refuse "" when it is not None (a
# required column relies on it).


def _string_rule(spec: dict[str, Any]) -> _Checks:
    pattern = spec.get("pattern")
    if pattern is None:
        return _Checks(accepts=None, explain=lambda value: None, fast_set=None)
    compiled = re.compile(pattern)

    def explain(value: str) -> str | None:
        return None if compiled.fullmatch(value) else f"{_show(value)} does not match the pattern {pattern}"

    # A required column must refuse "" even when the pattern matches it.
    def accepts(value: str) -> bool:
        return value != "" and compiled.fullmatch(value) is not None

    return _Checks(accepts=accepts, explain=explain, fast_regex=None if compiled.fullmatch("") else pattern)


def _number_rule(spec: dict[str, Any]) -> _Checks:
    is_int = spec["type"] == "int"
    low, high = spec.get("min"), spec.get("max")
    parse = int if is_int else float
    syntax = (_INT if is_int else _FLOAT).fullmatch
    # Unbounded floats still must be finite: 1e999 parses to inf.
    lo = low if low is not None else (None if is_int else -_LARGEST_FLOAT)
    hi = high if high is not None else (None if is_int else _LARGEST_FLOAT)

    def accepts(value: str) -> bool:
        if syntax(value) is None:
            return False
        number = parse(value)
        return (lo is None or lo <= number) and (hi is None or number <= hi)

    def explain(value: str) -> str | None:
        if is_int and syntax(value) is None:
            if _ANY_INT.fullmatch(value):
                return f"{_show(value)} has more than {MAX_INT_DIGITS} digits"
            return f"{_show(value)} is not an integer"
        if not is_int and syntax(value) is None:
            return f"{_show(value)} is not a number"
        number = parse(value)
        if low is not None and number < low:
            return f"{_show(value)} is below the minimum {low}"
        if high is not None and number > high:
            return f"{_show(value)} is above the maximum {high}"
        if not is_int and not -_LARGEST_FLOAT <= number <= _LARGEST_FLOAT:
            return f"{_show(value)} is not a finite number"
        return None

    if is_int and lo is not None and hi is not None and hi - lo <= _MAX_INT_SET:
        # Small ranges: the canonical spelling of every allowed integer ('-0' and '007' take the exact path).
        return _Checks(accepts=accepts, explain=explain, fast_set=frozenset(str(i) for i in range(lo, hi + 1)))
    return _Checks(accepts=accepts, explain=explain, fast_regex=_plain_number_regex(is_int, lo, hi))


def _plain_number_regex(is_int: bool, lo: float | None, hi: float | None) -> str | None:
    """A regex of plain decimals (no exponent) that all lie within [lo, hi], or None when there is none.

    With d integer digits at most, |x| < 10**d; so [0, 10**d) fits when lo <= 0 and 10**d <= hi,
    and the negative side too when lo <= -10**d. None bounds are unlimited (d capped at 15 digits)."""
    if lo is not None and lo > 0:
        return None
    digits = 15
    if hi is not None:
        digits = min(digits, _digits_below(hi))
    if digits < 1:
        return None
    negatives = lo is None or lo <= -(10**digits)
    fraction = "" if is_int else r"(?:\.[0-9]{0,15})?"
    return f"{'-?' if negatives else ''}[0-9]{{1,{digits}}}{fraction}"


def _digits_below(bound: float) -> int:
    """The largest d with 10**d <= bound (0 when bound < 10; every d-digit number is then < bound)."""
    digits = 0
    while 10 ** (digits + 1) <= bound:
        digits += 1
    return digits


def _bool_rule(spec: dict[str, Any]) -> _Checks:
    values = frozenset(BOOL_VALUES)

    def explain(value: str) -> str | None:
        return None if value in values else f"{_show(value)} is not a boolean (true or false)"

    return _Checks(accepts=values.__contains__, explain=explain, fast_set=values)


def _enum_rule(spec: dict[str, Any]) -> _Checks:
    allowed = spec.get("allowed") or []
    if not allowed:
        raise SchemaError(f"column {spec['name']}: enum without allowed values")
    values, listed = frozenset(allowed), ", ".join(allowed)

    def explain(value: str) -> str | None:
        return None if value in values else f"{_show(value)} is not one of {listed}"

    return _Checks(accepts=values.__contains__, explain=explain, fast_set=values)


def _date_rule(spec: dict[str, Any]) -> _Checks:
    def accepts(value: str) -> bool:
        # date.fromisoformat also takes 20240101 and week dates since 3.11; the regex pins YYYY-MM-DD.
        if _DATE.fullmatch(value) is None:
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True

    def explain(value: str) -> str | None:
        return None if accepts(value) else f"{_show(value)} is not a valid date (YYYY-MM-DD)"

    return _Checks(accepts=accepts, explain=explain, fast_regex=_FAST_DATE)


class CompiledSchema:
    """A dataset's compiled checks: `columns` (header names, in order), `max_object_bytes`, `max_row_chars`
    (the largest record, in characters of field text), `is_valid(row)` (fast, bool) and `explain(row)`
    (every reason of an invalid row, '; '-joined)."""

    def __init__(
        self,
        name: str,
        columns: tuple[str, ...],
        rules: tuple[ColumnRule, ...],
        max_object_bytes: int,
        max_row_chars: int,
    ) -> None:
        self.name = name
        self.columns = columns
        self.rules = rules
        self.max_object_bytes = max_object_bytes
        self.max_row_chars = max_row_chars
        self.field_count = len(columns)
        checked = [i for i, rule in enumerate(rules) if rule.accepts is not None]
        fast = tuple(rules[i].fast for i in checked)
        exact = tuple(rules[i].accepts for i in checked)
        count, call = self.field_count, operator.call
        # itemgetter of one index returns the item, not a 1-tuple; the checks map over a tuple.
        if len(checked) == 1:
            only = checked[0]
            pick: Callable[[list[str]], tuple[str, ...]] = lambda row: (row[only],)  # noqa: E731
        elif checked:
            pick = operator.itemgetter(*checked)
        else:
            pick = lambda row: ()  # noqa: E731

        def is_valid(row: Sequence[str]) -> bool:
            """True when the row has one field per column and every value passes (exact)."""
            if len(row) != count:
                return False
            values = pick(row)
            return all(map(call, fast, values)) or all(map(call, exact, values))

        fast_by_index = tuple((i, rules[i].fast) for i in checked)
        same_count = count.__eq__

        def fast_flags(rows: Sequence[Sequence[str]]) -> list[bool]:
            """For each row, True when it surely is valid; False when is_valid must decide. C-level per cell."""
            # Transpose; short rows are padded (their count check fails anyway), long rows add columns.
            columns = list(zip_longest(*rows, fillvalue=""))
            if len(columns) < count:
                columns.extend([("",) * len(rows)] * (count - len(columns)))
            counts_ok = map(same_count, map(len, rows))
            return list(map(all, zip(counts_ok, *(map(check, columns[i]) for i, check in fast_by_index), strict=True)))

        self.is_valid = is_valid
        self.fast_flags = fast_flags

    def explain(self, row: list[str]) -> str:
        """Why the row is invalid; every failing column, in column order, joined by '; '."""
        if len(row) != self.field_count:
            return f"expected {self.field_count} fields, got {len(row)}"
        reasons = [
            reason for rule, value in zip(self.rules, row, strict=True) if (reason := rule.explain(value)) is not None
        ]
        # accepts and explain disagreeing is a bug in this module; never let a row vanish without a reason.
        return "; ".join(reasons) or "rejected by the schema (no reason found)"


def compile_dataset(spec: dict[str, Any]) -> CompiledSchema:
    """The CompiledSchema of one dataset entry of schemas.json."""
    try:
        name, columns, limit_mib = spec["name"], spec["columns"], spec["max_object_mib"]
        row_kib = spec["max_row_kib"]
        rules = tuple(compile_column(column) for column in columns)
    except (KeyError, TypeError, re.error) as exc:
        raise SchemaError(f"dataset {spec.get('name', '?') if isinstance(spec, dict) else '?'}: {exc!r}") from exc
    return CompiledSchema(name, tuple(rule.name for rule in rules), rules, limit_mib * 1024 * 1024, row_kib * 1024)


def parse_schemas(text: str) -> dict[str, CompiledSchema]:
    """Every dataset of a schemas.json text, compiled, keyed by dataset name."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"schemas.json is not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format_version") != SCHEMAS_FORMAT_VERSION:
        raise SchemaError(f"schemas.json must have format_version {SCHEMAS_FORMAT_VERSION}")
    datasets = document.get("datasets")
    if not isinstance(datasets, dict) or not datasets:
        raise SchemaError("schemas.json declares no dataset")
    return {name: compile_dataset(spec) for name, spec in datasets.items()}


def load_schemas(path: Path) -> dict[str, CompiledSchema]:
    """parse_schemas of the file at `path`; SchemaError names the path when it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(
            f"cannot read dataset schemas at {path}: {exc.strerror or exc}; package schemas.json "
            "(python -m platform_config.datasets --out ...) or set DATASET_SCHEMAS_PATH"
        ) from exc
    return parse_schemas(text)
