"""Step Functions: ValidateStateMachineDefinition, ListStateMachineVersions, execution, unnamed executions."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

PASS_MACHINE = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}
ROLE_ARN = "arn:aws:iam::123456789012:role/sfn-test"


def test_valid_definition_is_ok_without_diagnostics(aws: Callable[[str], Any]) -> None:
    result = aws("stepfunctions").validate_state_machine_definition(definition=json.dumps(PASS_MACHINE))
    assert result["result"] == "OK"
    assert result["diagnostics"] == []


@pytest.mark.parametrize(
    ("definition", "code"),
    [
        ("{not json", "INVALID_JSON_DESCRIPTION"),
        (json.dumps({"States": PASS_MACHINE["States"]}), "SCHEMA_VALIDATION_FAILED"),
        (json.dumps({"StartAt": "Missing", "States": PASS_MACHINE["States"]}), "SCHEMA_VALIDATION_FAILED"),
        (
            json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}),
            "SCHEMA_VALIDATION_FAILED",
        ),
        (json.dumps({"StartAt": "A", "States": {"A": {"Type": "Teleport", "End": True}}}), "SCHEMA_VALIDATION_FAILED"),
    ],
)
def test_invalid_definition_fails_with_a_diagnostic(aws: Callable[[str], Any], definition: str, code: str) -> None:
    result = aws("stepfunctions").validate_state_machine_definition(definition=definition)
    assert result["result"] == "FAIL"
    assert [d["code"] for d in result["diagnostics"]] == [code]
    assert result["diagnostics"][0]["severity"] == "ERROR"


def test_nested_parallel_branch_is_validated(aws: Callable[[str], Any]) -> None:
    broken_branch = {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "Gone"}}}
    machine = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [broken_branch], "End": True}}}
    result = aws("stepfunctions").validate_state_machine_definition(definition=json.dumps(machine))
    assert result["result"] == "FAIL"
    assert result["diagnostics"][0]["location"] == "/States/P/Branches/0/States/B/Next"


def test_list_versions_empty_then_lists_published(aws: Callable[[str], Any], name: Callable[[str], str]) -> None:
    sfn = aws("stepfunctions")
    plain = sfn.create_state_machine(name=name("sm"), definition=json.dumps(PASS_MACHINE), roleArn=ROLE_ARN)
    assert sfn.list_state_machine_versions(stateMachineArn=plain["stateMachineArn"])["stateMachineVersions"] == []

    published = sfn.create_state_machine(
        name=name("sm"), definition=json.dumps(PASS_MACHINE), roleArn=ROLE_ARN, publish=True
    )
    versions = sfn.list_state_machine_versions(stateMachineArn=published["stateMachineArn"])["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [published["stateMachineVersionArn"]]


def _finished(sfn: Any, execution_arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution did not finish"
        time.sleep(0.1)
    return dict(described)


def test_executions_really_run(aws: Callable[[str], Any], name: Callable[[str], str]) -> None:
    sfn = aws("stepfunctions")
    machine = sfn.create_state_machine(name=name("sm"), definition=json.dumps(PASS_MACHINE), roleArn=ROLE_ARN)
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=name("run"), input="{}")
    described = _finished(sfn, execution["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"ok": True}


def test_unnamed_executions_get_uuid_names_and_can_start_twice(
    aws: Callable[[str], Any], name: Callable[[str], str]
) -> None:
    sfn = aws("stepfunctions")
    machine_arn = sfn.create_state_machine(name=name("sm"), definition=json.dumps(PASS_MACHINE), roleArn=ROLE_ARN)[
        "stateMachineArn"
    ]
    first, second = (
        sfn.start_execution(stateMachineArn=machine_arn, input='{"prefix": "incoming/churn/"}')["executionArn"]
        for _ in range(2)
    )
    assert first != second
    for arn in (first, second):
        described = _finished(sfn, arn)
        assert described["status"] == "SUCCEEDED"
        assert uuid.UUID(described["name"]).version == 4
        assert arn.endswith(f":{described['name']}")
    listed = sfn.list_executions(stateMachineArn=machine_arn)["executions"]
    assert {execution["executionArn"] for execution in listed} == {first, second}


def test_a_named_start_is_still_idempotent_while_running(aws: Callable[[str], Any], name: Callable[[str], str]) -> None:
    waiting = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 2, "End": True}}}
    sfn = aws("stepfunctions")
    machine_arn = sfn.create_state_machine(name=name("sm"), definition=json.dumps(waiting), roleArn=ROLE_ARN)[
        "stateMachineArn"
    ]
    run = name("run")
    first = sfn.start_execution(stateMachineArn=machine_arn, name=run, input="{}")["executionArn"]
    again = sfn.start_execution(stateMachineArn=machine_arn, name=run, input="{}")["executionArn"]
    assert again == first
    assert first.endswith(f":{run}")
