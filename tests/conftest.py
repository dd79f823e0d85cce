"""Shared fixtures: one synth per environment for the whole session, and small helpers."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import building_blocks  # noqa: F401  - registers the lightweight provider package first
import platform_config
from platform_config import EnvironmentConfig


@dataclass(frozen=True)
class Synthesized:
    """The synthesized app of one environment: its output dir and each stack's JSON."""

    config: EnvironmentConfig
    outdir: Path
    stacks: dict[str, dict[str, Any]]

    def stack(self, component: str) -> dict[str, Any]:
        return self.stacks[self.config.stack_name(component)]


def load_config(env: str, **environ: str) -> EnvironmentConfig:
    """The repo's config of `env`, ignoring the caller's shell (ENV, EMULATOR_PORT...)."""
    return platform_config.load(env, environ=environ)


def synth_app(config: EnvironmentConfig, outdir: Path) -> Synthesized:
    from stacks.app import build_app

    build_app(config, str(outdir)).app.synth()
    stacks = {
        path.parent.name: json.loads(path.read_text()) for path in sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    }
    return Synthesized(config, outdir, stacks)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests on the integration emulator run last (in their own order), so that its deploy, started with the
    session (`local_deployment`), waits on the AWS provider while the other tests run."""
    items.sort(key=lambda item: bool({"emulator_url", "deployed"} & set(getattr(item, "fixturenames", ()))))


@pytest.fixture(scope="session", autouse=True)
def local_deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The integration emulator and the deploy of every local stack (tests/integration/local_deployment.py):
    started with the session when a selected test needs them, else on first use; stopped at its end."""
    from tests.integration.local_deployment import LocalDeployment

    needed = {name for item in request.session.items for name in getattr(item, "fixturenames", ())}
    deployment = LocalDeployment(lambda: tmp_path_factory.mktemp("local-deploy"))
    try:
        if "deployed" in needed:
            deployment.start_deploy()
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Any]:
    """One in-process emulator on a free 127.0.0.1 port for the whole session, shared by every test that needs
    one: moto's state and the Lambda runtime's endpoint are process-wide, so a second server would mix them."""
    from emulator import EmulatorServer

    server = EmulatorServer(port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Synthesized]:
    """`synthesized("dev")` synthesizes the dev app once per test session."""
    cache: dict[str, Synthesized] = {}

    def get(env: str) -> Synthesized:
        if env not in cache:
            outdir = tmp_path_factory.mktemp(f"synth-{env}")
            cache[env] = synth_app(load_config(env, LOCAL_STATE_DIR=str(outdir / "state")), outdir)
        return cache[env]

    return get


@dataclass(frozen=True)
class Resource:
    """One resource of a synthesized stack: its type, logical id and body."""

    type: str
    logical_id: str
    body: dict[str, Any]

    @property
    def address(self) -> str:
        """The Terraform address, as `depends_on` lists it: `aws_s3_bucket.raw-data_bucket_6E273FCC`."""
        return f"{self.type}.{self.logical_id}"

    def ref(self, attribute: str) -> str:
        """A reference to one attribute, as another resource's body holds it: `${<address>.<attribute>}`."""
        return f"${{{self.address}.{attribute}}}"


def all_resources(terraform: dict[str, Any]) -> list[Resource]:
    """Every resource of a synthesized stack."""
    return [
        Resource(rtype, logical_id, body)
        for rtype, bodies in terraform.get("resource", {}).items()
        for logical_id, body in bodies.items()
    ]


def construct_path(terraform: dict[str, Any], resource: Resource) -> str:
    """The resource's construct path below its stack, e.g. "processor/function"."""
    stack = terraform["//"]["metadata"]["stackName"]
    return resource.body["//"]["metadata"]["path"].removeprefix(f"{stack}/")


def at_path(terraform: dict[str, Any], path: str) -> Resource:
    """The resource at construct path `path` below the stack ("processor/function", "raw-data/bucket"):
    found by what the code names it, not by the hashed logical id."""
    found = [resource for resource in all_resources(terraform) if construct_path(terraform, resource) == path]
    assert len(found) == 1, f"no resource at construct path {path!r}" if not found else f"several at {path!r}"
    return found[0]


def under_path(terraform: dict[str, Any], prefix: str, resource_type: str | None = None) -> list[Resource]:
    """The resources whose construct path starts with `prefix/` (optionally of one type)."""
    return [
        resource
        for resource in all_resources(terraform)
        if construct_path(terraform, resource).startswith(f"{prefix}/")
        and (resource_type is None or resource.type == resource_type)
    ]


def resources_of(terraform: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """All resources of one type in a synthesized stack, keyed by logical id."""
    return terraform.get("resource", {}).get(resource_type, {})


def only(terraform: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The single resource of `resource_type`; fails if there are none or several."""
    found = resources_of(terraform, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def inline_policies(terraform: dict[str, Any], role_path: str | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """The inline policies of the stack, {policy name: {Sid: statement}}; with `role_path` only those of the
    role at that construct path ("processor/role/role" for a construct's execution role)."""
    role = at_path(terraform, role_path).ref("id") if role_path is not None else None
    return {
        body["name"]: policy_statements(body["policy"])
        for body in resources_of(terraform, "aws_iam_role_policy").values()
        if role is None or body["role"] == role
    }


def policy_statements(document: str) -> dict[str, dict[str, Any]]:
    """Statements of a policy JSON string, keyed by Sid."""
    return {s["Sid"]: s for s in json.loads(document)["Statement"]}


@pytest.fixture
def stack_for_constructs() -> Any:
    """A bare stack with an AWS provider, to synth one construct at a time."""
    from cdktf import TerraformStack, Testing

    from stacks.provider import aws_provider

    app = Testing.app()
    stack = TerraformStack(app, "construct-test")
    aws_provider(stack, load_config("dev"))
    return stack


def synth_stack(stack: Any) -> dict[str, Any]:
    """Synthesize one stack (aspects and validations run) and return its Terraform JSON, with the
    construct-path metadata that `at_path` reads (Testing.synth's own output strips it)."""
    from cdktf import Testing

    Testing.synth(stack, run_validations=True)
    return json.loads(json.dumps(stack.to_terraform()))
