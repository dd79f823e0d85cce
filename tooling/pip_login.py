"""`make pip-login ENV=<env>`: point pip, pipenv and twine at the team CodeArtifact repository.

    python -m tooling.pip_login [--domain-owner ACCOUNT] [--env-file PATH | --github-env "$GITHUB_ENV"]

Gets a token (valid `[<env>.dependencies] login_token_minutes`) and the team repository's PyPI endpoint, writes
them as `export` lines to `.state/<env>/pip.env` (mode 600, git-ignored: it holds the token; never commit it)
and prints how to use it, plus AWS's own `aws codeartifact login --tool pip` command, which writes your
user-wide pip configuration instead. The token itself is never printed. In a GitHub Actions job,
`--github-env "$GITHUB_ENV"` masks the token in the log and hands the job's later steps `PIP_INDEX_URL` and
`PIPENV_PYPI_MIRROR`, so `make setup` installs the locked packages through the repository.
Exit 0 on success, 1 on an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote

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


def github_environment(repository_login: RepositoryLogin, github_env: Path) -> list[str]:
    """Append pip's and pipenv's index to a GitHub Actions `$GITHUB_ENV` file; returns the workflow commands
    that mask the token (and its URL-quoted form, as it appears in the index URL) in the job's log."""
    secrets = {repository_login.token, quote(repository_login.token, safe="")}
    with github_env.open("a", encoding="utf-8") as out:
        out.write(f"PIP_INDEX_URL={repository_login.index_url}\n")
        out.write(f"PIPENV_PYPI_MIRROR={repository_login.index_url}\n")
    return [f"::add-mask::{secret}" for secret in sorted(secrets)]


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
    parser.add_argument("--domain-owner", help="the account that owns the domain (default: yours)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--env-file", type=Path, help="where to write the exports (default .state/<env>/pip.env)")
    target.add_argument("--github-env", type=Path, help="a GitHub Actions $GITHUB_ENV file to hand the index to")
    args = parser.parse_args(argv)
    try:
        config = platform_config.load()
        aws_clients.require_emulator(config)
        repository_login = login(config, aws_clients.client("codeartifact", config), args.domain_owner)
        if args.github_env:
            masks = github_environment(repository_login, args.github_env)
        else:
            path = write_environment_file(repository_login, args.env_file or environment_file(config))
    except (platform_config.ConfigError, PackagesError, RuntimeError, BotoCoreError, ClientError) as exc:
        print(f"pip-login: error: {exc}", file=sys.stderr)
        return 1
    if args.github_env:
        print("\n".join(masks))
        print(f"pip-login: pip and pipenv install through {repository_login.endpoint} in the next steps")
        return 0
    print("\n".join(report(config, repository_login, path.resolve())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
