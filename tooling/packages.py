"""The team's CodeArtifact repository from a developer's seat: log in, publish a wheel with twine, install with pip.

`login` asks CodeArtifact for a token and the repository's PyPI endpoint (what `aws codeartifact login` does);
`RepositoryLogin.environment()` is what pip, pipenv and twine read. `build_wheel`, `upload` and `install` run
the same commands the README documents (`pip wheel`, `twine upload`, `pip install --index-url`), so the demo and
the integration test prove those commands work. Works against the emulator and a real account alike.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from botocore.exceptions import ClientError

from platform_config import EnvironmentConfig
from platform_config.dependencies import PACKAGE_FORMAT, domain_name

# pip and twine are run by this interpreter (the project's venv), whatever is first on PATH.
PYTHON = sys.executable


class PackagesError(RuntimeError):
    """A repository problem the user can fix (not deployed, a refused upload); the message says what to do."""


@dataclass(frozen=True)
class RepositoryLogin:
    """A token for the team repository and where it is: what pip, pipenv and twine need."""

    domain: str
    owner: str
    repository: str
    region: str
    endpoint: str  # the PyPI endpoint twine uploads to, ending in '/'; pip's index is <endpoint>simple/
    token: str
    expires: datetime

    @property
    def index_url(self) -> str:
        """pip's `--index-url`: `<endpoint>simple/` with `aws:<token>@` in it (secret: never print it)."""
        parts = urlsplit(self.endpoint)
        netloc = f"aws:{quote(self.token, safe='')}@{parts.netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path + "simple/", "", ""))

    def environment(self) -> dict[str, str]:
        """Variables pip (PIP_INDEX_URL), twine (TWINE_*) and a Pipfile source (${CODEARTIFACT_AUTH_TOKEN}) read."""
        return {
            "CODEARTIFACT_AUTH_TOKEN": self.token,
            "CODEARTIFACT_REPOSITORY_URL": self.endpoint,
            "PIP_INDEX_URL": self.index_url,
            "TWINE_REPOSITORY_URL": self.endpoint,
            "TWINE_USERNAME": "aws",
            "TWINE_PASSWORD": self.token,
        }


def login(config: EnvironmentConfig, codeartifact: Any, domain_owner: str | None = None) -> RepositoryLogin:
    """A token lasting `[<env>.dependencies] login_token_minutes` and the team repository's PyPI endpoint.

    `domain_owner`: the account that owns the domain (default: the caller's; another account of the
    organization when the domain is shared). Raises PackagesError when the domain or repository does not exist
    (the dependencies stack is not deployed)."""
    domain, repository = domain_name(config), config.dependencies.repository
    try:
        found = codeartifact.describe_domain(domain=domain, **({"domainOwner": domain_owner} if domain_owner else {}))
        owner = found["domain"]["owner"]
        token = codeartifact.get_authorization_token(
            domain=domain, domainOwner=owner, durationSeconds=config.dependencies.login_token_minutes * 60
        )
        endpoint = codeartifact.get_repository_endpoint(
            domain=domain, domainOwner=owner, repository=repository, format=PACKAGE_FORMAT
        )["repositoryEndpoint"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        raise PackagesError(
            f"{exc.response['Error']['Message']} (CodeArtifact, {config.region}): deploy the dependencies stack "
            f"first (make deploy ENV={config.name})"
        ) from exc
    return RepositoryLogin(
        domain=domain,
        owner=owner,
        repository=repository,
        region=config.region,
        endpoint=endpoint if endpoint.endswith("/") else endpoint + "/",
        token=token["authorizationToken"],
        expires=token["expiration"],
    )


def write_environment_file(repository_login: RepositoryLogin, path: Path) -> Path:
    """`export NAME='value'` lines for `source` (mode 600: it holds the token); returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"export {name}={shlex.quote(value)}" for name, value in repository_login.environment().items()]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(f"# CodeArtifact {repository_login.repository}: token valid until {repository_login.expires}\n")
        out.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
    return path


def build_wheel(project: Path, out_dir: Path) -> Path:
    """`pip wheel --no-deps --no-build-isolation` of the project at `project` (setuptools from this venv, so it
    needs no network); returns the wheel. Raises PackagesError with pip's output when the build fails."""
    before = set(out_dir.glob("*.whl")) if out_dir.exists() else set()
    _run([PYTHON, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out_dir), str(project)], {})
    built = sorted(set(out_dir.glob("*.whl")) - before)
    if len(built) != 1:
        raise PackagesError(f"pip wheel {project} built {len(built)} wheels, expected one")
    return built[0]


def upload(wheel: Path, repository_login: RepositoryLogin) -> None:
    """`twine upload` of `wheel` to the repository (TWINE_* from the login)."""
    _run([PYTHON, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar", str(wheel)],
         repository_login.environment())  # fmt: skip


def install(requirement: str, repository_login: RepositoryLogin, target: Path) -> None:
    """`pip install --no-deps --target <target> <requirement>` from the repository's index only."""
    _run(
        [PYTHON, "-m", "pip", "install", "--no-deps", "--no-cache-dir", "--disable-pip-version-check", "--target",
         str(target), requirement],
        repository_login.environment(),
    )  # fmt: skip


def _run(command: list[str], environment: Mapping[str, str]) -> None:
    env = {**os.environ, **environment, "PIP_CONFIG_FILE": os.devnull, "PYTHONNOUSERSITE": "1"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        token = environment.get("TWINE_PASSWORD")
        if token:
            output = output.replace(token, "<token>").replace(quote(token, safe=""), "<token>")
        raise PackagesError(f"{' '.join(command[1:4])} failed (exit {result.returncode}):\n{output[-2000:]}")
