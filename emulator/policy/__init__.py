"""IAM policy evaluation that moto lacks: condition operators and resource policies.

Pure functions, no moto imports, so they are easy to test and reuse from any
patch. See ``conditions`` (the ``Condition`` block) and ``resource_policy``
(statement matching and the Deny-wins decision).
"""

from emulator.policy.conditions import SUPPORTED_OPERATORS, evaluate_condition_block
from emulator.policy.resource_policy import Caller, Decision, Request, evaluate

__all__ = [
    "SUPPORTED_OPERATORS",
    "Caller",
    "Decision",
    "Request",
    "evaluate",
    "evaluate_condition_block",
]
