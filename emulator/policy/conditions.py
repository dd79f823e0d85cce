"""Evaluate an IAM policy ``Condition`` block against a request context.

Why this exists: moto's own evaluator (``moto/iam/policy_conditions.py``,
``TrustCondition.verify_condition``) knows only ``StringEquals`` and treats any
other operator as satisfied, so a bucket policy's usual TLS-only statement
(``Deny`` if ``Bool aws:SecureTransport false``) denies everything.

Semantics follow the IAM reference ("Condition operators" and "Conditions
with multiple context keys or values"):
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html

* operators AND together, keys under one operator AND together, the values
  listed for one key OR together (NOR for negated operators);
* a key missing from the request makes a condition false, except for negated
  operators (``StringNotEquals``, ``ArnNotLike``, ...), ``...IfExists`` and
  ``ForAllValues:``, which are true, and ``Null``, which tests presence;
* ``ForAnyValue:``/``ForAllValues:`` qualify multi-valued keys.

Not supported: policy variables (``${aws:username}``). An unknown operator
makes its condition false (the statement does not apply) and is logged.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache

_log = logging.getLogger(__name__)

Context = Mapping[str, Sequence[str]]
"""Request context: condition key (any case) -> the request's values for it."""


@lru_cache(maxsize=512)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """Compile an IAM wildcard pattern (``*`` any run, ``?`` one character)."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(f"^{regex}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """True when ``value`` matches the IAM wildcard ``pattern``."""
    return _glob(pattern, ignore_case).match(value) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """``ArnLike``: each of the six ARN segments matches on its own."""
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(glob_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> datetime:
    """Parse an ISO 8601 date/time or epoch seconds, as IAM accepts both."""
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), tz=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ip_in(network: str, address: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(network, strict=False)


def _binary_equals(expected: str, actual: str) -> bool:
    try:
        return base64.b64decode(expected, validate=True) == base64.b64decode(actual, validate=True)
    except binascii.Error:
        return expected == actual


Comparator = Callable[[str, str], bool]
"""(value written in the policy, value from the request) -> match."""

# Operator -> (comparator, negated). Negated operators match when NO listed value does.
_OPERATORS: dict[str, tuple[Comparator, bool]] = {
    "StringEquals": (lambda e, a: e == a, False),
    "StringNotEquals": (lambda e, a: e == a, True),
    "StringEqualsIgnoreCase": (lambda e, a: e.casefold() == a.casefold(), False),
    "StringNotEqualsIgnoreCase": (lambda e, a: e.casefold() == a.casefold(), True),
    "StringLike": (lambda e, a: glob_match(e, a), False),
    "StringNotLike": (lambda e, a: glob_match(e, a), True),
    "NumericEquals": (lambda e, a: _number(a) == _number(e), False),
    "NumericNotEquals": (lambda e, a: _number(a) == _number(e), True),
    "NumericLessThan": (lambda e, a: _number(a) < _number(e), False),
    "NumericLessThanEquals": (lambda e, a: _number(a) <= _number(e), False),
    "NumericGreaterThan": (lambda e, a: _number(a) > _number(e), False),
    "NumericGreaterThanEquals": (lambda e, a: _number(a) >= _number(e), False),
    "DateEquals": (lambda e, a: _date(a) == _date(e), False),
    "DateNotEquals": (lambda e, a: _date(a) == _date(e), True),
    "DateLessThan": (lambda e, a: _date(a) < _date(e), False),
    "DateLessThanEquals": (lambda e, a: _date(a) <= _date(e), False),
    "DateGreaterThan": (lambda e, a: _date(a) > _date(e), False),
    "DateGreaterThanEquals": (lambda e, a: _date(a) >= _date(e), False),
    "Bool": (lambda e, a: e.lower() == a.lower(), False),
    "BinaryEquals": (_binary_equals, False),
    "IpAddress": (_ip_in, False),
    "NotIpAddress": (_ip_in, True),
    "ArnEquals": (lambda e, a: e == a, False),
    "ArnNotEquals": (lambda e, a: e == a, True),
    "ArnLike": (_arn_like, False),
    "ArnNotLike": (_arn_like, True),
}

SUPPORTED_OPERATORS: frozenset[str] = frozenset(_OPERATORS) | {"Null"}


def _as_strings(value: object) -> list[str]:
    """Policy values may be a scalar or a list; booleans/numbers become text."""
    items = value if isinstance(value, list) else [value]
    return [str(item).lower() if isinstance(item, bool) else str(item) for item in items]


def _lookup(context: Context, key: str) -> list[str] | None:
    """Context keys are case-insensitive; absent or empty means missing."""
    wanted = key.lower()
    for name, values in context.items():
        if name.lower() == wanted:
            return list(values) or None
    return None


def _evaluate_null(expected: list[str], actual: list[str] | None) -> bool:
    is_missing = actual is None
    return any((value.lower() == "true") == is_missing for value in expected)


def evaluate_condition(operator: str, key: str, expected: object, context: Context) -> bool:
    """Evaluate one ``operator: {key: expected}`` entry against ``context``."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    expected_values = _as_strings(expected)
    actual = _lookup(context, key)
    if base == "Null" and not qualifier and not if_exists:
        return _evaluate_null(expected_values, actual)
    if base not in _OPERATORS or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        _log.warning("unsupported condition operator %r: condition treated as false", operator)
        return False
    compare, negated = _OPERATORS[base]
    if actual is None:
        return if_exists or negated or qualifier == "ForAllValues"

    def value_passes(value: str) -> bool:
        try:
            matched = any(compare(item, value) for item in expected_values)
        except ValueError:  # a number/date/IP that does not parse never matches
            matched = False
        return not matched if negated else matched

    if qualifier == "ForAllValues" or (negated and not qualifier):
        return all(value_passes(value) for value in actual)
    return any(value_passes(value) for value in actual)


def evaluate_condition_block(block: Mapping[str, Mapping[str, object]] | None, context: Context) -> bool:
    """True when every condition in a statement's ``Condition`` block holds."""
    if not block:
        return True
    return all(
        evaluate_condition(operator, key, expected, context)
        for operator, entries in block.items()
        for key, expected in entries.items()
    )
