"""The artifact-store stack: its buckets, outputs, key layout and the grants later stacks build on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stacks.artifact_store import model_prefix
from tests.conftest import Synthesized, at_path, inline_policies, resources_of, synth_stack

ENVS = ("local", "dev", "prod")


@pytest.mark.parametrize("env", ENVS)
def test_artifact_store_outputs_both_model_bucket_names(synthesized: Callable[[str], Synthesized], env: str) -> None:
    terraform = synthesized(env).stack("artifact-store")
    prefix = synthesized(env).config.name_prefix
    buckets = {body["bucket"] for body in resources_of(terraform, "aws_s3_bucket").values()}
    assert buckets == {f"{prefix}-candidate-models", f"{prefix}-production-models", f"{prefix}-artifact-access-logs"}
    assert {"candidate_model_bucket_name", "production_model_bucket_name"} <= set(terraform["output"])


@pytest.mark.parametrize(
    "name, version, bad",
    [
        ("churn", "../x", "model version '../x'"),
        ("", "1.0.0", "model name ''"),
        ("churn model", "1.0.0", "model name 'churn model'"),
        ("Churn", "1.0.0", "model name 'Churn'"),
        ("churn", "a/b", "model version 'a/b'"),
        ("churn", "1.0", "model version '1.0'"),
        ("churn", "auto", "model version 'auto'"),
    ],
)
def test_model_prefix_refuses_what_the_artifact_contract_refuses(name: str, version: str, bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        model_prefix(name, version)


@pytest.mark.parametrize("version", ["1.0.20261129205446", "2.1.0-rc.1"])
def test_model_prefix_layout(version: str) -> None:
    assert model_prefix("churn", version) == f"models/churn/{version}/"


def test_promotion_grant_reads_candidates_and_writes_production_only() -> None:
    from cdktf import Testing

    from building_blocks.iam import ServiceRole
    from stacks.app import build_app
    from tests.conftest import load_config

    platform = build_app(load_config("dev"), Testing.app().outdir)
    store = platform.artifact_store
    role = ServiceRole(store, "promoter", role_name="mlp-dev-promoter", service="codebuild.amazonaws.com")
    store.grant_promotion(role)
    terraform = synth_stack(store)
    policies = inline_policies(terraform)
    assert set(policies) == {"read-candidate-models", "write-production-models"}
    candidate, production = (at_path(terraform, f"{b}-models/bucket").ref("arn") for b in ("candidate", "production"))
    assert policies["read-candidate-models"]["ReadObjects"]["Resource"] == [f"{candidate}/models/*"]
    assert policies["write-production-models"]["WriteObjects"]["Resource"] == [f"{production}/models/*"]
