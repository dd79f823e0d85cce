"""The test workflow (.github/workflows/test.yml): `make test` with no AWS access, and the optional job that
installs the locked packages through the team CodeArtifact repository only when it is configured."""

from __future__ import annotations

import platform_config
from tests.unit.test_promote_workflow import WORKFLOWS, uses, workflow

TEST_WORKFLOW = WORKFLOWS / "test.yml"


def test_make_test_needs_no_aws_access() -> None:
    document = workflow(TEST_WORKFLOW)
    assert document["permissions"] == {"contents": "read"}
    job = document["jobs"]["make-test"]
    assert "permissions" not in job
    assert not [step for step in job["steps"] if uses(step) == "aws-actions/configure-aws-credentials"]
    assert job["steps"][-1] == {"name": "make test", "run": "bash .ci/run"}


def test_codeartifact_install_runs_only_when_configured_and_logs_in_before_make_setup() -> None:
    job = workflow(TEST_WORKFLOW)["jobs"]["install-through-codeartifact"]
    assert job["if"] == (
        "vars.CODEARTIFACT_READER_ROLE_ARN != '' && (github.event_name != 'pull_request' || "
        "github.event.pull_request.head.repo.full_name == github.repository)"
    )  # forks' pull requests get no OIDC token
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert job["env"] == {"ENV": "dev", "AWS_REGION": platform_config.load("dev", environ={}).region}
    steps = job["steps"]
    (credentials,) = [step for step in steps if uses(step) == "aws-actions/configure-aws-credentials"]
    assert credentials["with"]["role-to-assume"] == "${{ vars.CODEARTIFACT_READER_ROLE_ARN }}"
    scripts = [step.get("run", "") for step in steps]
    login = scripts.index('python -m tooling.pip_login --github-env "$GITHUB_ENV"')
    # Credentials first, then the login hands pip and pipenv the index, then the installs go through it.
    assert steps.index(credentials) < login < scripts.index("make setup") == len(steps) - 1
