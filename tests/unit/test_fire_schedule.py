"""Firing a schedule locally refuses what EventBridge would refuse: disabled, untrusted, not allowed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tooling.fire_schedule import FireError, PipelineTarget, permission_problem, rule_target, scheduler_target

ACCOUNT = "123456789012"
PIPELINE = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/mlp-local-training"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlp-local-training-schedule"


def trust(service: str = "scheduler.amazonaws.com", account: str = ACCOUNT) -> dict[str, Any]:
    statement = {
        "Effect": "Allow",
        "Action": ["sts:AssumeRole"],
        "Principal": {"Service": [service]},
        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
    }
    return {"Version": "2012-10-17", "Statement": [statement]}


def allow(action: str, resource: str, effect: str = "Allow") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": [action], "Resource": [resource]}]}


class FakeIam:
    """The three IAM reads permission_problem makes, over one role's documents."""

    def __init__(self, trust_policy: dict[str, Any], policies: dict[str, dict[str, Any]]) -> None:
        self.trust_policy, self.policies = trust_policy, policies

    def get_role(self, RoleName: str) -> dict[str, Any]:
        return {"Role": {"RoleName": RoleName, "AssumeRolePolicyDocument": self.trust_policy}}

    def list_role_policies(self, RoleName: str) -> dict[str, Any]:
        return {"PolicyNames": list(self.policies)}

    def get_role_policy(self, RoleName: str, PolicyName: str) -> dict[str, Any]:
        return {"PolicyDocument": json.dumps(self.policies[PolicyName])}


TARGET = PipelineTarget("scheduler.amazonaws.com", PIPELINE, ROLE, {"ModelName": "churn"})


def test_a_role_that_trusts_the_scheduler_and_may_start_the_pipeline_passes() -> None:
    iam = FakeIam(trust(), {"start": allow("sagemaker:StartPipelineExecution", PIPELINE)})
    assert permission_problem(iam, TARGET, ACCOUNT) is None


@pytest.mark.parametrize(
    ("iam", "problem"),
    [
        (FakeIam(trust("events.amazonaws.com"), {}), "does not trust scheduler.amazonaws.com"),
        (FakeIam(trust(account="999999999999"), {}), "does not trust scheduler.amazonaws.com"),
        (FakeIam(trust(), {}), "may not sagemaker:StartPipelineExecution"),
        (
            FakeIam(trust(), {"start": allow("sagemaker:StartPipelineExecution", PIPELINE + "-other")}),
            "may not sagemaker:StartPipelineExecution",
        ),
        (
            FakeIam(
                trust(),
                {
                    "start": allow("sagemaker:StartPipelineExecution", PIPELINE),
                    "deny": allow("sagemaker:*", "*", effect="Deny"),
                },
            ),
            "may not sagemaker:StartPipelineExecution",
        ),
    ],
)
def test_what_aws_would_refuse_is_refused_with_the_reason(iam: FakeIam, problem: str) -> None:
    assert problem in (permission_problem(iam, TARGET, ACCOUNT) or "")


class FakeScheduler:
    def __init__(self, state: str, target: dict[str, Any]) -> None:
        self.state, self.target = state, target

    def get_schedule(self, Name: str, GroupName: str) -> dict[str, Any]:
        return {"Name": Name, "State": self.state, "Target": self.target}


SAGEMAKER_TARGET = {
    "Arn": PIPELINE,
    "RoleArn": ROLE,
    "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "ModelName", "Value": "churn"}]},
}


def test_an_enabled_schedule_yields_its_pipeline_role_and_parameters() -> None:
    target = scheduler_target(FakeScheduler("ENABLED", SAGEMAKER_TARGET), "mlp-local-training-schedule")
    assert target == TARGET
    assert target.pipeline_name == "mlp-local-training"


def test_a_disabled_schedule_does_not_fire() -> None:
    with pytest.raises(FireError, match="is DISABLED: Scheduler would not fire it"):
        scheduler_target(FakeScheduler("DISABLED", SAGEMAKER_TARGET), "s")


def test_a_schedule_of_something_else_does_not_fire() -> None:
    with pytest.raises(FireError, match="does not target a SageMaker pipeline"):
        scheduler_target(FakeScheduler("ENABLED", {"Arn": "arn:aws:sqs:...", "RoleArn": ROLE}), "s")


class FakeEvents:
    def __init__(self, state: str, targets: list[dict[str, Any]]) -> None:
        self.state, self.targets = state, targets

    def describe_rule(self, Name: str) -> dict[str, Any]:
        return {"Name": Name, "State": self.state}

    def list_targets_by_rule(self, Rule: str) -> dict[str, Any]:
        return {"Targets": self.targets}


def test_a_rule_yields_its_sagemaker_target_started_as_eventbridge() -> None:
    target = rule_target(FakeEvents("ENABLED", [{"Id": "x", "Arn": "arn:aws:sqs:q"}, SAGEMAKER_TARGET]), "r")
    assert target.service == "events.amazonaws.com" and target.parameters == {"ModelName": "churn"}
    with pytest.raises(FireError, match="is DISABLED"):
        rule_target(FakeEvents("DISABLED", [SAGEMAKER_TARGET]), "r")
    with pytest.raises(FireError, match="has no SageMaker pipeline target"):
        rule_target(FakeEvents("ENABLED", []), "r")


class MissingScheduler:
    def get_schedule(self, Name: str, GroupName: str) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "nope"}}, "GetSchedule")


def test_a_schedule_that_is_not_deployed_says_to_deploy() -> None:
    with pytest.raises(FireError, match="schedule s is not deployed: run `make deploy` first"):
        scheduler_target(MissingScheduler(), "s")
