"""One fresh emulator for the integration session, run as its own process through the
emulator CLI, with every local stack deployed to it by Terraform (tests/integration/local_deployment.py,
started with the session so that Terraform's waits overlap the unit tests)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.conftest import Synthesized
from tests.integration.local_deployment import LocalDeployment
from tests.integration.terraform_cli import terraform


@pytest.fixture(scope="session")
def emulator_url(local_deployment: LocalDeployment) -> str:
    """The session's emulator (`python -m emulator start` on a free port, SIGTERMed at the end of the session)."""
    return local_deployment.url


@pytest.fixture(scope="session")
def terraform_env(local_deployment: LocalDeployment) -> dict[str, str]:
    """Environment for terraform against the emulator, with the project's CLI config."""
    return local_deployment.terraform_env


@pytest.fixture(scope="session")
def deployed(local_deployment: LocalDeployment) -> Synthesized:
    """Every local stack, synthesized into a temp dir and applied with terraform (started with the session:
    tests/integration/local_deployment.py).

    The same Terraform JSON `make demo` deploys; the developer's cdktf.out/ and .state/
    stay untouched.
    """
    return local_deployment.deployed()


@pytest.fixture(scope="session")
def stack_outputs(deployed: Synthesized, terraform_env: dict[str, str]) -> Callable[[str], dict[str, Any]]:
    """`stack_outputs("data-pipeline")` -> that local stack's Terraform outputs."""

    def read(component: str) -> dict[str, Any]:
        stack_dir = deployed.outdir / "stacks" / deployed.config.stack_name(component)
        result = terraform(["output", "-json"], stack_dir, terraform_env)
        return {name: value["value"] for name, value in json.loads(result.stdout).items()}

    return read


@pytest.fixture(scope="session")
def aws(emulator_url: str) -> Callable[[str], Any]:
    """`aws("s3")` -> a boto3 client for the integration emulator."""
    return lambda service: boto3.client(
        service,
        endpoint_url=emulator_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
