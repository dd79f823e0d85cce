"""IAM policy statements, roles (for a service, for account principals, for GitHub Actions through OIDC) and the
managed policies several roles share.

Grants follow the AWS CDK habit: the construct that owns a resource has `grant_*`
methods that add a statement naming only its own ARNs to a `Grantee`'s policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from constructs import Construct

from building_blocks import perms
from building_blocks.provider_modules import install_lightweight_provider_package

if TYPE_CHECKING:
    from building_blocks.account import AccountContext

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy  # noqa: E402
from cdktf_cdktf_provider_aws.iam_role import IamRole  # noqa: E402
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy  # noqa: E402
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment  # noqa: E402

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
    (terraform-aws-lambda's habit: one inline policy per concern). The CI roles of the bootstrap stack also get
    `ManagedPolicy`s: what Terraform needs is shared by three roles and outgrows a role's inline quota.

    Args:
        role_name: the IAM role name.
        trust: the trust policy's statement, or statements (each names who may assume it, and how).
        description: shown in the IAM console (default none).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        trust: Statement | Sequence[Statement],
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        statements = [trust] if isinstance(trust, Statement) else list(trust)
        self.role = IamRole(
            self, "role", name=role_name, assume_role_policy=policy_document(statements), description=description
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


class ManagedPolicy(Construct):
    """A customer-managed IAM policy attached to roles: for statements several roles share, or more than a role's
    inline policies may hold (10,240 characters over all of them; a managed policy holds 6,144 by itself).

    Args:
        policy_name: the IAM policy name.
        statements: what it allows (and denies).
        description: shown in the IAM console (default none).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        policy_name: str,
        statements: Sequence[Statement],
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.policy = IamPolicy(
            self, "policy", name=policy_name, policy=policy_document(statements), description=description
        )

    @property
    def arn(self) -> str:
        return self.policy.arn

    def attach_to(self, role: Role) -> IamRolePolicyAttachment:
        """Attach this policy to `role` (once per role)."""
        return IamRolePolicyAttachment(self, f"attach-{role.node.id}", role=role.name, policy_arn=self.arn)


# GitHub's OIDC token issuer, and the audience AWS's official action (aws-actions/configure-aws-credentials) asks for.
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"


def github_oidc_provider_arn(account: AccountContext) -> str:
    """The ARN of the account's GitHub OIDC provider (the bootstrap stack creates it; IAM names it by its host)."""
    return f"arn:{account.partition}:iam::{account.account_id}:oidc-provider/{GITHUB_OIDC_HOST}"


def github_ci_subjects(repository: str) -> tuple[str, str]:
    """The OIDC subjects of `repository`'s jobs that run without a GitHub environment: pull requests (from the
    repository itself; forks get no token) and runs on main (push, schedule, workflow_dispatch)."""
    return (f"repo:{repository}:pull_request", f"repo:{repository}:ref:refs/heads/main")


def github_oidc_trust(provider_arn: str, subjects: Sequence[str]) -> Statement:
    """Trust statement: GitHub Actions jobs whose OIDC token has `aud` = sts.amazonaws.com and a `sub` that is
    exactly one of `subjects` (e.g. "repo:org/app:environment:prod") may assume the role with web identity.

    StringEquals, never StringLike: a subject is matched as written, so a pattern cannot widen it. AWS evaluates
    only the `aud` and `sub` claims of GitHub's token (not `ref` or `environment`), so the subject carries it all.
    Raises ValueError for no subject, or one holding a wildcard or whitespace.
    """
    if not subjects:
        raise ValueError("github_oidc_trust: at least one subject is required")
    for subject in subjects:
        if not subject.startswith("repo:") or any(char in subject for char in "*? \t\n"):
            raise ValueError(f"OIDC subject {subject!r} must be an exact 'repo:<owner>/<name>:...' without wildcards")
    return Statement(
        sid="TrustGitHubActions",
        actions=perms.ASSUME_ROLE_WITH_WEB_IDENTITY_ACTIONS,
        resources=(),
        principals={"Federated": (provider_arn,)},
        conditions={
            "StringEquals": {
                f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                f"{GITHUB_OIDC_HOST}:sub": sorted(subjects),
            }
        },
    )


class GitHubOidcRole(Role):
    """A `Role` that GitHub Actions jobs assume through the account's GitHub OIDC provider.

    Args:
        role_name: the IAM role name.
        provider_arn: ARN of the account's OIDC provider for token.actions.githubusercontent.com.
        subjects: the exact OIDC `sub` claims allowed (see `github_oidc_trust`).
        description: shown in the IAM console (default none).

    Sessions last one hour, IAM's minimum: a CI job's credentials expire with it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        provider_arn: str,
        subjects: Sequence[str],
        description: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            role_name=role_name,
            trust=github_oidc_trust(provider_arn, subjects),
            description=description,
        )
        self.role.max_session_duration = 3600
