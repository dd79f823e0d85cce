"""IAM policy statements and the service role that grants attach to.

Grants follow the AWS CDK habit: the construct that owns a resource has `grant_*`
methods that add a statement naming only its own ARNs to a `Grantee`'s policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from constructs import Construct

from building_blocks import perms
from building_blocks.provider_modules import install_lightweight_provider_package

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.iam_role import IamRole  # noqa: E402
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy  # noqa: E402

_SID = re.compile(r"^[A-Za-z0-9]+$")
_SID_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


def sid_from(text: str) -> str:
    """A statement-id-safe form of a name: 'mlp-dev-raw/data' -> 'MlpDevRawData'."""
    return "".join(part.capitalize() for part in _SID_SEPARATORS.split(text) if part)


@dataclass(frozen=True)
class Statement:
    """One IAM policy statement.

    principals: e.g. {"Service": ("logs.amazonaws.com",)}; only for resource policies.
    conditions: e.g. {"Bool": {"aws:SecureTransport": "false"}}.
    """

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)  # () for trust policies, which name no resource
    effect: str = "Allow"
    principals: Mapping[str, tuple[str, ...]] | None = None
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _SID.match(self.sid):
            raise ValueError(f"statement sid {self.sid!r} must be alphanumeric")
        if self.effect not in ("Allow", "Deny"):
            raise ValueError(f"statement {self.sid}: effect {self.effect!r} must be Allow or Deny")
        if not self.actions:
            raise ValueError(f"statement {self.sid}: actions must not be empty")

    def to_dict(self) -> dict[str, Any]:
        """The statement as IAM JSON."""
        document: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": self.effect,
            "Action": list(self.actions),
        }
        if self.resources:
            document["Resource"] = list(self.resources)
        if self.principals is not None:
            document["Principal"] = {kind: list(ids) for kind, ids in self.principals.items()}
        if self.conditions:
            document["Condition"] = {op: dict(values) for op, values in self.conditions.items()}
        return document


def policy_document(statements: Sequence[Statement]) -> str:
    """Render statements as an IAM policy document (JSON string, tokens left in place)."""
    sids = [s.sid for s in statements]
    duplicates = {sid for sid in sids if sids.count(sid) > 1}
    if duplicates:
        raise ValueError(f"duplicate statement sids: {', '.join(sorted(duplicates))}")
    return json.dumps({"Version": "2012-10-17", "Statement": [s.to_dict() for s in statements]})


@dataclass(frozen=True)
class Grant:
    """What a `grant_*` call created: one inline policy on the grantee's role.

    policy: the IamRolePolicy resource (put it in `depends_on` when AWS checks the permission at
    creation time); statements: what it allows, for tests and reviews.
    """

    policy_name: str
    statements: tuple[Statement, ...]
    policy: IamRolePolicy


class Grantee(Protocol):
    """Anything a grant can add permissions to (a ServiceRole, or a construct that owns one)."""

    def add_policy(self, name: str, statements: Sequence[Statement]) -> Grant: ...


class Role(Construct):
    """An IAM role with one inline policy per grant; `trust` says who may assume it.

    Starts with no permissions at all: every statement comes from a `grant_*` call
    (terraform-aws-lambda's habit: one inline policy per concern, no managed policies).

    Args:
        role_name: the IAM role name.
        trust: the trust policy's one statement (`sts:AssumeRole` for its principals).
        description: shown in the IAM console (default none).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, role_name: str, trust: Statement, description: str | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = IamRole(
            self, "role", name=role_name, assume_role_policy=policy_document([trust]), description=description
        )
        self._policies: dict[str, IamRolePolicy] = {}

    @property
    def arn(self) -> str:
        return self.role.arn

    @property
    def name(self) -> str:
        return self.role.name

    def add_policy(self, name: str, statements: Sequence[Statement]) -> Grant:
        """Attach one inline policy named `name` (unique per role) holding `statements`."""
        if name in self._policies:
            raise ValueError(f"role {self.node.path}: inline policy {name!r} is already attached")
        policy = IamRolePolicy(self, f"policy-{name}", name=name, role=self.role.id, policy=policy_document(statements))
        self._policies[name] = policy
        return Grant(policy_name=name, statements=tuple(statements), policy=policy)

    def dependables(self) -> list[Any]:
        """The role and its policies so far: `depends_on` these when AWS checks the
        role's permissions at creation (a DLQ target, a state machine's log delivery)."""
        return [self.role, *self._policies.values()]


class ServiceRole(Role):
    """A `Role` assumed by one AWS service.

    Args:
        role_name: the IAM role name.
        service: the service principal that may assume it, e.g. "lambda.amazonaws.com".
        source_account: when given, the trust policy requires aws:SourceAccount to match
            (confused-deputy protection). Default: None.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, role_name: str, service: str, source_account: str | None = None
    ) -> None:
        conditions = {"StringEquals": {"aws:SourceAccount": source_account}} if source_account else {}
        trust = Statement(
            sid="TrustService",
            actions=perms.ASSUME_ROLE_ACTIONS,
            resources=(),
            principals={"Service": (service,)},
            conditions=conditions,
        )
        super().__init__(scope, construct_id, role_name=role_name, trust=trust)
