"""LambdaFunction and StateMachine share one execution-role kit; the state machine construct stands on its
own (the inference stack builds on it): logging ALL, tracing, invoke grants scoped to the functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from building_blocks import perms
from building_blocks.iam import ServiceRole
from building_blocks.kms_key import KmsKey
from building_blocks.lambda_function import LambdaFunction, LambdaFunctionProps
from building_blocks.state_machine import StateMachine, StateMachineProps
from tests.conftest import at_path, inline_policies, synth_stack

PASS_THROUGH = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}


def function(stack: Any, key: KmsKey, name: str) -> LambdaFunction:
    return LambdaFunction(
        stack,
        name,
        LambdaFunctionProps(
            function_name=f"team-{name}",
            package="data_processor",
            handler="data_processor.handler.handler",
            encryption_key=key,
            log_retention_days=30,
            reserved_concurrency=1,
        ),
    )


def machine(stack: Any, key: KmsKey, invokes: tuple[LambdaFunction, ...] = ()) -> StateMachine:
    props = StateMachineProps(
        state_machine_name="team-flow",
        definition=PASS_THROUGH,
        encryption_key=key,
        log_retention_days=30,
        invokes=invokes,
    )
    return StateMachine(stack, "flow", props)


def policies_of(terraform: dict[str, Any], owner: str, role_path: str = "role/role") -> dict[str, dict[str, Any]]:
    """Inline policies of the role at `<owner>/<role_path>` (a construct's execution role by default)."""
    return inline_policies(terraform, f"{owner}/{role_path}")


@pytest.fixture
def key(stack_for_constructs: Any) -> KmsKey:
    return KmsKey(stack_for_constructs, "key", alias_name="team", description="test")


def test_function_and_state_machine_get_the_same_kit_with_their_services_log_and_trace_actions(
    stack_for_constructs: Any, key: KmsKey
) -> None:
    function(stack_for_constructs, key, "worker")
    machine(stack_for_constructs, key)
    terraform = synth_stack(stack_for_constructs)
    for owner, service, group_name, log_actions, log_resource, tracing in (
        (
            "worker",
            "lambda.amazonaws.com",
            "/aws/lambda/team-worker",
            perms.LOG_STREAM_WRITE_ACTIONS,
            [at_path(terraform, "worker/logs").ref("arn") + ":*"],
            perms.LAMBDA_TRACING_ACTIONS,
        ),
        (
            "flow",
            "states.amazonaws.com",
            "/aws/vendedlogs/states/team-flow",
            perms.LOG_DELIVERY_ACTIONS,
            ["*"],
            perms.STATE_MACHINE_TRACING_ACTIONS,
        ),
    ):
        group = at_path(terraform, f"{owner}/logs").body
        assert (group["name"], group["retention_in_days"]) == (group_name, 30)
        assert group["kms_key_id"] == at_path(terraform, "key/key").ref("arn")
        trust = json.loads(at_path(terraform, f"{owner}/role/role").body["assume_role_policy"])["Statement"][0]
        assert trust["Principal"] == {"Service": [service]}
        assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
        policies = policies_of(terraform, owner)
        assert policies["logs"]["WriteLogs"]["Action"] == list(log_actions)
        assert policies["logs"]["WriteLogs"]["Resource"] == log_resource
        assert policies["tracing"]["WriteTraces"]["Action"] == list(tracing)


def test_state_machine_logs_everything_encrypted_and_traces(stack_for_constructs: Any, key: KmsKey) -> None:
    machine(stack_for_constructs, key)
    terraform = synth_stack(stack_for_constructs)
    body = at_path(terraform, "flow/state-machine").body
    assert body["type"] == "STANDARD"
    assert json.loads(body["definition"]) == PASS_THROUGH
    assert body["logging_configuration"] == {
        "include_execution_data": True,
        "level": "ALL",
        "log_destination": at_path(terraform, "flow/logs").ref("arn") + ":*",
    }
    assert body["tracing_configuration"] == {"enabled": True}
    # AWS checks the log-delivery permission when the state machine is created.
    assert at_path(terraform, "flow/role/policy-logs").address in body["depends_on"]


def test_state_machine_may_invoke_exactly_its_functions(stack_for_constructs: Any, key: KmsKey) -> None:
    first, second = (function(stack_for_constructs, key, name) for name in ("preprocess", "predict"))
    machine(stack_for_constructs, key, invokes=(first, second))
    terraform = synth_stack(stack_for_constructs)
    invoke = policies_of(terraform, "flow")["invoke-functions"]["InvokeFunctions"]
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    arns = [at_path(terraform, f"{name}/function").ref("arn") for name in ("preprocess", "predict")]
    assert invoke["Resource"] == [arns[0], f"{arns[0]}:*", arns[1], f"{arns[1]}:*"]


def test_a_state_machine_without_tasks_gets_no_invoke_policy(stack_for_constructs: Any, key: KmsKey) -> None:
    machine(stack_for_constructs, key)
    assert set(policies_of(synth_stack(stack_for_constructs), "flow")) == {"logs", "tracing"}


def test_grant_start_execution_names_only_this_state_machine_and_returns_the_policy(
    stack_for_constructs: Any, key: KmsKey
) -> None:
    flow = machine(stack_for_constructs, key)
    scheduler = ServiceRole(
        stack_for_constructs, "scheduler", role_name="team-scheduler", service="scheduler.amazonaws.com"
    )
    grant = flow.grant_start_execution(scheduler, "start-flow")
    terraform = synth_stack(stack_for_constructs)
    statement = policies_of(terraform, "scheduler", "role")["start-flow"]["StartExecution"]
    assert statement["Action"] == ["states:StartExecution"]
    assert statement["Resource"] == [at_path(terraform, "flow/state-machine").ref("arn")]
    assert grant.policy_name == "start-flow" and grant.policy.node.path.endswith("scheduler/policy-start-flow")


def test_child_executions_are_scoped_to_the_machines_own_arn(stack_for_constructs: Any, key: KmsKey) -> None:
    flow = machine(stack_for_constructs, key)
    flow.allow_child_executions()
    statements = policies_of(synth_stack(stack_for_constructs), "flow")["child-executions"]
    assert statements["StartChildExecutions"]["Resource"][0].endswith(":stateMachine:team-flow")
    assert [r.rsplit(":", 2)[-2:] for r in statements["ManageChildExecutions"]["Resource"]] == [
        ["execution", "team-flow/*"],
        ["team-flow", "*"],
    ]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"type": "FAST"}, "type 'FAST' must be one of STANDARD, EXPRESS"),
        ({"definition": {"States": {}}}, "definition needs StartAt and States"),
    ],
)
def test_state_machine_props_are_validated(key: KmsKey, change: dict[str, Any], message: str) -> None:
    base = {"state_machine_name": "team-flow", "definition": PASS_THROUGH, "encryption_key": key,
            "log_retention_days": 30}  # fmt: skip
    with pytest.raises(ValueError, match=message):
        StateMachineProps(**{**base, **change})
