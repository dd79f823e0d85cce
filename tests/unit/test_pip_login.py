"""`make pip-login` and tooling/packages.py without AWS: the login's URLs and exports, the file it writes, its
errors, and what it prints (never the token)."""

from __future__ import annotations

import stat
import subprocess
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import load_config
from tests.integration.local_deployment import free_port
from tooling import model_format_package, pip_login
from tooling.demo_dependencies import demo_version
from tooling.packages import PackagesError, RepositoryLogin, login, write_environment_file

TOKEN = "eyJ2ZXIiOjEs/+=token"
EXPIRES = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
ENDPOINT = "https://mlp-dev-packages-123456789012.d.codeartifact.eu-west-1.amazonaws.com/pypi/ml-packages/"


def a_login(endpoint: str = ENDPOINT) -> RepositoryLogin:
    return RepositoryLogin(
        domain="mlp-dev-packages",
        owner="123456789012",
        repository="ml-packages",
        region="eu-west-1",
        endpoint=endpoint,
        token=TOKEN,
        expires=EXPIRES,
    )


class FakeCodeArtifact:
    """Answers like CodeArtifact for one domain; records what it was asked."""

    def __init__(self, *, domain_exists: bool = True) -> None:
        self.domain_exists = domain_exists
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def describe_domain(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_domain", kwargs))
        if not self.domain_exists:
            error = {"Error": {"Code": "ResourceNotFoundException", "Message": f"Domain {kwargs['domain']} not found"}}
            raise ClientError(error, "DescribeDomain")
        return {"domain": {"name": kwargs["domain"], "owner": "123456789012"}}

    def get_authorization_token(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("get_authorization_token", kwargs))
        return {"authorizationToken": TOKEN, "expiration": EXPIRES}

    def get_repository_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("get_repository_endpoint", kwargs))
        return {"repositoryEndpoint": ENDPOINT.rstrip("/")}


def test_login_asks_for_a_token_of_the_configured_duration_and_the_team_repositorys_pypi_endpoint():
    config, codeartifact = load_config("dev"), FakeCodeArtifact()
    repository_login = login(config, codeartifact)
    assert repository_login == a_login()  # the endpoint gains its trailing '/'
    assert codeartifact.calls[1:] == [
        (
            "get_authorization_token",
            {"domain": "mlp-dev-packages", "domainOwner": "123456789012", "durationSeconds": 3600},
        ),
        (
            "get_repository_endpoint",
            {
                "domain": "mlp-dev-packages",
                "domainOwner": "123456789012",
                "repository": "ml-packages",
                "format": "pypi",
            },
        ),
    ]


def test_login_to_an_environment_without_the_stack_says_to_deploy_it():
    with pytest.raises(PackagesError) as caught:
        login(load_config("dev"), FakeCodeArtifact(domain_exists=False))
    assert str(caught.value) == (
        "Domain mlp-dev-packages not found (CodeArtifact, eu-west-1): deploy the dependencies stack first "
        "(make deploy ENV=dev)"
    )


def test_index_url_carries_the_url_quoted_token_and_ends_in_simple():
    assert a_login().index_url == (
        "https://aws:eyJ2ZXIiOjEs%2F%2B%3Dtoken@mlp-dev-packages-123456789012.d.codeartifact.eu-west-1"
        ".amazonaws.com/pypi/ml-packages/simple/"
    )
    local = a_login("http://127.0.0.1:4566/_codeartifact/mlp-local-packages-123456789012/us-east-1/pypi/ml-packages/")
    assert local.index_url.startswith("http://aws:eyJ2ZXIiOjEs%2F%2B%3Dtoken@127.0.0.1:4566/_codeartifact/")


def test_environment_file_is_private_and_exports_what_pip_pipenv_and_twine_read(tmp_path: Path):
    path = write_environment_file(a_login(), tmp_path / ".state" / "dev" / "pip.env")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    names = ["CODEARTIFACT_AUTH_TOKEN", "PIP_INDEX_URL", "TWINE_REPOSITORY_URL", "TWINE_USERNAME", "TWINE_PASSWORD"]
    script = f"source {path} && " + " && ".join(f'printf "%s\\n" "${name}"' for name in names)
    shown = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.splitlines()
    assert shown == [TOKEN, a_login().index_url, ENDPOINT, "aws", TOKEN]


def test_report_says_what_to_run_next_and_never_shows_the_token(tmp_path: Path):
    lines = pip_login.report(load_config("dev"), a_login(), tmp_path / "pip.env")
    text = "\n".join(lines)
    assert TOKEN not in text and "eyJ2ZXIiOjEs" not in text
    assert f"  endpoint  {ENDPOINT}" in lines
    assert "  token     valid until 2026-11-30 17:00 UTC" in lines
    assert f"  source {tmp_path / 'pip.env'}" in lines
    assert lines[-1] == (
        "  aws codeartifact login --tool pip --domain mlp-dev-packages --domain-owner 123456789012 "
        "--repository ml-packages --region eu-west-1"
    )


def test_pip_login_without_a_running_emulator_says_how_to_start_it(monkeypatch: pytest.MonkeyPatch, capsys: Any):
    port = free_port()  # nothing listens on it once closed
    monkeypatch.setenv("ENV", "local")
    monkeypatch.setenv("EMULATOR_PORT", str(port))
    assert pip_login.main([]) == 1
    expected = f"the local emulator is not answering at http://127.0.0.1:{port}; run `make emulator`"
    assert expected in capsys.readouterr().err


def test_model_format_package_is_the_repositorys_module_under_a_pinned_name(tmp_path: Path):
    project = model_format_package.write_project(tmp_path / "project", "1.0.20261130120000")
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert (metadata["name"], metadata["version"]) == ("mlp-model-format", "1.0.20261130120000")
    assert (project / "model_format.py").read_bytes() == model_format_package.MODULE.read_bytes()


def test_each_demo_publishes_a_new_version():
    assert demo_version(datetime(2026, 11, 30, 5, 6, 7, tzinfo=UTC)) == "1.0.20261130050607"


def test_in_github_actions_the_token_is_masked_and_pip_and_pipenv_get_the_index(tmp_path: Path):
    github_env = tmp_path / "github_env"
    github_env.write_text("EARLIER=1\n")
    masks = pip_login.github_environment(a_login(), github_env)
    assert masks == ["::add-mask::eyJ2ZXIiOjEs%2F%2B%3Dtoken", f"::add-mask::{TOKEN}"]
    assert github_env.read_text().splitlines() == [
        "EARLIER=1",
        f"PIP_INDEX_URL={a_login().index_url}",
        f"PIPENV_PYPI_MIRROR={a_login().index_url}",
    ]


def test_login_to_a_domain_of_another_account_names_its_owner():
    codeartifact = FakeCodeArtifact()
    login(load_config("dev"), codeartifact, domain_owner="123456789012")
    assert codeartifact.calls[0] == ("describe_domain", {"domain": "mlp-dev-packages", "domainOwner": "123456789012"})
