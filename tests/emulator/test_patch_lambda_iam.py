"""Lambda DeadLetterConfig round-trips; AWS managed IAM policies exist."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def handler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture
def role_arn(aws: Callable[[str], Any], name: Callable[[str], str]) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = aws("iam").create_role(RoleName=name("role"), AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


def test_dead_letter_config_is_read_back_and_cleared(
    aws: Callable[[str], Any], name: Callable[[str], str], role_arn: str
) -> None:
    lam, sqs = aws("lambda"), aws("sqs")
    queue_url = sqs.create_queue(QueueName=name("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    function = name("fn")
    created = lam.create_function(
        FunctionName=function,
        Runtime="python3.11",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": handler_zip()},
        DeadLetterConfig={"TargetArn": dlq_arn},
    )
    assert created["DeadLetterConfig"] == {"TargetArn": dlq_arn}
    assert lam.get_function(FunctionName=function)["Configuration"]["DeadLetterConfig"] == {"TargetArn": dlq_arn}
    assert lam.get_function_configuration(FunctionName=function)["DeadLetterConfig"] == {"TargetArn": dlq_arn}

    lam.update_function_configuration(FunctionName=function, DeadLetterConfig={"TargetArn": ""})
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName=function)


def test_aws_managed_policy_exists_and_attaches(
    aws: Callable[[str], Any], name: Callable[[str], str], role_arn: str
) -> None:
    iam = aws("iam")
    policy = iam.get_policy(PolicyArn=BASIC_EXECUTION)["Policy"]
    assert policy["PolicyName"] == "AWSLambdaBasicExecutionRole"
    role_name = role_arn.rsplit("/", 1)[-1]
    iam.attach_role_policy(RoleName=role_name, PolicyArn=BASIC_EXECUTION)
    attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [BASIC_EXECUTION]
