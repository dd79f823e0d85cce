"""`make pip-login ENV=<env>`: point pip, pipenv and twine at the team CodeArtifact repository.

    python -m tooling.pip_login [--env-file PATH]

Gets a token (valid `[<env>.dependencies] login_token_minutes`) and the team repository's PyPI endpoint, writes
them as `export` lines to `.state/<env>/pip.env` (mode 600, git-ignored: it holds the token; never commit it)
and prints how to use it, plus AWS's own `aws codeartifact login --tool pip` command, which writes your
user-wide pip configuration instead. The token itself is never printed. Exit 0 on success, 1 on an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

import platform_config
from platform_config import EnvironmentConfig
from platform_config.dependencies import login_command
from tooling import aws_clients
from tooling.code_layout import REPO_ROOT
from tooling.packages import PackagesError, RepositoryLogin, login, write_environment_file


def environment_file(config: EnvironmentConfig) -> Path:
    """Where the login is written: `.state/<env>/pip.env` (git-ignored)."""
    return REPO_ROOT / ".state" / config.name / "pip.env"


def report(config: EnvironmentConfig, repository_login: RepositoryLogin, path: Path) -> list[str]:
    """What a developer needs next; never the token."""
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    return [
        f"CodeArtifact ({config.name}): domain {repository_login.domain} (owner {repository_login.owner}), "
        f"repository {repository_login.repository}, {repository_login.region}",
        f"  endpoint  {repository_login.endpoint}",
        f"  token     valid until {repository_login.expires:%Y-%m-%d %H:%M %Z}".rstrip(),
        f"Wrote {shown} (mode 600; it holds the token). In your shell:",
        f"  source {shown}",
        "  pip install <package>                      # PIP_INDEX_URL: the team repository (PyPI through it)",
        "  pipenv install                             # a Pipfile [[source]] url with ${CODEARTIFACT_AUTH_TOKEN}",
        "  python -m twine upload dist/*              # TWINE_REPOSITORY_URL/USERNAME/PASSWORD (publisher role)",
        "AWS's own login writes your user-wide pip configuration instead:",
        f"  {login_command(config, repository_login.owner)}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, help="where to write the exports (default .state/<env>/pip.env)")
    args = parser.parse_args(argv)
    try:
        config = platform_config.load()
        aws_clients.require_emulator(config)
        repository_login = login(config, aws_clients.client("codeartifact", config))
        path = write_environment_file(repository_login, args.env_file or environment_file(config))
    except (platform_config.ConfigError, PackagesError, RuntimeError, BotoCoreError, ClientError) as exc:
        print(f"pip-login: error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report(config, repository_login, path.resolve())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
