"""The synthesized app of every environment: names, keys, protection, provider, backend."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable

import pytest

from stacks.artifact_store import model_prefix
from tests.conftest import Synthesized, policy_statements, resources_of

ENVS = ("local", "dev", "prod")


@pytest.mark.parametrize("env", ENVS)
def test_every_stack_of_an_environment_matches_its_glob(synthesized: Callable[[str], Synthesized], env: str) -> None:
    names = list(synthesized(env).stacks)
    assert names and all(fnmatch.fnmatch(name, f"{env}-*") for name in names)
    assert "local-artifact-store" not in names or env == "local"


@pytest.mark.parametrize("env", ENVS)
def test_artifact_store_outputs_both_model_bucket_names(synthesized: Callable[[str], Synthesized], env: str) -> None:
    terraform = synthesized(env).stack("artifact-store")
    prefix = synthesized(env).config.name_prefix
    buckets = {body["bucket"] for body in resources_of(terraform, "aws_s3_bucket").values()}
    assert buckets == {f"{prefix}-candidate-models", f"{prefix}-production-models", f"{prefix}-artifact-access-logs"}
    assert {"candidate_model_bucket_name", "production_model_bucket_name"} <= set(terraform["output"])


@pytest.mark.parametrize("env", ENVS)
def test_every_data_bucket_uses_its_own_kms_key(synthesized: Callable[[str], Synthesized], env: str) -> None:
    terraform = synthesized(env).stack("artifact-store")
    keys = []
    for body in resources_of(terraform, "aws_s3_bucket_server_side_encryption_configuration").values():
        default = body["rule"][0]["apply_server_side_encryption_by_default"]
        if body["bucket"].startswith("${aws_s3_bucket.access-logs_"):
            assert default == {"sse_algorithm": "AES256"}  # S3 cannot deliver access logs to SSE-KMS
            continue
        assert default["sse_algorithm"] == "aws:kms"
        keys.append(default["kms_master_key_id"])
    assert len(keys) == 2 and len(set(keys)) == 2


@pytest.mark.parametrize("env, protected", [("local", False), ("dev", True), ("prod", True)])
def test_stateful_resources_are_protected_outside_local(
    synthesized: Callable[[str], Synthesized], env: str, protected: bool
) -> None:
    terraform = synthesized(env).stack("artifact-store")
    for resource_type in ("aws_s3_bucket", "aws_kms_key"):
        for body in resources_of(terraform, resource_type).values():
            assert body["lifecycle"]["prevent_destroy"] is protected
            assert body.get("force_destroy", False) is (not protected and resource_type == "aws_s3_bucket")


def test_local_provider_sends_every_request_to_the_emulator(synthesized: Callable[[str], Synthesized]) -> None:
    provider = synthesized("local").stack("artifact-store")["provider"]["aws"][0]
    endpoints = provider["endpoints"][0]
    assert set(endpoints.values()) == {"http://127.0.0.1:4566"}
    assert {"s3", "sts", "iam", "kms", "lambda", "sfn", "sagemaker", "scheduler"} <= set(endpoints)
    assert provider["s3_use_path_style"] is True
    assert "access_key" not in provider and "secret_key" not in provider  # dummy keys come from the env


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_real_environments_use_the_default_endpoints(synthesized: Callable[[str], Synthesized], env: str) -> None:
    provider = synthesized(env).stack("artifact-store")["provider"]["aws"][0]
    assert "endpoints" not in provider and "skip_credentials_validation" not in provider
    assert provider["region"] == synthesized(env).config.region


@pytest.mark.parametrize("env", ENVS)
def test_provider_tags_every_resource(synthesized: Callable[[str], Synthesized], env: str) -> None:
    tags = synthesized(env).stack("artifact-store")["provider"]["aws"][0]["default_tags"][0]["tags"]
    assert tags == {
        "project": "ml-platform",
        "environment": env,
        "managed-by": "cdktf",
        "repository": "example-org/ml-platform",
    }


def test_local_state_stays_in_the_local_state_directory(synthesized: Callable[[str], Synthesized]) -> None:
    synth = synthesized("local")
    backend = synth.stack("artifact-store")["terraform"]["backend"]
    assert backend == {"local": {"path": str(synth.outdir / "state" / "local-artifact-store.tfstate")}}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_real_environments_lock_state_in_s3(synthesized: Callable[[str], Synthesized], env: str) -> None:
    backend = synthesized(env).stack("artifact-store")["terraform"]["backend"]["s3"]
    assert backend == {
        "bucket": f"mlp-{env}-terraform-state",
        "key": f"ml-platform/{env}/{env}-artifact-store.tfstate",
        "region": "eu-west-1",
        "encrypt": True,
        "use_lockfile": True,
    }


def test_provider_version_is_pinned(synthesized: Callable[[str], Synthesized]) -> None:
    required = synthesized("dev").stack("artifact-store")["terraform"]["required_providers"]["aws"]
    assert required == {"source": "aws", "version": "5.100.0"}


def test_no_identity_policy_grants_a_wildcard_resource(synthesized: Callable[[str], Synthesized]) -> None:
    """`*` resources only where AWS has no resource-level permission, listed here."""
    from building_blocks.s3_prefix_fan_out import LOG_DELIVERY_ACTIONS, STATE_MACHINE_TRACING_ACTIONS

    # (policy name, action): X-Ray tracing and Step Functions' CloudWatch Logs delivery.
    allowed = {("tracing", action) for action in STATE_MACHINE_TRACING_ACTIONS} | {
        ("logs", action) for action in LOG_DELIVERY_ACTIONS
    }
    for env in ENVS:
        for terraform in synthesized(env).stacks.values():
            for body in resources_of(terraform, "aws_iam_role_policy").values():
                for statement in policy_statements(body["policy"]).values():
                    if "*" in statement["Resource"]:
                        assert {(body["name"], a) for a in statement["Action"]} <= allowed


@pytest.mark.parametrize("name, version", [("churn", "../x"), ("", "1"), ("churn model", "1"), ("churn", "a/b")])
def test_model_prefix_refuses_unsafe_names(name: str, version: str) -> None:
    with pytest.raises(ValueError, match="must be 1-128 letters"):
        model_prefix(name, version)


def test_model_prefix_layout() -> None:
    assert model_prefix("churn", "2026-11-23.1") == "models/churn/2026-11-23.1/"


def test_promotion_grant_reads_candidates_and_writes_production_only() -> None:
    from cdktf import Testing

    from building_blocks.iam import ServiceRole
    from stacks.app import build_app
    from tests.conftest import load_config

    platform = build_app(load_config("dev"), Testing.app().outdir)
    store = platform.artifact_store
    role = ServiceRole(store, "promoter", role_name="mlp-dev-promoter", service="codebuild.amazonaws.com")
    store.grant_promotion(role)
    terraform = json.loads(Testing.synth(store))
    policies = {
        body["name"]: policy_statements(body["policy"])
        for body in resources_of(terraform, "aws_iam_role_policy").values()
    }
    assert set(policies) == {"read-candidate-models", "write-production-models"}
    assert policies["read-candidate-models"]["ReadObjects"]["Resource"][0].startswith(
        "${aws_s3_bucket.candidate-models_bucket_"
    )
    assert policies["write-production-models"]["WriteObjects"]["Resource"][0].startswith(
        "${aws_s3_bucket.production-models_bucket_"
    )


@pytest.mark.parametrize("env", ENVS)
def test_keys_wait_the_configured_deletion_window(synthesized: Callable[[str], Synthesized], env: str) -> None:
    window = synthesized(env).config.kms_deletion_window_days
    for terraform in synthesized(env).stacks.values():
        for body in resources_of(terraform, "aws_kms_key").values():
            assert body["deletion_window_in_days"] == window
