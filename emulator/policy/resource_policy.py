"""Decide what a resource policy (e.g. an S3 bucket policy) says about one request.

Why not moto's ``IAMPolicyStatement`` (``moto/iam/access_control.py``): it
returns DENIED for *any* statement, Allow or Deny, whose conditions do not
hold (right for trust policies, wrong for bucket policies, where an unmet
condition means "this statement does not apply"), compares actions case
sensitively and ignores principals other than ``*``. This module follows the
IAM evaluation order instead: an applicable Deny wins, else an applicable
Allow allows, else the policy is silent (``Decision.NEUTRAL``).

Principals are resolved coarsely, which is enough for a single-account
emulator: an ``AWS`` principal applies when it is ``*`` or names the caller's
account (account id or any ARN in it); a ``Service`` principal applies only to
a ``Caller`` that is that service (e.g. S3 log delivery).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from emulator.policy.conditions import Context, evaluate_condition_block, glob_match


class Decision(Enum):
    """Outcome of evaluating a resource policy for one request."""

    ALLOW = "allow"
    DENY = "deny"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Caller:
    """Who makes the request: an identity in ``account_id`` or an AWS service.

    ``service`` is a service principal such as ``logging.s3.amazonaws.com``;
    when set, only ``Service`` (and ``*``) principals apply to the caller.
    """

    account_id: str
    service: str | None = None


@dataclass(frozen=True)
class Request:
    """The parts of a request a resource policy looks at (context default: empty)."""

    action: str
    resource: str
    caller: Caller
    context: Context = field(default_factory=dict)


def _as_list(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if caller.service is not None:
        return caller.service in _as_list(principal.get("Service", []))
    for entry in _as_list(principal.get("AWS", [])):
        if entry == "*" or entry == caller.account_id:
            return True
        parts = entry.split(":")
        if len(parts) >= 5 and parts[4] == caller.account_id:
            return True
    return False


def _element_matches(statement: Mapping[str, Any], name: str, value: str, ignore_case: bool) -> bool:
    """Match ``Action``/``Resource`` (or their ``Not...`` forms); absent means any."""
    if name in statement:
        return any(glob_match(p, value, ignore_case) for p in _as_list(statement[name]))
    negated = f"Not{name}"
    if negated in statement:
        return not any(glob_match(p, value, ignore_case) for p in _as_list(statement[negated]))
    return True


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    """True when principal, action, resource and conditions all match."""
    if "Principal" in statement and not _principal_matches(statement["Principal"], request.caller):
        return False
    if "NotPrincipal" in statement and _principal_matches(statement["NotPrincipal"], request.caller):
        return False
    return (
        _element_matches(statement, "Action", request.action, ignore_case=True)
        and _element_matches(statement, "Resource", request.resource, ignore_case=False)
        and evaluate_condition_block(statement.get("Condition"), request.context)
    )


def evaluate(policy: str | Mapping[str, Any], request: Request) -> Decision:
    """Evaluate a policy document (JSON text or parsed) for ``request``."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not statement_applies(statement, request):
            continue
        if statement.get("Effect") == "Deny":
            return Decision.DENY
        allowed = allowed or statement.get("Effect") == "Allow"
    return Decision.ALLOW if allowed else Decision.NEUTRAL
