"""Names and commands of the dependency repository (CodeArtifact), shared by its stack and `make pip-login`."""

from __future__ import annotations

import shlex

from platform_config.model import EnvironmentConfig

PACKAGE_FORMAT = "pypi"


def domain_name(config: EnvironmentConfig) -> str:
    """The CodeArtifact domain of an environment, e.g. 'mlp-dev-packages'."""
    return config.resource_name("packages")


def login_command(config: EnvironmentConfig, domain_owner: str) -> str:
    """AWS's own command that points the user's pip at the team repository (`aws codeartifact login --tool pip`);
    for `local` it names the emulator's endpoint. `domain_owner` is the domain's account id."""
    words = [
        "aws",
        "codeartifact",
        "login",
        "--tool",
        "pip",
        "--domain",
        domain_name(config),
        "--domain-owner",
        domain_owner,
        "--repository",
        config.dependencies.repository,
        "--region",
        config.region,
    ]
    if config.is_local:
        words += ["--endpoint-url", config.emulator_url]
    return " ".join(word if "${" in word else shlex.quote(word) for word in words)
