"""The deployed dependencies stack on the emulator: publish a wheel with twine, install it back with pip through
the team repository (the README's commands), versions are immutable, and the stack destroys in `local`
(test_local_deploy.py plans it, with every stack, for drift)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Synthesized
from tests.integration.terraform_cli import terraform
from tooling import model_format_package, packages

pytestmark = pytest.mark.integration


def test_a_wheel_published_with_twine_installs_back_with_pip_from_the_team_repository(
    deployed: Synthesized, stack_outputs: Callable[[str], dict[str, Any]], aws: Callable[[str], Any], tmp_path: Path
) -> None:
    outputs, codeartifact = stack_outputs("dependencies"), aws("codeartifact")
    login = packages.login(deployed.config, codeartifact)
    assert login.endpoint == outputs["pypi_endpoint"]  # the stack's output is the endpoint twine uploads to
    assert (login.domain, login.repository) == (outputs["domain_name"], outputs["repository_name"])

    project = model_format_package.write_project(tmp_path / "project", "1.0.1")
    wheel = packages.build_wheel(project, tmp_path / "dist")
    packages.upload(wheel, login)
    listed = codeartifact.list_package_versions(
        domain=login.domain, repository=login.repository, format="pypi", package="mlp-model-format"
    )["versions"]
    assert [(item["version"], item["status"]) for item in listed] == [("1.0.1", "Published")]

    packages.install("mlp-model-format==1.0.1", login, tmp_path / "site")
    assert (tmp_path / "site" / "model_format.py").read_bytes() == model_format_package.MODULE.read_bytes()

    with pytest.raises(packages.PackagesError, match="409"):  # a published version is never replaced
        packages.upload(wheel, login)


def test_the_dependencies_stack_destroys_in_local_and_deploys_again(
    deployed: Synthesized, terraform_env: dict[str, str], aws: Callable[[str], Any]
) -> None:
    """Applied again, as the session deployed it (test_local_deploy's plan then finds no drift in it either)."""
    stack_dir = deployed.outdir / "stacks" / deployed.config.stack_name("dependencies")
    codeartifact = aws("codeartifact")
    destroyed = terraform(["destroy", "-auto-approve", "-no-color"], stack_dir, terraform_env)
    assert destroyed.returncode == 0, destroyed.stdout[-3000:] + destroyed.stderr
    assert codeartifact.list_domains()["domains"] == []  # the repositories and their packages went with it

    applied = terraform(["apply", "-auto-approve", "-no-color"], stack_dir, terraform_env)
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr
    repositories = codeartifact.list_repositories_in_domain(domain=deployed.config.resource_name("packages"))
    assert sorted(item["name"] for item in repositories["repositories"]) == ["ml-packages", "pypi-store"]
