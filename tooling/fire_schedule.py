"""Fire a deployed training schedule now, doing what EventBridge would do at its next tick.

The local emulator stores schedules and rules but never fires them. This does the firing, the way the
service does it, so the deployed wiring is what runs:

1. read the schedule (EventBridge Scheduler) or the rule's targets (EventBridge rule) as deployed;
2. refuse a disabled one, as the service would not fire it;
3. check that the target's role trusts the service and that its policies allow
   `sagemaker:StartPipelineExecution` on the target pipeline (AWS refuses otherwise; the emulator
   does not evaluate IAM, so this is where a broken grant shows up locally);
4. assume that role and start the pipeline with the target's parameters, as that role.

    python -m tooling.fire_schedule            # ENV's training schedule (or rule, per config)
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from building_blocks import perms
from emulator.policy.resource_policy import Caller, Decision, Request, evaluate
from platform_config import EnvironmentConfig, load
from platform_config.model import TRIGGERS
from tooling.aws_clients import client, require_emulator

START_ACTION = perms.PIPELINE_START_ACTIONS[0]
SCHEDULER = TRIGGERS[0]


class FireError(RuntimeError):
    """The schedule cannot fire: disabled, missing, or its role may not start the pipeline."""


@dataclass(frozen=True)
class PipelineTarget:
    """What a schedule or rule starts: the pipeline, the role it starts it as, with which parameters."""

    service: str  # the principal that assumes the role: scheduler.amazonaws.com or events.amazonaws.com
    pipeline_arn: str
    role_arn: str
    parameters: Mapping[str, str]

    @property
    def pipeline_name(self) -> str:
        return self.pipeline_arn.rsplit("/", 1)[-1]


def schedule_name(config: EnvironmentConfig) -> str:
    """The training schedule's (or rule's) name: stacks/training.py names it so."""
    return config.resource_name("training-schedule")


def _deployed_and_enabled(what: str, service: str, describe: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`describe()`'s answer for `what` (a schedule or rule); FireError when it is not deployed or not
    ENABLED, as `service` would not fire it."""
    try:
        described = describe()
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise FireError(f"{what} is not deployed: run `make deploy` first") from exc
        raise
    if described.get("State") != "ENABLED":
        raise FireError(f"{what} is {described.get('State')}: {service} would not fire it")
    return described


def scheduler_target(scheduler: Any, name: str, group: str = "default") -> PipelineTarget:
    """The SageMaker target of an EventBridge Scheduler schedule; FireError when disabled or not one."""
    schedule = _deployed_and_enabled(
        f"schedule {name}", "Scheduler", lambda: scheduler.get_schedule(Name=name, GroupName=group)
    )
    target = schedule["Target"]
    parameters = target.get("SageMakerPipelineParameters", {}).get("PipelineParameterList")
    if parameters is None:
        raise FireError(f"schedule {name} does not target a SageMaker pipeline ({target['Arn']})")
    return PipelineTarget(perms.SCHEDULER_SERVICE, target["Arn"], target["RoleArn"], _parameters(parameters))


def rule_target(events: Any, name: str) -> PipelineTarget:
    """The SageMaker target of an EventBridge rule; FireError when disabled or it has none."""
    _deployed_and_enabled(f"rule {name}", "EventBridge", lambda: events.describe_rule(Name=name))
    for target in events.list_targets_by_rule(Rule=name)["Targets"]:
        parameters = target.get("SageMakerPipelineParameters", {}).get("PipelineParameterList")
        if parameters is not None:
            return PipelineTarget(perms.EVENTS_SERVICE, target["Arn"], target["RoleArn"], _parameters(parameters))
    raise FireError(f"rule {name} has no SageMaker pipeline target")


def _parameters(listed: list[dict[str, str]]) -> dict[str, str]:
    return {parameter["Name"]: parameter["Value"] for parameter in listed}


def permission_problem(iam: Any, target: PipelineTarget, account_id: str) -> str | None:
    """Why AWS would refuse the service to start the pipeline as the target's role, or None."""
    role_name = target.role_arn.rsplit("/", 1)[-1]
    role = iam.get_role(RoleName=role_name)["Role"]
    trust = Request(
        action="sts:AssumeRole",
        resource=target.role_arn,
        caller=Caller(account_id=account_id, service=target.service),
        context={"aws:SourceAccount": [account_id]},
    )
    if evaluate(role["AssumeRolePolicyDocument"], trust) is not Decision.ALLOW:
        return f"role {role_name} does not trust {target.service} for account {account_id}"
    start = Request(action=START_ACTION, resource=target.pipeline_arn, caller=Caller(account_id=account_id))
    decisions = [
        evaluate(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"], start)
        for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    ]
    if Decision.DENY in decisions or Decision.ALLOW not in decisions:
        return f"role {role_name} may not {START_ACTION} on {target.pipeline_arn}"
    return None


def start_as_role(config: EnvironmentConfig, target: PipelineTarget) -> str:
    """Assume the target's role and start the pipeline with its parameters; returns the execution ARN."""
    credentials = client("sts", config).assume_role(
        RoleArn=target.role_arn, RoleSessionName=f"fire-{target.service.split('.')[0]}"
    )["Credentials"]
    sagemaker = boto3.client(
        "sagemaker",
        endpoint_url=config.emulator_url if config.is_local else None,
        region_name=config.region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    response = sagemaker.start_pipeline_execution(
        PipelineName=target.pipeline_name,
        PipelineParameters=[{"Name": name, "Value": value} for name, value in target.parameters.items()],
        ClientRequestToken=str(uuid.uuid4()),
    )
    return str(response["PipelineExecutionArn"])


def deployed_target(config: EnvironmentConfig) -> PipelineTarget:
    """The training trigger of `config` as deployed (a schedule or a rule, per training.trigger)."""
    name = schedule_name(config)
    if config.training.trigger == SCHEDULER:
        return scheduler_target(client("scheduler", config), name)
    return rule_target(client("events", config), name)


def fire(config: EnvironmentConfig) -> tuple[PipelineTarget, str]:
    """Fire the deployed training trigger; returns it and the execution ARN it started."""
    target = deployed_target(config)
    account_id = client("sts", config).get_caller_identity()["Account"]
    problem = permission_problem(client("iam", config), target, account_id)
    if problem:
        raise FireError(problem)
    return target, start_as_role(config, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    config = load()
    if not config.is_local:
        print("fire_schedule: only the local emulator needs firing; AWS fires the schedule itself", file=sys.stderr)
        return 2
    try:
        require_emulator(config)
        target, execution_arn = fire(config)
    except (RuntimeError, BotoCoreError, ClientError) as exc:  # FireError is a RuntimeError
        print(f"fire_schedule: {exc}", file=sys.stderr)
        return 1
    parameters = ", ".join(f"{name}={value}" for name, value in target.parameters.items())
    print(f"fired {schedule_name(config)}: started {execution_arn} ({parameters})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
