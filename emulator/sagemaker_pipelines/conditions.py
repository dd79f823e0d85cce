"""Condition step conditions: comparisons, ``In``, ``Not``, ``Or``.

The shapes the SageMaker SDK writes (``sagemaker.workflow.conditions``):

* ``{"Type": "GreaterThanOrEqualTo", "LeftValue": ..., "RightValue": ...}`` and ``Equals``,
  ``NotEquals``, ``GreaterThan``, ``LessThan``, ``LessThanOrEqualTo``;
* ``{"Type": "In", "QueryValue": ..., "Values": [...]}``;
* ``{"Type": "Not", "Expression": {...}}``, ``{"Type": "Or", "Conditions": [...]}``.

Values are expressions (resolved by the caller's ``resolve``). A number compared with text that
reads as a number (a ``String`` parameter, say) compares as numbers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "NotEquals": operator.ne,
    "GreaterThan": operator.gt,
    "GreaterThanOrEqualTo": operator.ge,
    "LessThan": operator.lt,
    "LessThanOrEqualTo": operator.le,
}


class ConditionError(Exception):
    """A condition that cannot be evaluated (unknown type, values that do not compare)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Both as numbers when one is a number and the other reads as one; otherwise as they are."""
    if _is_number(left) != _is_number(right):
        try:
            return float(left), float(right)
        except (TypeError, ValueError):
            return left, right
    return left, right


def evaluate(condition: Mapping[str, Any], resolve: Callable[[Any], Any]) -> bool:
    """Whether ``condition`` holds; raises ``ConditionError`` (and whatever ``resolve`` raises)."""
    kind = condition.get("Type")
    if kind in _COMPARISONS:
        left, right = _comparable(resolve(condition.get("LeftValue")), resolve(condition.get("RightValue")))
        try:
            return bool(_COMPARISONS[kind](left, right))
        except TypeError as exc:
            raise ConditionError(f"{kind} cannot compare {left!r} with {right!r}") from exc
    if kind == "In":
        query = resolve(condition.get("QueryValue"))
        return any(operator.eq(*_comparable(query, resolve(value))) for value in condition.get("Values") or [])
    if kind == "Not":
        expression = condition.get("Expression")
        if not isinstance(expression, dict):
            raise ConditionError("a Not condition needs an Expression")
        return not evaluate(expression, resolve)
    if kind == "Or":
        return any(evaluate(inner, resolve) for inner in _conditions(condition.get("Conditions"), "Or"))
    raise ConditionError(f"the emulator does not evaluate conditions of type {kind!r}")


def _conditions(value: Any, where: str) -> Sequence[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConditionError(f"{where} needs a list of Conditions")
    return value


def all_hold(conditions: Any, resolve: Callable[[Any], Any]) -> bool:
    """A Condition step's outcome: every one of its ``Conditions`` holds."""
    return all(evaluate(condition, resolve) for condition in _conditions(conditions, "a Condition step"))


__all__ = ["ConditionError", "all_hold", "evaluate"]
