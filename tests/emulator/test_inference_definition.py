"""The inference workflow's definition, exactly as the stack deploys it, run by the emulator's interpreter with
stand-in Lambdas: the step chain and its payloads, and the Catch path that publishes to SNS and fails with the
step's own error. (tests/integration/test_inference_flow.py runs it with the real functions.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from lambda_zip_support import create_function, run_execution, wait_for

from building_blocks.inference_definition import inference_definition

Aws = Callable[[str], Any]
Name = Callable[[str], str]
ROLE_ARN = "arn:aws:iam::123456789012:role/sfn-test"


def deploy(aws: Aws, name: Name, preprocess: str, predict: str) -> tuple[str, str]:
    """The workflow over app.<preprocess> and app.<predict>, its failure topic subscribed by a queue;
    returns (state machine ARN, queue URL)."""
    sns, sqs = aws("sns"), aws("sqs")
    key = aws("kms").create_key(Description="inference test")["KeyMetadata"]["Arn"]
    topic = sns.create_topic(Name=name("failures"), Attributes={"KmsMasterKeyId": key})["TopicArn"]
    queue = sqs.create_queue(QueueName=name("inbox"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    definition = inference_definition(
        preprocess_arn=create_function(aws, name, preprocess)["FunctionArn"],
        predict_arn=create_function(aws, name, predict)["FunctionArn"],
        failure_topic_arn=topic,
        retry_max_attempts=2,
    )
    machine = aws("stepfunctions").create_state_machine(
        name=name("inference"), definition=json.dumps(definition), roleArn=ROLE_ARN
    )
    return machine["stateMachineArn"], queue


def test_preprocess_gets_the_input_and_execution_name_and_predicts_result_is_the_output(aws: Aws, name: Name):
    machine, queue = deploy(aws, name, "echo", "echo")
    request = {"model": "churn", "input_uri": "s3://bucket/batches/b.csv"}
    execution = name("run")

    described = run_execution(aws("stepfunctions"), machine, execution, request)

    assert described["status"] == "SUCCEEDED", described
    predict_saw = json.loads(described["output"])["event"]
    # Predict's event is preprocess's result (OutputPath $.Payload), which echoed what preprocess was given.
    assert predict_saw["event"] == {"request": request, "execution_id": execution}
    assert aws("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", []) == []


def test_a_failing_step_is_published_to_the_topic_and_the_execution_fails_with_its_error(aws: Aws, name: Name):
    machine, queue = deploy(aws, name, "fail", "echo")
    request = {"model": "churn", "input_uri": "s3://bucket/batches/missing.csv"}

    described = run_execution(aws("stepfunctions"), machine, name("run"), request)

    assert described["status"] == "FAILED"
    # The Fail state takes the step's own error and cause (ErrorPath/CausePath), not a generic one.
    assert described["error"] == "ValueError"
    assert "boom" in described["cause"]
    messages = wait_for(lambda: aws("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"))
    notice = json.loads(messages[0]["Body"])
    assert notice["error"] == "ValueError"
    assert "boom" in notice["cause"]
    assert notice["execution_input"] == request
    assert notice["execution"] == described["executionArn"]


def test_an_input_that_is_not_an_object_still_reaches_the_topic_and_fails_with_the_steps_error(aws: Aws, name: Name):
    """A JSON string is a valid execution input; the catcher must not need an object to write into."""
    machine, queue = deploy(aws, name, "fail", "echo")

    described = run_execution(aws("stepfunctions"), machine, name("run"), "s3://bucket/batches/b.csv")  # type: ignore[arg-type]

    assert (described["status"], described["error"]) == ("FAILED", "ValueError")
    messages = wait_for(lambda: aws("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"))
    assert json.loads(messages[0]["Body"])["execution_input"] == "s3://bucket/batches/b.csv"


def test_a_notification_that_cannot_be_sent_still_fails_the_execution_with_the_steps_error(aws: Aws, name: Name):
    machine, _ = deploy(aws, name, "fail", "echo")
    definition = json.loads(aws("stepfunctions").describe_state_machine(stateMachineArn=machine)["definition"])
    definition["States"]["NotifyFailure"]["Parameters"]["TopicArn"] = "arn:aws:sns:us-east-1:123456789012:gone"
    definition["States"]["NotifyFailure"]["Retry"] = []
    broken = aws("stepfunctions").create_state_machine(
        name=name("inference"), definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]

    described = run_execution(aws("stepfunctions"), broken, name("run"), {"model": "churn"})

    assert (described["status"], described["error"]) == ("FAILED", "ValueError")


def test_a_failing_second_step_is_caught_the_same_way(aws: Aws, name: Name):
    machine, queue = deploy(aws, name, "echo", "fail")

    described = run_execution(aws("stepfunctions"), machine, name("run"), {"model": "churn"})

    assert (described["status"], described["error"]) == ("FAILED", "ValueError")
    messages = wait_for(lambda: aws("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"))
    assert json.loads(messages[0]["Body"])["error"] == "ValueError"
