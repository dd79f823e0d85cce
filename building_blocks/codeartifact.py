"""A CodeArtifact domain and its package repositories, with their resource policies and grants.

    domain          encrypted with a customer-managed key; its policy limits the domain's operations (tokens,
                    describing it) to one account or one AWS Organization, with a Deny for everyone else
    repository      upstreams OR one external connection, kept apart as AWS recommends (a store repository
                    holds `public:pypi`, a team repository lists the store as its upstream)

Every repository has a policy whose last statement denies changing its packages (publish, copy, delete,
dispose, status, origin settings) to every principal but its publishers: a store has none, so only its
external connection fills it. `PackageRepository.grant_read`/`grant_publish` give a role what pip or twine
needs and name it in that policy. Unlike the other constructs' grants, the role's inline policy is created
here, beside the repository policy: that policy names the role, so the role's stack comes first, and a
policy in the role's stack naming this repository would make the two stacks depend on each other.

What a repository policy cannot do: AWS does not consult it for PutRepositoryPermissionsPolicy, so an
administrator can still replace it (a reviewed Terraform change here), and it does not govern the
repository's settings (upstreams, connections), which Terraform manages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from building_blocks import perms
from building_blocks.account import AccountContext
from building_blocks.iam import Grant, Statement, policy_document, sid_from
from building_blocks.kms_key import KmsKey
from building_blocks.lazy_policy import LazyPolicy
from building_blocks.provider_modules import install_lightweight_provider_package

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.codeartifact_domain import CodeartifactDomain  # noqa: E402
from cdktf_cdktf_provider_aws.codeartifact_domain_permissions_policy import (  # noqa: E402
    CodeartifactDomainPermissionsPolicy,
)
from cdktf_cdktf_provider_aws.codeartifact_repository import (  # noqa: E402
    CodeartifactRepository,
    CodeartifactRepositoryExternalConnections,
    CodeartifactRepositoryUpstream,
)
from cdktf_cdktf_provider_aws.codeartifact_repository_permissions_policy import (  # noqa: E402
    CodeartifactRepositoryPermissionsPolicy,
)
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy  # noqa: E402

# AWS's name rules (CodeArtifact API reference: CreateDomain, CreateRepository).
DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9\-]{0,48}[a-z0-9]$")
REPOSITORY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{1,99}$")
# The external connections this platform uses.
EXTERNAL_CONNECTIONS = frozenset({"public:pypi"})


class NamedRole(Protocol):
    """A role a repository grant names: its ARN for the repository policy, its name for the inline policy."""

    @property
    def arn(self) -> str: ...

    @property
    def name(self) -> str: ...


class CodeArtifactDomain(Construct):
    """A CodeArtifact domain encrypted with `key`, usable only inside one account or organization.

    Args:
        domain_name: the domain (lowercase, 2-50 characters, starts with a letter).
        key: the KMS key that encrypts every package asset of the domain.
        organization_id: "" (default): only this account may use the domain; "o-...": principals of that
            AWS Organization may (a Deny refuses everyone else in both cases).
        disposable: True only for the local emulator; default False: `prevent_destroy`, because deleting
            the domain deletes every package in it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        key: KmsKey,
        organization_id: str = "",
        disposable: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if not DOMAIN_NAME.match(domain_name):
            raise ValueError(
                f"CodeArtifact domain name {domain_name!r} must be 2-50 lowercase letters, digits or '-', "
                "starting with a letter and not ending with '-'"
            )
        self.account = AccountContext.of(self)
        self.domain = CodeartifactDomain(
            self,
            "domain",
            domain=domain_name,
            encryption_key=key.arn,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=not disposable),
        )
        inside = (
            {"StringEquals": {"aws:PrincipalOrgID": organization_id}}
            if organization_id
            else {"StringEquals": {"aws:PrincipalAccount": self.account.account_id}}
        )
        outside = {"StringNotEquals": dict(inside["StringEquals"])}
        statements = (
            Statement(
                sid="UseDomainInside" + ("Organization" if organization_id else "Account"),
                actions=perms.DOMAIN_USE_ACTIONS,
                resources=(self.arn,),
                principals={"AWS": ("*",)} if organization_id else {"AWS": (self.account.root_arn(),)},
                conditions=inside if organization_id else {},
            ),
            Statement(
                sid="DenyOutside" + ("Organization" if organization_id else "Account"),
                effect="Deny",
                actions=perms.DENY_ALL_CODEARTIFACT_ACTIONS,
                resources=("*",),
                principals={"AWS": ("*",)},
                conditions=outside,
            ),
        )
        self.policy = CodeartifactDomainPermissionsPolicy(
            self,
            "policy",
            domain=self.domain.domain,
            domain_owner=self.domain.owner,
            policy_document=policy_document(statements),
        )

    @property
    def name(self) -> str:
        return self.domain.domain

    @property
    def arn(self) -> str:
        return self.domain.arn

    @property
    def owner(self) -> str:
        return self.domain.owner


class PackageRepository(Construct):
    """A repository of `domain` with either `upstreams` or one `external_connection`, and its policy.

    Args:
        repository_name: 2-100 letters, digits, '.', '_' or '-'.
        description: shown by CodeArtifact.
        upstreams: repositories this one resolves packages from, in order (default none).
        external_connection: e.g. "public:pypi" (default none).
        disposable: True only for the local emulator; default False: `prevent_destroy`, because deleting the
            repository deletes its packages.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: CodeArtifactDomain,
        repository_name: str,
        description: str,
        upstreams: Sequence[PackageRepository] = (),
        external_connection: str | None = None,
        disposable: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if not REPOSITORY_NAME.match(repository_name):
            raise ValueError(
                f"CodeArtifact repository name {repository_name!r} must be 2-100 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        if upstreams and external_connection:
            raise ValueError(
                f"repository {repository_name}: give a repository upstreams or an external connection, not both; "
                f"put {external_connection} on a store repository and list that store as an upstream"
            )
        if external_connection is not None and external_connection not in EXTERNAL_CONNECTIONS:
            known = ", ".join(sorted(EXTERNAL_CONNECTIONS))
            raise ValueError(
                f"repository {repository_name}: unknown external connection {external_connection!r} (known: {known})"
            )
        self.domain = domain
        self.repository = CodeartifactRepository(
            self,
            "repository",
            domain=domain.name,
            domain_owner=domain.owner,
            repository=repository_name,
            description=description,
            upstream=[CodeartifactRepositoryUpstream(repository_name=up.name) for up in upstreams] or None,
            external_connections=(
                CodeartifactRepositoryExternalConnections(external_connection_name=external_connection)
                if external_connection
                else None
            ),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=not disposable),
        )
        account = domain.account
        # Package ARNs: package/<domain>/<repository>/<format>/<namespace>/<name> (PyPI has no namespace).
        self.packages_arn = (
            f"arn:{account.partition}:codeartifact:{account.region}:{account.account_id}"
            f":package/{domain.name}/{self.repository.repository}/*"
        )
        self._publishers: list[str] = []  # read at synth, after every grant_publish
        self.policy = LazyPolicy()
        self.policy.add_final(
            lambda: Statement(
                sid="OnlyPublishersChangePackages",
                effect="Deny",
                actions=perms.PACKAGE_CHANGE_ACTIONS,
                resources=(self.arn, self.packages_arn),
                principals={"AWS": ("*",)},
                conditions={"ArnNotEquals": {"aws:PrincipalArn": list(self._publishers)}} if self._publishers else {},
            )
        )
        CodeartifactRepositoryPermissionsPolicy(
            self,
            "policy",
            domain=domain.name,
            domain_owner=domain.owner,
            repository=self.repository.repository,
            policy_document=self.policy.json,
        )

    @property
    def name(self) -> str:
        return self.repository.repository

    @property
    def arn(self) -> str:
        return self.repository.arn

    def grant_read(self, role: NamedRole, name: str) -> Grant:
        """Let `role` install packages through this repository (a token, the endpoint, reads), nothing else."""
        return self._grant(role, name, publish=False)

    def grant_publish(self, role: NamedRole, name: str) -> Grant:
        """Let `role` publish package versions here (and read); every other principal is denied publishing."""
        self._publishers.append(role.arn)
        return self._grant(role, name, publish=True)

    def _grant(self, role: NamedRole, name: str, *, publish: bool) -> Grant:
        package_actions = perms.PACKAGE_READ_ACTIONS + (perms.PACKAGE_PUBLISH_ACTIONS if publish else ())
        identity = (
            Statement(sid="LogInToDomain", actions=perms.DOMAIN_LOGIN_ACTIONS, resources=(self.domain.arn,)),
            Statement(
                sid="GetServiceBearerTokenForCodeArtifact",
                actions=perms.SERVICE_BEARER_TOKEN_ACTIONS,
                resources=("*",),
                conditions={"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}},
            ),
            Statement(sid="UseRepository", actions=perms.REPOSITORY_READ_ACTIONS, resources=(self.arn,)),
            Statement(
                sid="PublishPackages" if publish else "ReadPackages",
                actions=package_actions,
                resources=(self.packages_arn,),
            ),
        )
        policy = IamRolePolicy(self, f"grant-{name}", name=name, role=role.name, policy=policy_document(identity))
        statement = Statement(
            sid=sid_from(name),
            actions=perms.REPOSITORY_READ_ACTIONS + package_actions,
            resources=(self.arn, self.packages_arn),
            principals={"AWS": (role.arn,)},
        )
        self.policy.add(statement)
        return Grant(policy_name=name, statements=identity, policy=policy)

    def allow_organization_to_read(self, organization_id: str) -> Statement:
        """Let principals of an AWS Organization read (their own IAM policies must allow it too; the domain's
        policy must let them log in: CodeArtifactDomain(organization_id=...))."""
        statement = Statement(
            sid="ReadPackagesInOrganization",
            actions=perms.REPOSITORY_READ_ACTIONS + perms.PACKAGE_READ_ACTIONS,
            resources=(self.arn, self.packages_arn),
            principals={"AWS": ("*",)},
            conditions={"StringEquals": {"aws:PrincipalOrgID": organization_id}},
        )
        self.policy.add(statement)
        return statement
