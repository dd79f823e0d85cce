"""Reading a saved plan: which resources it creates, updates, destroys or replaces, and how a promotion's
pointer move is shown to the person who approves it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promotion.cli import pointer_changes, promotes
from tooling.stack_plan import PlannedChange, StackPlan, changes_from_show


def pointer_content(version: str) -> str:
    return json.dumps(
        {
            "format": "ml-platform/production-pointer",
            "format_version": 1,
            "model": "churn",
            "version": version,
            "artifact": {"key": f"models/churn/{version}/model.tar.gz", "sha256": "a" * 64, "bytes": 10},
            "promotion": {"sequence": 1},
        }
    )


SHOW = {
    "resource_changes": [
        {"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "change": {"actions": ["no-op"]}},
        {"address": "data.aws_caller_identity.me", "type": "aws_caller_identity", "change": {"actions": ["read"]}},
        {
            "address": "aws_s3_object_copy.v2",
            "type": "aws_s3_object_copy",
            "change": {"actions": ["create"], "before": None, "after": {"key": "models/churn/1.1.0/model.tar.gz"}},
        },
        {
            "address": "aws_s3_object.pointer",
            "type": "aws_s3_object",
            "change": {
                "actions": ["update"],
                "before": {"key": "models/churn/production.json", "content": pointer_content("1.0.0")},
                "after": {"key": "models/churn/production.json", "content": pointer_content("1.1.0")},
            },
        },
        {"address": "aws_kms_key.k", "type": "aws_kms_key", "change": {"actions": ["delete", "create"]}},
        {"address": "aws_sqs_queue.q", "type": "aws_sqs_queue", "change": {"actions": ["delete"], "before": {}}},
    ]
}


def test_a_plan_lists_changed_resources_only_with_their_verbs() -> None:
    plan = StackPlan("prod-artifact-store", Path("p.tfplan"), changes_from_show(SHOW))
    assert [(c.address, c.verb) for c in plan.changes] == [
        ("aws_s3_object_copy.v2", "create"),
        ("aws_s3_object.pointer", "update"),
        ("aws_kms_key.k", "replace"),
        ("aws_sqs_queue.q", "destroy"),
    ]
    assert plan.summary() == "1 to create, 1 to update, 1 to destroy, 1 to replace"
    text = plan.text()
    assert "+ create   aws_s3_object_copy.v2  (models/churn/1.1.0/model.tar.gz)" in text
    assert "-/+ replace  aws_kms_key.k" in text
    assert "| create | `aws_s3_object_copy.v2` | models/churn/1.1.0/model.tar.gz |" in plan.markdown()


def test_a_plan_without_changes_says_so() -> None:
    plan = StackPlan("prod-artifact-store", Path("p.tfplan"), changes_from_show({"resource_changes": []}))
    assert not plan.has_changes and plan.summary() == "no changes"
    assert plan.markdown().startswith("### `prod-artifact-store`: no changes")


def test_the_pointer_move_is_spelled_out() -> None:
    plan = StackPlan("prod-artifact-store", Path("p.tfplan"), changes_from_show(SHOW))
    assert pointer_changes(plan) == ["churn: production 1.0.0 -> 1.1.0"]


@pytest.mark.parametrize(
    ("address", "verb", "allowed"),
    [
        ("aws_s3_object_copy.production-churn_version-1_1_0_0E730525", "create", True),
        ("aws_s3_object.production-churn_pointer_D64D7D41", "update", True),
        ("aws_s3_object.production-churn_pointer_D64D7D41", "create", True),
        ("aws_s3_object_copy.production-churn_version-1_0_0_53CDB4FE", "replace", False),  # never rewrite bytes
        ("aws_s3_object_copy.production-churn_version-1_0_0_53CDB4FE", "destroy", False),
        ("aws_s3_object.production-churn_pointer_D64D7D41", "destroy", False),
        ("aws_s3_object.production-churn-v2_pointer_AB12CD34", "update", False),  # another model, same prefix
        ("aws_s3_object.production-fraud_pointer_11111111", "update", False),
        ("aws_s3_bucket_policy.production-models_policy_BBDE00C3", "update", False),
        ("aws_kms_key.production-models_key_D14F37FD", "update", False),
    ],
)
def test_a_promotion_plan_may_only_create_the_model_s_copies_and_move_its_pointer(
    address: str, verb: str, allowed: bool
) -> None:
    """What `plan --model churn` accepts; anything else is refused before the reviewers see it."""
    change = PlannedChange(address=address, type=address.split(".")[0], verb=verb)
    assert promotes(change, "churn") is allowed
