"""Checks that hold for every stack of every environment (a new stack is covered without naming it):
names, tags, provider, state backend, destroy protection, encryption, and IAM without wildcard actions."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from building_blocks import perms
from building_blocks.policy_guard import POLICY_ATTRIBUTES
from tests.conftest import Synthesized, all_resources, construct_path, policy_statements, resources_of

ENVS = ("local", "dev", "prod")
# Resource types whose loss loses data: protected by prevent_destroy outside local.
STATEFUL_TYPES = ("aws_s3_bucket", "aws_kms_key", "aws_codeartifact_domain", "aws_codeartifact_repository")


def every_stack(synthesized: Callable[[str], Synthesized], env: str) -> Iterator[tuple[str, dict[str, Any]]]:
    synth = synthesized(env)
    assert synth.stacks, f"{env} synthesized no stack"
    yield from synth.stacks.items()


def statements_of(terraform: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(construct path, statement) for every statement of every policy document in the stack."""
    for resource in all_resources(terraform):
        attribute = POLICY_ATTRIBUTES.get(resource.type)
        if attribute and attribute in resource.body:
            for statement in json.loads(resource.body[attribute])["Statement"]:
                yield construct_path(terraform, resource), statement


@pytest.mark.parametrize("env", ENVS)
def test_every_stack_is_named_after_its_environment(synthesized: Callable[[str], Synthesized], env: str) -> None:
    for name, _ in every_stack(synthesized, env):
        assert fnmatch.fnmatch(name, f"{env}-*"), name


@pytest.mark.parametrize("env", ENVS)
def test_every_stack_tags_every_resource(synthesized: Callable[[str], Synthesized], env: str) -> None:
    for name, terraform in every_stack(synthesized, env):
        (provider,) = terraform["provider"]["aws"]
        assert provider["default_tags"][0]["tags"] == {
            "project": "ml-platform",
            "environment": env,
            "managed-by": "cdktf",
            "repository": "example-org/ml-platform",
        }, name


@pytest.mark.parametrize("env", ENVS)
def test_every_stack_pins_the_provider(synthesized: Callable[[str], Synthesized], env: str) -> None:
    for name, terraform in every_stack(synthesized, env):
        assert terraform["terraform"]["required_providers"]["aws"] == {"source": "aws", "version": "5.100.0"}, name


def test_every_local_stack_sends_every_request_to_the_emulator_with_dummy_keys(
    synthesized: Callable[[str], Synthesized],
) -> None:
    for name, terraform in every_stack(synthesized, "local"):
        (provider,) = terraform["provider"]["aws"]
        endpoints = provider["endpoints"][0]
        assert set(endpoints.values()) == {"http://127.0.0.1:4566"}, name
        assert {"s3", "sts", "iam", "kms", "lambda", "sfn", "sagemaker", "scheduler"} <= set(endpoints), name
        assert provider["s3_use_path_style"] is True
        # Set in the provider itself, so `cdktf deploy` from a plain shell never uses real credentials.
        assert (provider["access_key"], provider["secret_key"]) == ("test", "test")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_real_stack_uses_real_endpoints_and_the_callers_credentials(
    synthesized: Callable[[str], Synthesized], env: str
) -> None:
    for name, terraform in every_stack(synthesized, env):
        (provider,) = terraform["provider"]["aws"]
        assert not {"endpoints", "skip_credentials_validation", "access_key", "secret_key"} & set(provider), name
        assert provider["region"] == synthesized(env).config.region


def test_every_local_stack_keeps_state_in_the_local_state_directory(
    synthesized: Callable[[str], Synthesized],
) -> None:
    synth = synthesized("local")
    for name, terraform in every_stack(synthesized, "local"):
        assert terraform["terraform"]["backend"] == {"local": {"path": str(synth.outdir / "state" / f"{name}.tfstate")}}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_real_stack_locks_its_own_state_object_in_s3(synthesized: Callable[[str], Synthesized], env: str) -> None:
    for name, terraform in every_stack(synthesized, env):
        assert terraform["terraform"]["backend"]["s3"] == {
            "bucket": f"mlp-{env}-terraform-state",
            "key": f"ml-platform/{env}/{name}.tfstate",
            "region": "eu-west-1",
            "encrypt": False,  # the bucket's default SSE-KMS applies (stacks/backend.py)
            "use_lockfile": True,
        }


@pytest.mark.parametrize("env, protected", [("local", False), ("dev", True), ("prod", True)])
def test_buckets_and_keys_of_every_stack_are_protected_outside_local(
    synthesized: Callable[[str], Synthesized], env: str, protected: bool
) -> None:
    for name, terraform in every_stack(synthesized, env):
        for resource_type in STATEFUL_TYPES:
            bodies = resources_of(terraform, resource_type)
            for logical_id, body in bodies.items():
                where = f"{name}: {resource_type}.{logical_id}"
                assert body["lifecycle"]["prevent_destroy"] is protected, where
                assert body.get("force_destroy", False) is (not protected and resource_type == "aws_s3_bucket"), where


@pytest.mark.parametrize("env", ENVS)
def test_every_key_waits_the_configured_deletion_window(synthesized: Callable[[str], Synthesized], env: str) -> None:
    window = synthesized(env).config.kms_deletion_window_days
    for name, terraform in every_stack(synthesized, env):
        for body in resources_of(terraform, "aws_kms_key").values():
            assert body["deletion_window_in_days"] == window, name


@pytest.mark.parametrize("env", ENVS)
def test_every_data_bucket_uses_its_own_kms_key_and_log_buckets_sse_s3(
    synthesized: Callable[[str], Synthesized], env: str
) -> None:
    """checkov's CKV_AWS_145 is skipped because of the log buckets (see .checkov.yaml); this holds the rest."""
    stacks_with_data_buckets = 0
    for name, terraform in every_stack(synthesized, env):
        keys = []
        for resource in all_resources(terraform):
            if resource.type != "aws_s3_bucket_server_side_encryption_configuration":
                continue
            default = resource.body["rule"][0]["apply_server_side_encryption_by_default"]
            if construct_path(terraform, resource) == "access-logs/encryption":
                assert default == {"sse_algorithm": "AES256"}  # S3 cannot deliver access logs to SSE-KMS
            else:
                assert default["sse_algorithm"] == "aws:kms", name
                keys.append(default["kms_master_key_id"])
        assert len(keys) == len(set(keys)), f"{name}: data buckets share a key"
        stacks_with_data_buckets += bool(keys)
    assert stacks_with_data_buckets >= 4  # artifact store, data pipeline, training, inference (dependencies has none)


@pytest.mark.parametrize("env", ENVS)
def test_no_policy_of_any_stack_allows_a_wildcard_action(synthesized: Callable[[str], Synthesized], env: str) -> None:
    for name, terraform in every_stack(synthesized, env):
        for path, statement in statements_of(terraform):
            if statement["Effect"] != "Allow":
                continue  # denying more is safe
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not [a for a in actions if "*" in a], f"{name}/{path} {statement.get('Sid')}"
            assert "NotAction" not in statement


@pytest.mark.parametrize("env", ENVS)
def test_wildcard_resources_only_for_actions_without_resource_level_permissions(
    synthesized: Callable[[str], Synthesized], env: str
) -> None:
    """The allow-list is building_blocks/perms.py's WILDCARD_RESOURCE_ACTIONS (X-Ray, log delivery)."""
    for name, terraform in every_stack(synthesized, env):
        for body in resources_of(terraform, "aws_iam_role_policy").values():
            for sid, statement in policy_statements(body["policy"]).items():
                if "*" in statement["Resource"]:
                    unexpected = set(statement["Action"]) - perms.WILDCARD_RESOURCE_ACTIONS
                    assert not unexpected, f"{name}: policy {body['name']} {sid} grants {unexpected} on *"
