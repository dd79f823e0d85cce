"""The dependencies part of `make demo`: publish a package to the team CodeArtifact repository and install it back.

Logs in as `make pip-login` does, builds the `mlp-model-format` wheel (training/model_format.py as a package)
with a new version, uploads it with twine, and installs it back with pip from the team repository's index,
exactly the README's commands. Then checks from the outside: CodeArtifact lists the version, the installed
module is the repository's own file byte for byte, the team repository resolves through the store (which holds
public:pypi, not fetched by the offline emulator), and the index refuses a request without a valid token.
"""

from __future__ import annotations

import base64
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platform_config import EnvironmentConfig
from tooling import model_format_package, packages


def demo_version(now: datetime | None = None) -> str:
    """A version no earlier demo published: 1.0.<UTC time, YYYYMMDDHHMMSS> (as the training pipeline numbers)."""
    return f"1.0.{(now or datetime.now(UTC)):%Y%m%d%H%M%S}"


def refuses_bad_token(index_url_without_credentials: str) -> tuple[bool, int | None]:
    """GET the index with a made-up token: (refused with 401, the status)."""
    request = urllib.request.Request(index_url_without_credentials)
    request.add_header("Authorization", "Basic " + base64.b64encode(b"aws:not-a-token").decode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return False, response.status
    except urllib.error.HTTPError as exc:
        return exc.code == 401, exc.code


def tour(
    config: EnvironmentConfig, codeartifact: Any, *, emit: Callable[[str], None] = print
) -> list[tuple[bool, str]]:
    """Publish mlp-model-format <new version> and install it back; checks of what happened."""
    login = packages.login(config, codeartifact)
    version = demo_version()
    name = model_format_package.PACKAGE_NAME
    emit(f"\nDependencies (make pip-login; twine upload; pip install): {login.domain}/{login.repository}")
    emit(f"  endpoint {login.endpoint}")
    with tempfile.TemporaryDirectory(prefix="demo-packages-") as scratch:
        work = Path(scratch)
        wheel = packages.build_wheel(model_format_package.write_project(work / "project", version), work / "dist")
        packages.upload(wheel, login)
        emit(f"  published {wheel.name}")
        versions = codeartifact.list_package_versions(
            domain=login.domain,
            domainOwner=login.owner,
            repository=login.repository,
            format="pypi",
            package=name,
        )["versions"]
        listed = {item["version"]: item["status"] for item in versions}
        packages.install(f"{name}=={version}", login, work / "site")
        installed = work / "site" / model_format_package.MODULE.name
        same = installed.exists() and installed.read_bytes() == model_format_package.MODULE.read_bytes()
        emit(f"  installed {name}=={version} from {login.repository}'s index into a scratch directory")
    team = codeartifact.describe_repository(domain=login.domain, domainOwner=login.owner, repository=login.repository)
    store_name = config.dependencies.store_repository
    store = codeartifact.describe_repository(domain=login.domain, domainOwner=login.owner, repository=store_name)
    upstreams = [upstream["repositoryName"] for upstream in team["repository"].get("upstreams", [])]
    connections = [c["externalConnectionName"] for c in store["repository"].get("externalConnections", [])]
    refused, status = refuses_bad_token(login.endpoint + "simple/")
    return [
        (listed.get(version) == "Published", f"CodeArtifact lists {name} {version} as Published in {login.repository}"),
        (same, "pip installed it back from the team index: model_format.py is training/model_format.py, byte for byte"),
        (
            upstreams == [store_name] and connections == ["public:pypi"],
            f"{login.repository} resolves through {store_name}, which holds public:pypi (not fetched offline)",
        ),
        (refused, f"the repository's index refuses a request with a made-up token (HTTP {status})"),
    ]
