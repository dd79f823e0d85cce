"""Dependencies: a CodeArtifact domain and repositories for the platform's versioned Python packages.

    key               <prefix>-packages          encrypts every package asset of the domain
    domain            <prefix>-packages          usable by this account (or the configured organization) only
    store repository  pypi-store                 the public:pypi external connection (caches what PyPI serves)
    team repository   ml-packages                upstream: the store; what pip, pipenv and twine use
    roles             <prefix>-packages-reader   assumed by Lambda builds and CI jobs to install packages
                      <prefix>-packages-publisher  assumed by release jobs: the only principal that may publish

Upstreams and the external connection live on separate repositories, as AWS recommends. The team repository's
policy lets the readers (and the training pipeline's role) read, the publisher publish, and denies changing
packages to everyone else; the store's denies it to everyone (only public:pypi fills it). Settings:
[<env>.dependencies] in platform_config/environments.toml.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from building_blocks import perms
from building_blocks.account import AccountContext
from building_blocks.codeartifact import CodeArtifactDomain, NamedRole, PackageRepository
from building_blocks.iam import Role, Statement, github_ci_subjects, github_oidc_provider_arn, github_oidc_trust
from building_blocks.policy_guard import PolicyGuard
from building_blocks.provider_modules import install_lightweight_provider_package
from platform_config import EnvironmentConfig
from platform_config.dependencies import PACKAGE_FORMAT, domain_name, login_command
from platform_config.errors import ConfigError
from stacks.base import PlatformStack

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.data_aws_codeartifact_repository_endpoint import (  # noqa: E402
    DataAwsCodeartifactRepositoryEndpoint,
)


class DependenciesStack(PlatformStack):
    """The CodeArtifact domain, its store and team repositories, and the roles that read and publish.

    Args:
        consumers: roles of other stacks that install packages (e.g. the training pipeline's), named in the
            team repository's policy; their stacks deploy first.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        config: EnvironmentConfig,
        guard: PolicyGuard,
        consumers: dict[str, NamedRole] | None = None,
    ) -> None:
        super().__init__(scope, "dependencies", config=config, guard=guard)
        settings = config.dependencies
        key = self.add_key("key", "packages", "Encrypts the package assets of the CodeArtifact domain")
        try:
            self.domain = CodeArtifactDomain(
                self,
                "domain",
                domain_name=domain_name(config),
                key=key,
                organization_id=settings.organization_id,
                disposable=self.disposable,
            )
        except ValueError as exc:
            raise ConfigError(config.name, "name_prefix", config.name_prefix, str(exc)) from exc
        if settings.store_repository == settings.repository:
            raise ConfigError(
                config.name,
                "dependencies.store_repository",
                settings.store_repository,
                "must differ from dependencies.repository: the store holds public:pypi, the team repository lists it",
            )
        self.store = PackageRepository(
            self,
            "store",
            domain=self.domain,
            repository_name=settings.store_repository,
            description="Caches the packages the team repository resolves from PyPI (public:pypi)",
            external_connection="public:pypi",
            disposable=self.disposable,
        )
        self.repository = PackageRepository(
            self,
            "repository",
            domain=self.domain,
            repository_name=settings.repository,
            description="The platform's Python packages; resolves the rest from PyPI through the store",
            upstreams=[self.store],
            disposable=self.disposable,
        )

        account = AccountContext.of(self)
        trust_account = Statement(
            sid="TrustAccount",
            actions=perms.ASSUME_ROLE_ACTIONS,
            resources=(),
            principals={"AWS": (account.root_arn(),)},
        )
        # The release job's role when configured; else the account (whoever its IAM policies let assume it).
        trust_publishers = Statement(
            sid="TrustPublishers",
            actions=perms.ASSUME_ROLE_ACTIONS,
            resources=(),
            principals={"AWS": settings.publisher_principals or (account.root_arn(),)},
        )
        # CI jobs of the repository (pull requests from it, runs on main) assume the reader through GitHub's OIDC
        # provider, which the bootstrap stack creates in dev and prod; the emulator has no GitHub.
        trust_ci = (
            []
            if config.is_local
            else [github_oidc_trust(github_oidc_provider_arn(account), github_ci_subjects(config.repository))]
        )
        self.reader = Role(
            self,
            "reader",
            role_name=config.resource_name("packages-reader"),
            trust=[trust_account, *trust_ci],
            description="Installs packages from the team CodeArtifact repository (Lambda builds, CI jobs)",
        )
        self.publisher = Role(
            self,
            "publisher",
            role_name=config.resource_name("packages-publisher"),
            trust=trust_publishers,
            description="Publishes package versions to the team CodeArtifact repository (release jobs only)",
        )
        self.repository.grant_read(self.reader, "read-packages")
        self.repository.grant_publish(self.publisher, "publish-packages")
        for name, role in (consumers or {}).items():
            self.repository.grant_read(role, f"read-packages-{name}")
        if settings.organization_id:
            self.repository.allow_organization_to_read(settings.organization_id)

        endpoint = DataAwsCodeartifactRepositoryEndpoint(
            self,
            "pypi-endpoint",
            domain=self.domain.name,
            domain_owner=self.domain.owner,
            repository=self.repository.name,
            format=PACKAGE_FORMAT,
        )
        for name, value, description in (
            ("domain_name", self.domain.name, "CodeArtifact domain"),
            ("domain_owner", self.domain.owner, "account that owns the domain (--domain-owner)"),
            ("domain_arn", self.domain.arn, "CodeArtifact domain ARN"),
            ("encryption_key_arn", key.arn, "KMS key that encrypts the domain's package assets"),
            ("repository_name", self.repository.name, "the team repository pip, pipenv and twine use"),
            ("repository_arn", self.repository.arn, "the team repository's ARN"),
            ("store_repository_name", self.store.name, "the team repository's upstream, holding public:pypi"),
            ("pypi_endpoint", endpoint.repository_endpoint, "PyPI endpoint of the team repository (twine uploads)"),
            ("login_command", login_command(config, self.domain.owner), "points your pip at the team repository"),
            ("reader_role_arn", self.reader.arn, "role that installs packages (Lambda builds, CI)"),
            ("publisher_role_arn", self.publisher.arn, "the only role that may publish packages"),
        ):
            TerraformOutput(self, name, value=value, description=description)
