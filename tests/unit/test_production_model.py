"""What the artifact store stack declares from a promotion record: a copy per promoted version done the way
the seed's bugs say (source bucket/key, version in the key, SHA256 checksum, REPLACE tagging, the production
KMS key), the pointer written after the copy it names, prevent_destroy outside local, and models that do not
touch each other."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import App

from building_blocks.policy_guard import PolicyGuard
from building_blocks.production_model import check_tag_budget
from promotion.pointer import parse_pointer
from promotion.record import PromotionRecord
from stacks.artifact_store import ArtifactStoreStack
from tests.conftest import Resource, all_resources, at_path, load_config, under_path
from tests.unit.test_promotion_record import SHA, entry
from tooling import checkov_scan


def synth_store(env: str, promotions: PromotionRecord, outdir: Path) -> dict[str, Any]:
    config = load_config(env, LOCAL_STATE_DIR=str(outdir / "state"))
    app = App(outdir=str(outdir))
    ArtifactStoreStack(app, config=config, guard=PolicyGuard(), promotions=promotions)
    app.synth()
    return json.loads((outdir / "stacks" / config.stack_name("artifact-store") / "cdk.tf.json").read_text())


def record(environment: str, *entries: tuple[str, Any]) -> PromotionRecord:
    result = PromotionRecord(environment)
    for model, item in entries:
        result = result.with_entry(model, item)
    return result


CHURN_TWICE = (("churn", entry("1.0.0", approved_by="ana")), ("churn", entry("1.1.0", approved_by="bo")))


@pytest.fixture(scope="module")
def prod_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synth_store("prod", record("prod", *CHURN_TWICE, ("fraud", entry("2.0.0"))), tmp_path_factory.mktemp("prod"))


def copies(terraform: dict[str, Any], model: str) -> dict[str, Resource]:
    found = under_path(terraform, f"production-{model}", "aws_s3_object_copy")
    return {resource.body["key"].split("/")[2]: resource for resource in found}


def test_every_promoted_version_is_copied_from_candidate_bucket_and_key_to_a_versioned_key(
    prod_store: dict[str, Any],
) -> None:
    candidate = at_path(prod_store, "candidate-models/bucket")
    production = at_path(prod_store, "production-models/bucket")
    production_key = at_path(prod_store, "production-models/key/key")
    churn = copies(prod_store, "churn")
    assert sorted(churn) == ["1.0.0", "1.1.0"]
    for version, copy in churn.items():
        body = copy.body
        key = f"models/churn/{version}/model.tar.gz"
        assert body["source"] == f"{candidate.ref('bucket')}/{key}"  # bucket/key, never an ARN
        assert body["copy_if_match"] == f'"{SHA[version][:32]}"'  # the checked bytes or no copy
        assert body["bucket"] == production.ref("bucket") and body["key"] == key
        assert body["checksum_algorithm"] == "SHA256"
        assert body["tagging_directive"] == "REPLACE"
        assert (body["server_side_encryption"], body["kms_key_id"]) == ("aws:kms", production_key.ref("arn"))
    assert churn["1.0.0"].body["tags"] == {
        "environment": "prod",
        "model": "churn",
        "version": "1.0.0",
        "approver": "ana",
        "git-sha": "a" * 40,
    }
    assert churn["1.1.0"].body["tags"]["approver"] == "bo"


def test_the_pointer_names_the_production_version_and_is_written_after_its_copy(prod_store: dict[str, Any]) -> None:
    pointer = at_path(prod_store, "production-churn/pointer").body
    assert pointer["key"] == "models/churn/production.json"
    assert pointer["kms_key_id"] == at_path(prod_store, "production-models/key/key").ref("arn")
    parsed = parse_pointer(pointer["content"], "churn")
    assert (parsed.version, parsed.sha256, parsed.sequence) == ("1.1.0", SHA["1.1.0"], 2)
    assert pointer["depends_on"] == [copies(prod_store, "churn")["1.1.0"].address]


def test_outside_local_no_promoted_object_can_be_destroyed(prod_store: dict[str, Any], tmp_path: Path) -> None:
    promoted = under_path(prod_store, "production-churn") + under_path(prod_store, "production-fraud")
    assert len(promoted) == 5
    assert all(resource.body["lifecycle"]["prevent_destroy"] is True for resource in promoted)
    local = synth_store("local", record("local", *CHURN_TWICE), tmp_path)
    assert all(
        resource.body["lifecycle"]["prevent_destroy"] is False for resource in under_path(local, "production-churn")
    )


def bodies(terraform: dict[str, Any], model: str) -> dict[str, Any]:
    return {resource.address: resource.body for resource in under_path(terraform, f"production-{model}")}


def test_promoting_one_model_leaves_every_other_model_s_resources_identical(
    prod_store: dict[str, Any], tmp_path: Path
) -> None:
    more = record("prod", *CHURN_TWICE, ("fraud", entry("2.0.0")), ("churn", entry("1.2.0")))
    after = synth_store("prod", more, tmp_path)
    assert bodies(after, "fraud") == bodies(prod_store, "fraud")
    # ...and the earlier churn copies are untouched too: a new version is a new resource, nothing is replaced.
    before_churn, after_churn = copies(prod_store, "churn"), copies(after, "churn")
    assert sorted(after_churn) == ["1.0.0", "1.1.0", "1.2.0"]
    assert all(after_churn[v].address == before_churn[v].address for v in before_churn)
    assert all(after_churn[v].body == before_churn[v].body for v in before_churn)


def test_a_rollback_or_repromotion_moves_only_the_pointer(prod_store: dict[str, Any], tmp_path: Path) -> None:
    rolled = record(
        "prod", *CHURN_TWICE, ("fraud", entry("2.0.0")), ("churn", entry("1.0.0", "rollback", approved_by="cy"))
    )
    after = synth_store("prod", rolled, tmp_path)
    assert {v: c.body for v, c in copies(after, "churn").items()} == {
        v: c.body for v, c in copies(prod_store, "churn").items()
    }
    pointer = at_path(after, "production-churn/pointer").body
    parsed = parse_pointer(pointer["content"], "churn")
    assert (parsed.version, parsed.sequence, parsed.document["promotion"]["approved_by"]) == ("1.0.0", 3, "cy")
    assert pointer["depends_on"] == [copies(after, "churn")["1.0.0"].address]


def test_an_empty_record_declares_no_production_objects(synthesized: Any) -> None:
    store = synthesized("prod").stack("artifact-store")
    assert not [r for r in all_resources(store) if r.type in ("aws_s3_object_copy", "aws_s3_object")]


def test_default_tags_that_leave_no_room_for_the_copy_tags_fail_synth_naming_them() -> None:
    config = load_config("prod")
    crowded = dataclasses.replace(config, tags={f"team-{n}": "x" for n in range(5)})
    check_tag_budget(config.default_tags())  # the shipped configuration fits
    with pytest.raises(ValueError, match=r"would carry 13 tags .* S3 allows 10 per object"):
        check_tag_budget(crowded.default_tags())


def test_checkov_passes_the_promoted_objects(prod_store: dict[str, Any], tmp_path: Path) -> None:
    stack_dir = tmp_path / "stacks" / "prod-artifact-store"
    stack_dir.mkdir(parents=True)
    (stack_dir / "cdk.tf.json").write_text(json.dumps(prod_store))
    result = checkov_scan.scan(stack_dir)
    assert result.ok, "\n".join(finding.line() for finding in result.failed)
    # The copies were scanned: CKV_AWS_181, "S3 object copy encrypted by KMS using a customer managed key".
    cmk = {check.resource.rsplit(".", 1)[-1] for check in result.passed_checks if check.check_id == "CKV_AWS_181"}
    assert cmk == {
        resource.logical_id for resource in all_resources(prod_store) if resource.type == "aws_s3_object_copy"
    }
